# Compiled, the head readers are extension types and the functions they
# call on every request are direct C calls (korepyd/compiled.py).

cimport cython

cdef class HeadReader:
    cdef public object _parser, _collector

    cpdef read(self, head, simple)

cpdef head_end(buffer)
# a header value is bytes (from the expression or llhttp): decoded by a direct C call
@cython.locals(value=bytes)
cpdef request_fields(method, target, version, fields, bint trimmed=*)
cpdef simple_fields(block)
cpdef _names_in(name)
