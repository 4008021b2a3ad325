"""`python -m korepyd.keymgr`: how the parent starts the key manager.

Layer: role (keymgr).
"""

import sys

from korepyd.keymgr import main

sys.exit(main())
