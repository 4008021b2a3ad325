"""multipart/form-data bodies (Kore: http_populate_multipart_form() and
multipart_parse_headers() in src/http.c), parsed from bytes.

Each part has a Content-Disposition with a `name`; a part with a non-empty
`filename` is a file, any other part a form field. A boundary longer than
Kore's 70 (+2) characters, a part without a name or a body that does not
follow the format gives no fields at all, never an exception.

Layer: request core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BOUNDARY = 72
_PARAM = re.compile(r';\s*([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^;]*))')


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def boundary(content_type: str | None) -> str | None:
    """The boundary of a multipart/form-data Content-Type, if valid."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    params = _params(content_type)
    value = params.get("boundary")
    return value if value and len(value) <= MAX_BOUNDARY else None


def parse(body: bytes, bound: str) -> list[Part]:
    delimiter = b"--" + bound.encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        return []
    parts = []
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            return []
        head, sep, data = piece[2:-2].partition(b"\r\n\r\n")
        if not sep:
            return []
        part = _part(head.decode("utf-8", "replace"), data)
        if part is None:
            return []
        parts.append(part)
    return parts


def _part(head: str, data: bytes) -> Part | None:
    headers = {}
    for line in head.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    if not disposition.lower().startswith("form-data"):
        return None
    params = _params(disposition)
    if not params.get("name"):
        return None
    return Part(params["name"], params.get("filename") or None, headers.get("content-type"), data)


def _params(header: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3).strip()
            for m in _PARAM.finditer(header)}
