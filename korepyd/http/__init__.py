"""HTTP semantics on top of h11, without I/O: routing, requests,
responses, limits. The worker drives these from its trio tasks."""
