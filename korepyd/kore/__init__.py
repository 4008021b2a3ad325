"""The `kore` module Kore apps import: korepyd's compatibility facade.

korepyd.app installs this package as sys.modules["kore"] before it imports
an application, so `import kore` works only inside korepyd processes, as in
Kore. Every name is re-exported from an underscore module; this file holds
no logic. So far: Kore's constants and kore.log; the rest of the API
follows with the worker runtime.
"""

from korepyd.kore._constants import *  # noqa: F401,F403
from korepyd.kore._log import log  # noqa: F401
from korepyd.kore._tasks import suspend  # noqa: F401
