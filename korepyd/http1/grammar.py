"""h11's grammar (h11/_abnf.py) as the engine needs it, with the narrower
expression of the plainest request heads. Layer: wire (http1), sans-IO.
"""

from __future__ import annotations

import re

TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")                    # a header name
FIELD_VALUE = re.compile(rb"([^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")          # a header value
HEADER_LINE = re.compile(rb"(?P<name>[-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*(?P<value>([^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*")
CHUNK_HEADER = re.compile(rb"(?P<size>[0-9A-Fa-f]{1,20})(;.*)?[ \t]*\r\n")
REASON = re.compile(rb"([ \t]|[^\x00\s])*")
DIGITS = re.compile(rb"[0-9]{1,20}")
TARGET = re.compile(rb"[\x21-\x7e]+")
FOLD = re.compile(rb"[ \t]+")                                             # an obs-fold line's start

# The plainest heads, matched by one expression with no parser at all (then split by readers.simple_fields):
# a method llhttp and h11 both know, a target of visible ASCII, CRLF line ends, header values of
# visible ASCII with inner blanks. h11 reads such a head exactly so (tests/http1/test_differential.py);
# possessive repeats keep the expression linear on long runs of blanks.
SIMPLE_NAME = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
SIMPLE_VALUE = rb"(?:[!-~]++(?:[ \t]++[!-~]++)*+)?+"
SIMPLE_HEAD = re.compile(rb"(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) ([!-~]++) HTTP/(1\.[01])\r\n"
                          rb"((?:%s:[ \t]*+%s[ \t]*+\r\n)*+)\r\n" % (SIMPLE_NAME, SIMPLE_VALUE))
