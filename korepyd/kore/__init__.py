"""The `kore` module Kore apps import: korepyd's compatibility facade.

korepyd.app installs this package as sys.modules["kore"] before it imports
an application, so `import kore` works only inside korepyd processes, as in
Kore. Every name is re-exported from an underscore module; this file holds
no logic. So far it carries Kore's constants; the functions and objects
follow with the worker runtime.
"""

from korepyd.kore._constants import *  # noqa: F401,F403
