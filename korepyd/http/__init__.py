"""HTTP semantics without I/O: the connection (h11, the reference, and
llhttp through httptools where both read the same; engine.py picks),
routing, requests, responses, limits. The worker drives these from its
trio tasks."""
