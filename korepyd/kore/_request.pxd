# Compiled, HttpRequest is an extension type (korepyd/compiled.py). It keeps
# a __dict__: an app may hang its own attributes on `req`.

cdef class HttpRequest:
    cdef dict __dict__
    cdef public object _method, _path, _query, _headers, _body, _body_path, _body_offset, _files, _connection
    cdef public object websocket, _tls, _route, _check, _arguments, _cookies
    cdef public object status, response_headers, response_body, warnings
