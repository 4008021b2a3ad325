"""Plain text hello world: the smallest Kore Python app."""


def plain(req):
    req.response(200, b"Hello, World!")
