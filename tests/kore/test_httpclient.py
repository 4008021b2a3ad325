"""kore.httpclient's failures, in-process against real sockets: every one
says what went wrong after "failed:", never nothing."""

import ssl
from functools import partial

import pytest
import trio

from korepyd import kore
from tests.tlscerts import self_signed


async def _tls_server(nursery, cert_pem: bytes, key_pem: bytes, tmp_path) -> int:
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    async def handle(stream):
        try:
            await stream.do_handshake()
            await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        except trio.BrokenResourceError:
            pass  # the client refused our certificate
        finally:
            await trio.aclose_forcefully(stream)

    listeners = await nursery.start(partial(trio.serve_ssl_over_tcp, handle, 0, context, host="127.0.0.1"))
    return listeners[0].transport_listener.socket.getsockname()[1]


async def _failure(url: str, **options) -> str:
    with pytest.raises(RuntimeError) as caught:
        await kore.httpclient(url, **options).get()
    message = str(caught.value)
    assert message.startswith(f"request to '{url}' failed: ")
    return message.split(" failed: ", 1)[1]


async def test_an_untrusted_certificate_names_the_check_that_failed(tmp_path):
    async with trio.open_nursery() as nursery:
        port = await _tls_server(nursery, *self_signed("localhost"), tmp_path)
        cause = await _failure(f"https://localhost:{port}/")
        assert "certificate verify failed: self-signed certificate" in cause
        trusted = await kore.httpclient(f"https://localhost:{port}/", cabundle=str(tmp_path / "cert.pem")).get()
        assert trusted == (200, b"ok")
        cause = await _failure(f"https://127.0.0.1:{port}/", cabundle=str(tmp_path / "cert.pem"))
        assert "IP address mismatch" in cause
        nursery.cancel_scope.cancel()


async def test_refused_and_unreadable_bundles_name_their_cause(tmp_path):
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    assert "cannot connect to 127.0.0.1 port" in await _failure(f"http://127.0.0.1:{port}/")
    assert "No such file or directory" in await _failure("https://localhost:1/", cabundle=str(tmp_path / "none.pem"))
