"""Which phase the process is in, for the `kore` functions that depend on it.

- CONFIGURING: the parent imports a Kore 4.x app and runs configure(); the
  configuration API writes into `code` (a config.code.CodeConfig).
- LOADING: the parent imports a kore.conf's python_import modules and runs
  kore_parent_configure(); the configuration is read, so kore.config and
  kore.server() refuse, as in Kore.
- REPLAYING: a worker (a fresh interpreter) loads the app as the parent
  did; the configuration API writes into a `code` nobody reads, and
  tasks wait in `tasks` for the worker's trio to run them.
- PARENT: loading is over in the parent.
- WORKER: a worker runs; `runtime` is its worker.runtime.Runtime.

Layer: app API (kore).
"""

CONFIGURING = "configuring"
LOADING = "loading"
REPLAYING = "replaying"
PARENT = "parent"
WORKER = "worker"

phase = PARENT
code = None       # the CodeConfig while CONFIGURING or REPLAYING
runtime = None    # the worker's Runtime while WORKER
tasks = None      # a worker's worker.tasks.Tasks, from before it loads the app
pending_prerequest = []   # kore.prerequest() hooks registered before the worker runs
databases = {}            # kore.dbsetup(): name -> libpq connection string
tracer = None             # the parent's kore.tracer() (each worker sets its own when it loads the app)


def reset() -> None:
    """Before the parent loads the app again (a reload): what the last
    load registered goes, as the new code registers it anew."""
    global tracer
    pending_prerequest.clear()
    databases.clear()
    tracer = None
