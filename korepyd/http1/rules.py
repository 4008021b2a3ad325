"""korepyd's own rules for HTTP/1.1 requests, beyond h11's grammar (reference:
reliability.md, section 2). Layer: wire (http1), sans-IO.

What is refused, each with one error response and the connection closed:

- a request head larger than http_header_max, whether it arrives in many
  reads or in one (h11 only limits the former): 431; a request target
  longer than that: 414; more than MAX_HEADERS headers: 431;
- Content-Length together with Transfer-Encoding, Transfer-Encoding in an
  HTTP/1.0 request, two Content-Length headers, folded (obs-fold) header
  lines, a request target that is not `/path`, `http(s)://...` or `*`
  (OPTIONS only), a malformed chunk line (chunks.py): 400;
- an HTTP version other than 1.0 and 1.1: 505;
- a body larger than http_body_max, announced or sent: 413, before the body
  is read when it is announced;
- a body method (POST, PUT, PATCH) without Content-Length or chunked
  Transfer-Encoding: 411, as Kore does; any body while http_body_max is 0:
  405, as Kore does.

Everything else malformed is refused by h11's grammar (400), which the
engine (connection.py) applies itself or, for the heads its readers leave
to h11, through h11.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from korepyd.http1.events import RequestHead

MAX_HEADERS = 64
BODY_METHODS = (b"POST", b"PUT", b"PATCH")
CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:([^\r\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    header_max: int = 4096
    body_max: int = 1024000


def wants_keep_alive(head: RequestHead) -> bool:
    """HTTP/1.1 without `Connection: close` (HTTP/1.0 always closes, as in Kore)."""
    return head.http_version == b"1.1" and "close" not in (head.header("connection") or "").lower()


def broken_rule(method: bytes, target: bytes, version: bytes, header_count: int, lengths: list, encodings: list,
            limits: Limits) -> tuple[int, str] | None:
    """korepyd's rules for a request head h11 accepted (the module
    docstring's list), in order: the status and reason of the first one
    broken, or None. `lengths` and `encodings` are the values of the
    Content-Length and Transfer-Encoding headers."""
    if version not in (b"1.0", b"1.1"):
        return 505, f"HTTP version {version.decode('ascii', 'replace')} not supported"
    if header_count > MAX_HEADERS:
        return 431, f"more than {MAX_HEADERS} headers"
    if lengths and encodings:
        return 400, "both Content-Length and Transfer-Encoding"
    if encodings and version == b"1.0":
        return 400, "Transfer-Encoding in an HTTP/1.0 request"
    if not _valid_target(method, target):
        return 400, "request target is not /path, an absolute URL or *"
    length = int(lengths[0]) if lengths else None
    if (encodings or length) and limits.body_max == 0:
        return 405, "http_body_max is 0: no request may have a body"
    if length is not None and length > limits.body_max:
        return 413, "Content-Length larger than http_body_max"
    if method in BODY_METHODS and length is None and not encodings:
        return 411, "a body method without Content-Length"
    return None


def split_target(text: str) -> tuple[str, str]:
    """The path and the query string of a request target (of an absolute
    URL: the path in it)."""
    path, _, query = text.partition("?")
    if path[:1] != "/":  # (a one-character slice is a cached string: cheaper than startswith)
        path = "/" + path.split("://", 1)[-1].partition("/")[2] if "://" in path else path
    return path, query


def _valid_target(method: bytes, target: bytes) -> bool:
    if target[:1] == b"/":
        return True
    if target == b"*":
        return method == b"OPTIONS"
    return target.startswith((b"http://", b"https://"))
