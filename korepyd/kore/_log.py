"""kore.log, with Kore's levels: LOG_ERR, LOG_NOTICE, LOG_INFO.

Layer: app API (kore).
"""

from korepyd import log as _korepyd_log
from korepyd.kore._constants import LOG_ERR, LOG_NOTICE


def log(level: int, message: str) -> None:
    """Log `message` on this process's line (Kore: python_kore_log())."""
    text = str(message)
    if level == LOG_ERR:
        _korepyd_log.error(text)
    elif level == LOG_NOTICE:
        _korepyd_log.warning(text)
    else:
        _korepyd_log.info(text)
