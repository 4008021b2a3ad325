"""The line syntax (kore.lark + grammar.py + source.py): Kore's rules for
comments, closes, words, columns, and the repairs source.py makes."""

import pytest

from korepyd.config.grammar import parse_lines
from korepyd.config.source import lines_from_bytes


def words(line):
    return [(w.text, w.column) for w in line.words]


def test_comments_only_at_line_start():
    lines = parse_lines("# top\n   # indented\n\t# tabbed\nworkers 2#x\nhttp_server_version kore #1", "t")
    assert [line.number for line in lines] == [4, 5]
    assert lines[0].value == "2#x"
    assert lines[1].value == "kore #1"


def test_value_keeps_inner_spaces_and_drops_outer_blanks():
    (line,) = parse_lines("  http_server_version   my  server 1.0   ", "t")
    assert line.keyword == "http_server_version"
    assert line.value == "my  server 1.0"
    assert words(line) == [("http_server_version", 3), ("my", 25), ("server", 29), ("1.0", 36)]


def test_tabs_separate_words_and_count_one_column():
    (line,) = parse_lines("\t\thandler\tpage", "t")
    assert words(line) == [("handler", 3), ("page", 11)]


@pytest.mark.parametrize("text, close", [("}", True), ("\t}", True), ("} ", False), ("};", False), ("} # x", False)])
def test_only_an_exact_brace_is_a_close(text, close):
    (line,) = parse_lines(text, "t")
    assert line.is_close is close


def test_blank_and_empty_input():
    assert parse_lines("", "t") == []
    assert parse_lines("\n\n  \n\t\n", "t") == []


def test_keyword_without_value():
    (line,) = parse_lines("foobaz", "t")
    assert line.keyword == "foobaz" and line.args == () and line.value == ""


def test_crlf_is_read_as_lf_with_one_warning():
    lines, diagnostics = lines_from_bytes(b"workers 2\r\n}\r\n", "t")
    assert lines[0].value == "2" and lines[1].is_close
    assert [d.severity for d in diagnostics] == ["warning"]
    assert "CRLF" in diagnostics[0].message


def test_bad_utf8_and_nul_are_errors_at_their_place():
    _, diagnostics = lines_from_bytes(b"workers 2\npidfile a\xffb\nlogfile x\x00y\n", "t")
    where = [(d.severity, d.pos.line, d.pos.column) for d in diagnostics]
    assert where == [("error", 2, 10), ("error", 3, 10)]


def test_byte_order_mark_is_dropped():
    lines, diagnostics = lines_from_bytes("\ufeffworkers 2\n".encode(), "t")
    assert lines[0].keyword == "workers"
    assert diagnostics[0].severity == "warning"
