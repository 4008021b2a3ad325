"""korepyd: the Kore web platform, rebuilt in Python.

Layer: shared (the package: installs the compiled path's finder).
"""

from korepyd import compiled

__version__ = "0.1.0"

# The request path's modules load compiled when a build of their current
# sources exists (korepyd/compiled.py); before anything imports them.
compiled.install()
