"""The `kore` module Kore apps import: korepyd's compatibility facade.

korepyd.app installs this package as sys.modules["kore"] before it imports
an application, so `import kore` works only inside korepyd processes, as in
Kore. Every name is re-exported from an underscore module; this file holds
no logic. So far: Kore's constants, kore.log, kore.suspend, and the
configuration API of Kore 4.x apps (kore.config, kore.server, kore.domain,
kore.route, kore.privsep); the rest follows with the worker runtime.
"""

from korepyd.kore._config import config  # noqa: F401
from korepyd.kore._constants import *  # noqa: F401,F403
from korepyd.kore._log import log  # noqa: F401
from korepyd.kore._setup import domain, privsep, route, server  # noqa: F401
from korepyd.kore._tasks import suspend  # noqa: F401
