"""multipart/form-data parsing (pure)."""

from korepyd.core.multipart import Part, boundary, parse

BODY = (b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"hello\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\x00\x01\r\n--not-the-boundary\r\n"
        b"--XyZ--\r\n")


def test_fields_and_files():
    assert parse(BODY, "XyZ") == [
        Part("title", None, None, b"hello"),
        Part("upload", "a.bin", "application/octet-stream", b"\x00\x01\r\n--not-the-boundary"),
    ]


def test_boundary_from_content_type():
    assert boundary('multipart/form-data; boundary="XyZ"') == "XyZ"
    assert boundary("multipart/form-data; boundary=XyZ; charset=utf-8") == "XyZ"
    assert boundary("multipart/form-data; boundary=" + "x" * 73) is None
    assert boundary("application/x-www-form-urlencoded") is None


def test_malformed_bodies_give_nothing():
    assert parse(BODY[:-5], "XyZ") == []
    assert parse(BODY.replace(b'name="title"', b"nameless"), "XyZ") == []
    assert parse(b"garbage", "XyZ") == []
