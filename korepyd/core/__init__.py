"""The request core: routing, parameters and validation, authentication,
filemaps and conditional requests, multipart bodies, the access-log line
and what every response carries. Layer: request core, sans-IO; it knows
the wire protocols' neutral events and no app API.
"""
