"""A real keymgr process, booted as the parent boots it: it serves key
material and, holding the private keys, has loaded nothing of the serving
side (worker, HTTP, websockets) or of the app APIs."""

import json
import os
import pickle
import socket
import subprocess
import sys

from korepyd import config
from korepyd.ipc import KEYMGR, PARENT, Decoder, Message, MsgId, encode
from korepyd.ipc.boot import Boot
from korepyd.ipc.keymaterial import Certificate
from tests.tlscerts import write_self_signed

# Runs keymgr's main() and, once it has returned, prints the modules it loaded.
WRAPPER = """
import json, sys
from korepyd.keymgr import main
code = main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def receive(sock: socket.socket, decoder: Decoder) -> Message:
    while (msg := decoder.next_message()) is None:
        data = sock.recv(65536)
        assert data, "keymgr closed its IPC socket"
        decoder.receive_data(data)
    return msg


def test_keymgr_serves_material_and_loads_no_serving_module(tmp_path):
    write_self_signed(tmp_path, "site", "site.test")
    loaded = config.loads(
        "server tls {\n bind 127.0.0.1 8443\n}\n"
        "acme_provider https://127.0.0.1:9/directory\n"
        "domain site.test {\n attach tls\n certfile site.pem\n certkey site.key\n route / {\n  handler x\n }\n}\n"
        "domain acme.test {\n attach tls\n acme yes\n route / {\n  handler x\n }\n}\n", check_files=False)
    boot = Boot(worker_id=KEYMGR, generation=1, config=loaded.config, listeners=(), cwd=str(tmp_path),
                skip_chroot=True, skip_runas=True, quiet=True)
    parent, child = socket.socketpair()
    process = subprocess.Popen([sys.executable, "-c", WRAPPER, "--ipc", str(child.fileno())],
                               pass_fds=[child.fileno()], stdout=subprocess.PIPE, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": os.getcwd()})
    child.close()
    try:
        parent.settimeout(30)
        parent.sendall(encode(Message(MsgId.BOOT, PARENT, KEYMGR, pickle.dumps(boot))))
        decoder = Decoder()
        assert receive(parent, decoder).id == MsgId.READY
        parent.sendall(encode(Message(MsgId.CERTIFICATE_REQ, 1, KEYMGR)))
        domains = set()
        while len(domains) < 2:
            msg = receive(parent, decoder)
            if msg.id == MsgId.CERTIFICATE:
                domains.add(Certificate.decode(msg.payload).domain)
        assert domains == {"site.test", "acme.test"}
        parent.sendall(encode(Message(MsgId.STOP, PARENT, KEYMGR)))
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
        parent.close()
    assert process.returncode == 0
    modules = json.loads(out.decode().splitlines()[-1])
    assert "korepyd.keymgr.acme" in modules and "korepyd.acme.client" in modules  # it did start ACME
    packages = {m.split(".")[1] for m in modules if m.startswith("korepyd.")}
    assert not packages & {"worker", "core", "http1", "websocket", "kore", "app"}, sorted(packages)
