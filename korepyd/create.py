"""`korepyd create NAME`: a new app directory that serves at once (Kore:
`kodev create -p`).

    NAME/__init__.py   the package: `korepyd NAME` imports it
    NAME/app.py        the handlers, and configure() naming kore.conf
    NAME/kore.conf     HTTPS on 127.0.0.1:8888, one route
    NAME/cert/         a self-signed certificate for localhost (development only)
    NAME/.gitignore

Nothing is overwritten: an existing NAME is an error.

Layer: command line (korepyd create).
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import sys
from pathlib import Path

from korepyd.errors import ExitCode

PORT = 8888

INIT = '''"""{name}: a korepyd (Kore 4.x style) app. Serve it with `korepyd {name}`."""

from .app import koreapp  # noqa: F401
'''

APP = '''"""{name}'s handlers. kore.conf (read by configure()) says which URL runs which."""

import kore


class App:
    def configure(self, args):
        kore.config.file = "kore.conf"

    async def index(self, req):
        req.response_header("content-type", "text/plain; charset=utf-8")
        req.response(200, b"Hello from {name}.\\n")


koreapp = App()
'''

CONF = """# {name}: HTTPS on 127.0.0.1:{port} with the development certificate in cert/.
# For a public site: bind your address on port 443, and replace certfile and
# certkey by `acme yes` to get a certificate from Let's Encrypt (see kore.conf(5)).

server tls {{
    bind 127.0.0.1 {port}
}}

workers 1
deployment dev

domain * {{
    attach tls
    certfile cert/server.pem
    certkey cert/key.pem

    route / {{
        handler koreapp.index
        methods get
    }}
}}
"""

GITIGNORE = "cert/\nkore.pid\n__pycache__/\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="korepyd create", description="Create a new app directory.")
    parser.add_argument("name", help="the app's directory and Python package name")
    name = parser.parse_args(argv).name
    target = Path(name)
    if not target.name.isidentifier():
        print(f"korepyd create: '{target.name}' is not a Python package name (letters, digits and _; "
              "no digit first)", file=sys.stderr)
        return ExitCode.USAGE
    if target.name in sys.stdlib_module_names or target.name in ("kore", "korepyd"):
        print(f"korepyd create: '{target.name}' is the name of a module Python already has, which the app's "
              "package would hide or be hidden by; choose another name", file=sys.stderr)
        return ExitCode.USAGE
    try:
        create(target)
    except FileExistsError:
        print(f"korepyd create: {name} already exists; choose another name", file=sys.stderr)
        return ExitCode.USAGE
    except OSError as exc:
        print(f"korepyd create: cannot create {exc.filename or name}: {exc.strerror}", file=sys.stderr)
        return ExitCode.USAGE
    print(f"created {name}/: app.py, kore.conf, and cert/ (a self-signed certificate for localhost)\n"
          f"serve it:  korepyd {name}\n"
          f"then open: https://127.0.0.1:{PORT}/  (the browser warns: the certificate is self-signed)")
    return ExitCode.OK


def create(target: Path) -> None:
    target.mkdir()
    values = {"name": target.name, "port": PORT}
    (target / "__init__.py").write_text(INIT.format(**values))
    (target / "app.py").write_text(APP.format(**values))
    (target / "kore.conf").write_text(CONF.format(**values))
    (target / ".gitignore").write_text(GITIGNORE)
    (target / "cert").mkdir(mode=0o700)
    cert, key = development_certificate(target.name)
    (target / "cert" / "server.pem").write_bytes(cert)
    fd = os.open(target / "cert" / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as file:
        file.write(key)


def development_certificate(name: str, days: int = 3000) -> tuple[bytes, bytes]:
    """A self-signed certificate for localhost and 127.0.0.1 (as kodev's, for
    development only) and its key, PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"korepyd development: {name}"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
             x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
