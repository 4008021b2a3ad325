"""ETag, conditional and range decisions (pure)."""

import pytest

from korepyd.core.conditional import UNSATISFIABLE, byte_range, etag, not_modified, request_fields

TAG = etag(100, 1_700_000_000_000_000_000)
LM = "Tue, 14 Nov 2023 22:13:20 GMT"


@pytest.mark.parametrize("inm, ims, expected", [
    (TAG, None, True), (f'W/{TAG}', None, True), ('"other", ' + TAG, None, True), ("*", None, True),
    ('"other"', LM, False),  # If-None-Match wins
    (None, LM, True), (None, "Tue, 14 Nov 2023 22:13:19 GMT", False), (None, "garbage", False), (None, None, False),
])
def test_not_modified(inm, ims, expected):
    assert not_modified(inm, ims, TAG, 1_700_000_000.5) is expected


@pytest.mark.parametrize("header, expected", [
    ("bytes=0-9", (0, 9)), ("bytes=90-", (90, 99)), ("bytes=-10", (90, 99)), ("bytes=95-200", (95, 99)),
    ("bytes=-500", (0, 99)), ("bytes=100-", UNSATISFIABLE), ("bytes=10-5", UNSATISFIABLE), ("bytes=-0", UNSATISFIABLE),
    ("bytes=0-1,5-6", None), ("items=0-1", None), ("bytes=a-b", None), ("bytes=", None), (None, None),
])
def test_byte_range(header, expected):
    assert byte_range(header, None, TAG, LM, 100) == expected


def test_stale_if_range_sends_the_whole_file():
    assert byte_range("bytes=0-9", '"stale"', TAG, LM, 100) is None
    assert byte_range("bytes=0-9", TAG, TAG, LM, 100) == (0, 9)


def test_request_fields_are_the_last_values_of_their_names():
    headers = [("host", "h"), ("range", "bytes=0-1"), ("if-none-match", '"a"'), ("range", "bytes=2-3"),
               ("x-range", "no"), ("if-range", TAG)]
    assert request_fields(headers) == ['"a"', None, "bytes=2-3", TAG]
    assert request_fields([]) == [None, None, None, None]
