# Compiled, ResponseHead is an extension type (korepyd/compiled.py).

cdef class ResponseHead:
    cdef public object _policy, _user, _date, length, lines
    cdef public bint _keep_alive, _tls, close
