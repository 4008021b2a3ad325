"""Plain text hello world: the smallest Kore Python app, plus the probe
that bench/memcheck.py reads."""

import gc
import sys


def plain(req):
    req.response(200, b"Hello, World!")


def heap(req):
    """The worker's live Python heap: blocks allocated after a full
    collection (a leak keeps raising it; the allocator settling does not)."""
    gc.collect()
    req.response(200, str(sys.getallocatedblocks()).encode())
