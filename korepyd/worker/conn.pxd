# Compiled, BodyReader is an extension type (korepyd/compiled.py).

cdef class BodyReader:
    cdef public object _rt, _http, _stream
    cdef public bint pending

cpdef _head_at_once(http, nowait)
cpdef _ready_event(http)
