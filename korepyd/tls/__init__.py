"""TLS, sans-IO parts: the ClientHello parser that picks a certificate by
SNI (and answers ACME's tls-alpn-01 by ALPN) and the SSL contexts built
from kore.conf's settings. The handshakes happen in korepyd.worker.tls.

Layer: wire (TLS), sans-IO.
"""
