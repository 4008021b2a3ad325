"""Which phase the process is in, for the `kore` functions that depend on it.

- CONFIGURING: the parent imports the app and runs configure(); the
  configuration API writes into `code` (a config.code.CodeConfig).
- REPLAYING: a worker imports the app again (it is a fresh interpreter);
  configuration calls made at import time do nothing, since the parent
  already made them.
- PARENT: configuration is over in the parent.
- WORKER: a worker runs; `runtime` is its worker.runtime.Runtime.

Layer: app API (kore).
"""

CONFIGURING = "configuring"
REPLAYING = "replaying"
PARENT = "parent"
WORKER = "worker"

phase = PARENT
code = None       # the CodeConfig while CONFIGURING
runtime = None    # the worker's Runtime while WORKER
pending_prerequest = []   # kore.prerequest() hooks registered before the worker runs
databases = {}            # kore.dbsetup(): name -> libpq connection string
