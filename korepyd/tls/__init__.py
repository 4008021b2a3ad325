"""TLS, sans-IO parts: the ClientHello parser that picks a certificate by
SNI (and answers ACME's tls-alpn-01 by ALPN). Contexts and the worker's
use of them come with TLS termination."""
