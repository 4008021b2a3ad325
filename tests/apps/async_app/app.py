# The app: a server, one domain, and a task created at import time. Its
# routes live in the modules it imports.
import os

import client  # noqa: F401 (each of these modules adds its routes)
import kore
import locking  # noqa: F401
import queueing
import sockets  # noqa: F401
import spawning  # noqa: F401

kore.server(ip="127.0.0.1", port=os.environ.get("APP_PORT", "8888"), tls=False)
kore.domain("*")

kore.task_create(queueing.helper())
