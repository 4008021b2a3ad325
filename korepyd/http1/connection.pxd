# Compiled, HttpConnection is an extension type: its state lives in C
# fields instead of slots found by name on every access, and the methods
# it calls on every request are called directly, as C functions, not
# looked up by name (korepyd/compiled.py).

cimport cython

cdef class HttpConnection:
    cdef public object limits, head, _buffer, _guard, _rejected, _client, _server, _proposals
    cdef public object _request_method, _their_version, _reader, _writer, _heads
    cdef public bint _closed, _keep_alive, _waiting_100
    cdef public Py_ssize_t _body_size

    cpdef _next_head(self)
    @cython.locals(target=bytes)  # decoded by a direct C call
    cpdef _on_request(self, method, target, version, headers, special)
    cpdef _take_request(self, method, version, special)
    cpdef _next_body_event(self)
    cpdef _after_request(self)
    cpdef _reject(self, status, reason)
    cpdef _respond_checked(self, status, head)
    cpdef _count_body(self, length)
    cpdef _check_can_send(self)
    cpdef _client_does(self, event)
    cpdef _server_does(self, event)
    cpdef _settle(self)
