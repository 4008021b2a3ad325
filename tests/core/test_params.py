"""Query strings and cookies as Kore reads them (params.py), in memory."""

import re

from korepyd.core.params import MAX_PAIRS, _has_control, parse_cookies, parse_pairs


def test_pairs_are_decoded_in_order():
    assert parse_pairs("a=1&b=x+y&c=%41%42") == [("a", "1"), ("b", "x y"), ("c", "AB")]


def test_pairs_without_a_name_or_an_equals_sign_are_dropped():
    assert parse_pairs("a&=1&b=&c=3") == [("b", ""), ("c", "3")]


def test_a_second_equals_sign_ends_the_value():
    assert parse_pairs("a=1=2") == [("a", "1")]


def test_control_characters_in_a_decoded_name_or_value_drop_the_pair():
    text = "ok=1&bad=a%01b&del=%7f&%1fname=x&tab=a%09b&high=%C3%A9"
    assert parse_pairs(text) == [("ok", "1"), ("high", "é")]


def test_only_c0_controls_and_del_count_as_control_characters():
    assert parse_pairs("nbsp=a%C2%A0b&nel=%C2%85&ls=%E2%80%A8") == [("nbsp", "a\xa0b"), ("nel", "\x85"), ("ls", "\u2028")]
    for code in range(0x3100):  # Latin, the C1 controls and the other unprintable ones among them
        assert _has_control(f"a{chr(code)}b") == (re.search("[\x00-\x1f\x7f]", chr(code)) is not None)


def test_at_most_nineteen_pairs():
    pairs = parse_pairs("&".join(f"p{n}={n}" for n in range(30)))
    assert len(pairs) == MAX_PAIRS == 19 and pairs[-1] == ("p18", "18")


def test_cookies_are_split_but_not_decoded():
    assert parse_cookies("a=1; b=%41; c; d==x") == [("a", "1"), ("b", "%41"), ("d", "x")]
