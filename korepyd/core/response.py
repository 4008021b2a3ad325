"""What the request core puts in responses whatever the wire protocol:
dates (Date, Last-Modified) and Kore's http_pretty_error page. Layer:
request core; the HTTP/1.1 head itself is korepyd.http1.response.
"""

from __future__ import annotations

import time

from korepyd.http1.response import reason

_DAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")


def http_date(when: float) -> bytes:
    """An IMF-fixdate (RFC 9110 5.6.7), as Date and Last-Modified want it."""
    t = time.gmtime(when)
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (_DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year,
                                                     t.tm_hour, t.tm_min, t.tm_sec)


_LAST_MODIFIED: dict[float, str] = {}   # last_modified()'s answers: a site's files have few distinct times
_LAST_MODIFIED_MAX = 4096


def last_modified(mtime: float) -> str:
    """http_date(mtime) as text, for Last-Modified: formatted once per time."""
    text = _LAST_MODIFIED.get(mtime)
    if text is None:
        if len(_LAST_MODIFIED) >= _LAST_MODIFIED_MAX:
            _LAST_MODIFIED.clear()
        text = _LAST_MODIFIED[mtime] = http_date(mtime).decode()
    return text


def pretty_error(status: int) -> bytes:
    """Kore's http_pretty_error page for a status."""
    text = f"{status} {reason(status).decode()}"
    return f"<html>\n<head>\n\t<title>{text}</title></head>\n<body>\n\t<h1>{text}</h1>\n</body>\n</html>\n".encode()
