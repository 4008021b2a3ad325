"""`python -m korepyd`: the same as the korepyd command.

Layer: command line.
"""

import sys

from korepyd.cli import main

sys.exit(main())
