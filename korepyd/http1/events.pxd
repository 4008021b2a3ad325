# Compiled, events.py's RequestHead is an extension type with these
# attributes (korepyd/compiled.py).

cdef class RequestHead:
    cdef public object method, target, path, query, http_version, headers, content_length, chunked
