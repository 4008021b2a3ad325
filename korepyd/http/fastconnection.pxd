# Compiled, FastHttpConnection is an extension type: its state lives in C
# fields instead of slots found by name on every access (korepyd/compiled.py).

cdef class FastHttpConnection:
    cdef public object limits, head, _buffer, _guard, _rejected, _client, _server, _proposals
    cdef public object _request_method, _their_version, _reader, _writer, _parser, _collector
    cdef public bint _closed, _keep_alive, _waiting_100
    cdef public Py_ssize_t _body_size
