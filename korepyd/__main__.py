"""`python -m korepyd`: the same as the korepyd command."""

import sys

from korepyd.cli import main

sys.exit(main())
