# Compiled, Reply is an extension type (korepyd/compiled.py).

cdef class Reply:
    cdef public object rt, http, stream, status, length, connection
    cdef public bint tls, head_only
