"""`python -m korepyd.worker`: how the parent starts a worker.

Layer: role (worker).
"""

import sys

from korepyd.worker import main

sys.exit(main())
