"""HTTP/1.1, the first wire protocol: korepyd's engine (connection.py), its
events, rules, chunk guard and response heads. Layer: wire, sans-IO (no trio).
"""
