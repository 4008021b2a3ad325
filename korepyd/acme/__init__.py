"""korepyd's ACME client (RFC 8555), used by the key manager to obtain
certificates for domains with `acme yes` (Kore: src/acme.c).

- challenge: what a server presents to prove control of a name
  (tls-alpn-01, RFC 8737; http-01).
- client: issue(), one whole order from directory to certificate chain,
  and the Responder protocol that puts challenges in place.
- schedule: when to renew and when to try again (pure, clock passed in).
- store: Kore's on-disk layout of account key, domain keys and chains.
- keys, protocol, http: the pieces issue() is made of.

Only store touches files. issue() takes keys and the CA's certificates
as bytes and imports everything up front, since the key manager may be
chrooted when it runs; its one reach outside is the connection to the CA
(a host name there needs name resolution to work inside the chroot).

Layer: library (the ACME client keymgr runs; no role, no app API).
"""
