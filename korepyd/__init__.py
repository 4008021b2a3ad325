"""korepyd: the Kore web platform, rebuilt in Python."""

__version__ = "0.1.0"
