"""The `kore` module Kore apps import: korepyd's compatibility facade.

korepyd.app installs this package as sys.modules["kore"] before it imports
an application, so `import kore` works only inside korepyd processes, as in
Kore. Every name is re-exported from an underscore module; this file holds
no logic. So far: Kore's constants, the configuration API of Kore 4.x
apps (kore.config, server, domain, route, privsep), the coroutine runtime
(suspend, task_*, timer, lock, queue, gather, coro*) and the process
functions (log, worker, time, app, shutdown, fatal, fatalx, tracer,
setname, sendobj, prerequest), proc, socket_wrap, httpclient,
websockets and PostgreSQL (dbsetup, dbquery).

Layer: app API (kore).
"""

from korepyd.kore._config import config  # noqa: F401
from korepyd.kore._constants import *  # noqa: F401,F403
from korepyd.kore._httpclient import httpclient  # noqa: F401
from korepyd.kore._io import curl, proc, socket, socket_wrap  # noqa: F401
from korepyd.kore._log import log  # noqa: F401
from korepyd.kore._pgsql import PgsqlError, dbquery, dbsetup, register_database  # noqa: F401
from korepyd.kore._process import app, fatal, fatalx, prerequest, sendobj, setname, shutdown, time, tracer, worker  # noqa: F401
from korepyd.kore._setup import domain, privsep, route, server  # noqa: F401
from korepyd.kore._tasks import (  # noqa: F401
                                   coroname,
                                   corotrace,
                                   gather,
                                   lock,
                                   queue,
                                   suspend,
                                   task_create,
                                   task_id,
                                   task_kill,
                                   timer,
)
from korepyd.kore._websocket import websocket_broadcast  # noqa: F401
