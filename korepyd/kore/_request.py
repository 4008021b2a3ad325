"""`req`, the request object handed to Kore handlers (Kore: the
pyhttp_request type of src/python.c, API in reference section 1.7.1).

It records what the handler asks for (status, headers, body) and the
worker sends it once the handler is done. Departures from Kore, on purpose:
`agent` is the User-Agent (Kore returns the path), a second response() is
ignored and logged instead of writing a second response, populate_post()
leaves `body` intact, a str body is sent in one piece, and body_read() and
http_file.read() take any length (Kore: at most 1024).

Layer: app API (kore).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from korepyd.core import multipart, params
from korepyd.kore import _constants as C

METHOD_BITS = {"get": C.HTTP_METHOD_GET, "post": C.HTTP_METHOD_POST, "put": C.HTTP_METHOD_PUT,
               "delete": C.HTTP_METHOD_DELETE, "head": C.HTTP_METHOD_HEAD, "options": C.HTTP_METHOD_OPTIONS,
               "patch": C.HTTP_METHOD_PATCH}
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_VALID_NAMES: set[str] = set()   # response header names found valid (an app sets the same few)
_VALID_NAMES_MAX = 1024


class HttpRequest:
    """One HTTP request, as a Kore app sees it (an app may hang its own
    attributes on it: it keeps a __dict__)."""

    __slots__ = ("__dict__", "_method", "_path", "_query", "_headers", "_body", "_body_path", "_body_offset", "_files",
                 "_connection", "websocket", "_tls", "_route", "_check", "_arguments", "_cookies", "status",
                 "response_headers", "response_body", "warnings")

    def __init__(self, *, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes,
                 tls: bool, route=None, check: Callable[[str, object, object], bool] | None = None,
                 connection=None):
        self._method = method                  # lower case
        self._path = path
        self._query = query
        self._headers = headers                # (lower-cased name, value) in arrival order
        self._body = body
        self._body_path: str | None = None     # set when the body was offloaded to a file
        self._body_offset = 0
        self._files: list[HttpFile] = []
        self._connection = connection
        self.websocket = None   # the callbacks, once websocket_handshake() was called
        self._tls = tls
        self._route = route
        self._check = check
        self._arguments: list[tuple[str, str]] = []
        self._cookies: list[tuple[str, str]] = []
        self.status: int | None = None
        self.response_headers: list[tuple[str, str]] = []
        self.response_body: bytes | None = None
        self.warnings: list[str] = []

    # -- read-only attributes ------------------------------------------------

    @property
    def host(self) -> str:
        return self.request_header("host") or ""

    @property
    def path(self) -> str:
        return self._path

    @property
    def method(self) -> int:
        return METHOD_BITS.get(self._method, 0)

    @property
    def protocol(self) -> str:
        return "https" if self._tls else "http"

    @property
    def agent(self) -> str | None:
        return self.request_header("user-agent")

    @property
    def body(self) -> bytes:
        if self._body_path is not None:
            with open(self._body_path, "rb") as f:
                return f.read()
        return self._body

    @property
    def body_path(self) -> str | None:
        return self._body_path

    @property
    def body_digest(self) -> bytes:
        body = self.body
        return hashlib.sha256(body).digest() if body else bytes(32)

    def body_read(self, length: int) -> tuple[int, bytes]:
        """The next `length` bytes of the body: (count, data); (0, b"") at the end."""
        if length < 0:
            raise ValueError("length must not be negative")
        if self._body_path is not None:
            with open(self._body_path, "rb") as f:
                f.seek(self._body_offset)
                data = f.read(length)
        else:
            data = self._body[self._body_offset:self._body_offset + length]
        self._body_offset += len(data)
        return len(data), data

    @property
    def connection(self):
        return self._connection

    # -- headers ---------------------------------------------------------------

    def request_header(self, name: str) -> str | None:
        name = name.lower()
        found = [v for n, v in self._headers if n == name]
        return found[-1] if found else None

    def headers(self) -> dict[str, str]:
        return dict(self._headers)

    def response_header(self, name: str, value: str) -> bool:
        """Set a response header, replacing one of the same name (any case)."""
        if type(name) is not str or name not in _VALID_NAMES:
            _check_name(name)
        value = value if type(value) is str else str(value)
        if "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"header {name} has a CR, LF or NUL in its value")
        if self.response_headers:
            lower = name.lower()
            self.response_headers = [(n, v) for n, v in self.response_headers if n.lower() != lower]
        self.response_headers.append((name, value))
        return True

    # -- the response ----------------------------------------------------------

    def response(self, status: int, body=None) -> bool:
        """Record the response; the worker sends it when the handler returns."""
        if not isinstance(status, int) or not 100 <= status <= 999:
            raise ValueError(f"invalid status code {status!r}")
        if self.status is not None:
            self.warnings.append(f"second response ({status}) ignored: the handler already answered {self.status}")
            return False
        self.status = status
        self.response_body = _body_bytes(body)
        return True

    def websocket_handshake(self, onconnect, onmessage, ondisconnect) -> bool:
        """Turn this request into a websocket once the handler returns; the
        callbacks are callables (Kore 4.x) or names (Kore 3.x)."""
        self.websocket = (onconnect, onmessage, ondisconnect)
        return True

    def pgsql(self, db: str, query: str):
        """Kore 3.x: the result of `query` on database `db` (an awaitable)."""
        from korepyd.kore._pgsql import dbquery

        return dbquery(db, query)

    # -- parameters ------------------------------------------------------------

    def populate_get(self) -> bool:
        self._add_arguments(params.parse_pairs(self._query), from_qs=True)
        return True

    populate_qs = populate_get

    def populate_post(self) -> bool:
        if self._method == "post":  # Kore parses bodies of POST only
            text = self._body.decode("utf-8", errors="replace")
            self._add_arguments(params.parse_pairs(text), from_qs=False)
        return True

    def populate_multi(self) -> bool:
        """Fields of a multipart/form-data POST body become arguments (through
        the route's validators); parts with a filename become files."""
        bound = multipart.boundary(self.request_header("content-type"))
        if self._method != "post" or bound is None:
            return True
        parts = multipart.parse(self.body, bound)
        self._files = [HttpFile(p.name, p.filename, p.data) for p in parts if p.filename]
        fields = [(p.name, p.data.decode("utf-8", "replace")) for p in parts if not p.filename]
        self._add_arguments(fields, from_qs=False)
        return True

    populate_multipart = populate_multi

    def file_lookup(self, name: str) -> HttpFile | None:
        for file in self._files:
            if file.name == name:
                return file
        return None

    def populate_cookies(self) -> bool:
        self._cookies = params.parse_cookies(self.request_header("cookie") or "")
        return True

    def argument(self, name: str) -> str | None:
        return _first(self._arguments, name)

    def cookie(self, name: str) -> str | None:
        return _first([(n.lower(), v) for n, v in self._cookies], name.lower())

    def _add_arguments(self, pairs: list[tuple[str, str]], *, from_qs: bool) -> None:
        if self._check is None or not pairs:
            return
        rules = getattr(self._route, "params", ())
        self._arguments += params.filter_params(pairs, rules, self._method, from_qs, self._check, self)


class HttpFile:
    """kore.http_file: a file from a multipart form."""

    def __init__(self, name: str, filename: str, data: bytes):
        self.name = name
        self.filename = filename
        self._data = data
        self._offset = 0

    def read(self, length: int) -> tuple[int, bytes]:
        data = self._data[self._offset:self._offset + max(0, length)]
        self._offset += len(data)
        return len(data), data


def _check_name(name) -> None:
    """Raise ValueError unless `name` is a header name (a token); remember it if it is."""
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ValueError(f"invalid header name {name!r}")
    if len(_VALID_NAMES) >= _VALID_NAMES_MAX:
        _VALID_NAMES.clear()
    _VALID_NAMES.add(name)


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    """The value of the first pair named `name`. A loop, not next() over a
    generator: compiled, a generator left unfinished costs a traceback."""
    for n, v in pairs:
        if n == name:
            return v
    return None


def _body_bytes(body) -> bytes:
    """Kore's body forms: bytes, None, or an iterable of str chunks."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    try:
        chunks = list(body)
    except TypeError:
        raise TypeError(f"response body must be bytes, str, None or an iterable of str, not "
                        f"{type(body).__name__}") from None
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in chunks)
