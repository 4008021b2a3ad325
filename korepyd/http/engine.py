"""Which HTTP/1.1 connection class a worker uses.

FastHttpConnection (llhttp through httptools) when httptools is installed,
else HttpConnection (h11), the reference both are tested against
(tests/http/test_differential.py). KOREPYD_HTTP_PARSER=h11 in the
environment forces the reference, to rule the fast path out when
hunting a bug.
"""

from __future__ import annotations

import os

from korepyd.http.connection import HttpConnection


def connection_class() -> type:
    if os.environ.get("KOREPYD_HTTP_PARSER", "").lower() == "h11":
        return HttpConnection
    try:
        from korepyd.http.fastconnection import FastHttpConnection
    except ImportError:
        return HttpConnection
    return FastHttpConnection
