"""Fuzzing the kore.conf parser: whatever the input, config.loads() either
returns a Loaded or raises ConfigError with well-formed diagnostics. Any
other exception (a traceback from the grammar, a handler, the model or the
JSON dump) is a bug.

Three sources of input:
  (a) arbitrary bytes;
  (b) text built from a kore.conf-ish alphabet: every keyword of the
      directive table, typical values, braces, comments, $VARs, blanks,
      tabs, CR/CRLF line ends and arbitrary unicode;
  (c) small valid configurations of the three syntax eras (3.x, 4.0/4.1,
      4.2+), written here, then mutated line by line and word by word.

`include` lines are part of the alphabet, so file reading is confined to a
temporary directory: the reader korepyd uses (config.source.read_path) is
wrapped so that any path outside that directory reads as a missing file.
The environment is a small fixed dict, never os.environ. No Hypothesis
database is written.
"""

from __future__ import annotations

import errno
import json
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from korepyd import config
from korepyd.config import directives, source
from korepyd.config.dump import to_data
from korepyd.errors import ConfigError

FILE = "fuzz.conf"

ENV = {
    "BIND": "127.0.0.1 8888",
    "PORT": "8888",
    "LOGFILE": "kore.log",
    "NAME": "tls",
    "INC": "inc.conf",
    "EMPTY": "",
    "SPACES": "   ",
    "ODD": "a\tb }\n{ #",
    "UNICODE": "k\u00f6re \u2603",
}

# Files the fuzzer may `include` (relative to the sandbox directory).
INCLUDES = {
    "inc.conf": b"workers 2\nvalidator v_inc regex ^x$\n",
    "close.conf": b"}\n}\n",
    "open.conf": b"domain inc.example {\n\tattach tls\n",
    "self.conf": b"include self.conf\n",
    "ping.conf": b"include pong.conf\n",
    "pong.conf": b"include ping.conf\n",
    "bad.conf": b"workers \xff\xfe\n\x00\r\n",
    "crlf.conf": b"workers 3\r\n}\r\n",
}

SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------
# Valid seed configurations, one per syntax era (kore-conf.md section 3).

ERA_3X = """\
# Era A: Kore 3.x (flat, static/dynamic routes, params blocks)
bind		127.0.0.1 8888
bind_unix	/tmp/kore-a.sock
load		./app.so init
chroot		/var/chroot/kore
runas		_kore
workers		2
worker_max_connections	250
worker_accept_threshold	0x10
http_body_max	1024000
http_header_timeout	10
tls_dhparam	dh2048.pem
validator	v_id		regex		^[0-9]+$
validator	v_session	function	v_session_check

authentication auth_example {
	authentication_type		cookie
	authentication_value		session_id
	authentication_validator	v_session
	authentication_uri		/private
}

domain * {
	certfile	cert/server.pem
	certkey		cert/key.pem
	accesslog	kore_access.log
	static	/		page
	static	/private	private_page	auth_example
	dynamic	^/user/[0-9]+$	user_page
	restrict	/	get post
	params qs:get / {
		validate	id	v_id
	}
	params post /private {
		validate	id	v_id
	}
}
"""

ERA_40 = """\
# Era B: Kore 4.0/4.1 (server blocks, attach, one-line routes)
server tls {
	bind 127.0.0.1 8888
}

server notls {
	bind 127.0.0.1 8080
	unix /tmp/kore-b.sock
	tls no
}

load		./app.so
root		/var/chroot/kore
runas		_kore
keymgr_root	/var/chroot/keymgr
keymgr_runas	_keymgr
tls_version	both
http_server_version	kore/4.0
http_pretty_error	yes
seccomp_tracing	no
validator	v_id	regex	^[0-9]+$

domain * {
	attach		tls
	certfile	cert/server.pem
	certkey		cert/key.pem
	route	/		page
	route	^/user/[0-9]+$	user_page
	restrict	/	get
	params qs:get / {
		validate	id	v_id
	}
}

domain localhost {
	attach		notls
	redirect	^/old$	301	/new
	return		/gone	410
}
"""

ERA_42 = """\
# Era C: Kore 4.2+ (route blocks, privsep blocks, $VAR values)
server tls {
	bind $BIND
}

server notls {
	bind 127.0.0.1 8080
	tls no
}

privsep worker {
	root	/var/chroot/kore
	runas	_kore
}

privsep keymgr {
	root	/var/chroot/keymgr
	runas	_keymgr
	skip	chroot
}

logfile		$LOGFILE
workers		4
worker_death_policy	restart
http_keepalive_time	0
http_media_type		text/x-kore	kore kconf
filemap_index		index.html
deployment		production
python_path		src
python_import		./app.py

validator	v_id		regex		^[0-9]+$
validator	v_name		regex		^[a-z ]{1,32}$
validator	v_session	function	check_session

authentication auth_example {
	authentication_type		cookie
	authentication_value		session_id
	authentication_validator	v_session
	authentication_uri		/login
}

domain * {
	attach		tls
	certfile	cert/server.pem
	certkey		cert/key.pem

	route / {
		handler		page
		methods		get post
		validate	qs:get	id	v_id
		validate	post	name	v_name
	}

	route ^/user/[0-9]+$ {
		handler		user_page
		authenticate	auth_example
		on_free		user_free
	}

	filemap		/files/		static_files	auth_example
}

domain localhost {
	attach		notls
	redirect	^/.*$	301	https://localhost:8888
	return		/gone	410
}
"""

SEEDS = {"3.x": ERA_3X, "4.0": ERA_40, "4.2": ERA_42}

# ---------------------------------------------------------------------------
# The alphabet.

KEYWORDS = sorted(set(directives.TABLE) | set(directives.RENAMED))
NEAR_KEYWORDS = ["Workers", "WORKERS", "workers:", "work ers", "Domain", "route{", "domain*", "include_"]
VALUES = [
    "{", "}", "{}", "};", "} #", "#", "# x {", "*", "/", "/x", "^/a/[0-9]+$", "^", "$", "(", "[", "\\",
    "yes", "no", "YES", "on", "tls", "notls", "worker", "keymgr", "acme", "chroot", "runas",
    "cookie", "header", "request", "regex", "function", "get", "post", "put", "delete", "head",
    "patch", "options", "GET", "qs:get", "qs:post", "xs:get", "qs:", "restart", "terminate",
    "1.2", "1.3", "both", "docker", "dev", "development", "production",
    "0", "1", "-1", "01", "0x10", "1e3", "65535", "65536", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551616", "301", "302", "410", "999",
    "127.0.0.1", "::1", "localhost", "8888", "http", "@abstract", "/tmp/k.sock",
    "v_id", "v_session", "v_inc", "auth_example", "page", "app.page", "koreapp.index",
    "text/html", "html", "htm", "txt", ".html", "index.html", "dh2048.pem", "./app.so",
    "$BIND", "$PORT", "$LOGFILE", "$NAME", "$INC", "$EMPTY", "$SPACES", "$ODD", "$UNICODE",
    "$UNSET", "$", "$$", "$BIND {",
    "inc.conf", "close.conf", "open.conf", "self.conf", "ping.conf", "bad.conf", "crlf.conf",
    "missing.conf", ".", "..", "/etc/hostname", "../outside.conf",
    "k\u00f6re", "\u2603", "\u00a0", "\u200b", "\ufeff", "\ufffd", "\U0001f600", "\u0085", "\u2028",
]
BLANKS = [" ", "\t", "  ", " \t ", "\t\t", "\v", "\f", "\r"]
INCLUDE_LINES = ["include inc.conf", "include close.conf", "include open.conf", "include self.conf",
                 "include ping.conf", "include bad.conf", "include crlf.conf", "include missing.conf",
                 "include .", "include $INC", "include $UNSET", "include /etc/hostname",
                 "include ../outside.conf"]

# Characters Python's str.split() and str.strip() take for blanks but Kore
# (which cuts at ' ' after turning tabs into spaces) keeps inside words.
ODD_BLANKS = ["\v", "\f", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2028", "\u3000"]
odd_words = st.lists(st.sampled_from(ODD_BLANKS + ["v", "x", "1"]), min_size=1, max_size=3).map("".join)

words = st.one_of(
    st.sampled_from(VALUES),
    odd_words,
    st.sampled_from(KEYWORDS),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=8).filter(lambda s: "\n" not in s),
    st.from_regex(r"\$[A-Z_]{0,6}", fullmatch=True),
)
separators = st.sampled_from([" ", "\t", "  ", " \t", "\t\t", "   "])
indents = st.sampled_from(["", "", "\t", "\t\t", "  ", " \t", "\v", "\f", "\r"])
line_ends = st.sampled_from(["\n"] * 8 + ["\r\n", "\r", "\n\n"])


@st.composite
def statements(draw) -> str:
    """One line: an indented keyword (usually a real one) and some words."""
    keyword = draw(st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(NEAR_KEYWORDS), words))
    parts = [draw(indents), keyword]
    for word in draw(st.lists(words, max_size=5)):
        parts += [draw(separators), word]
    if draw(st.integers(0, 5)) == 0:
        parts.append(draw(st.sampled_from(BLANKS)))
    return "".join(parts)


# `KEYWORD $VAR` lines: Kore 4.2 replaces a value that starts with '$' by
# the variable's content (or stops when it is unset).
env_lines = st.builds(
    lambda indent, keyword, sep, value: indent + keyword + sep + value,
    indents,
    st.sampled_from(KEYWORDS),
    separators,
    st.sampled_from(["$" + name for name in ENV] + ["$UNSET", "$", "$ BIND", "$BIND {", "$bind"]),
)

special_lines = st.sampled_from(
    ["}", "}", "} ", "}\t", "};", "} # end", " }", "\t}", "{", "#", "# comment", "\t# indented {", "",
     "   ", "\t", "domain * {", "server tls {", "route / {", "privsep worker {", "authentication a {",
     "params get / {", "domain $NAME {", "route /x page", "static / page", "dynamic ^/.*$ page"]
    + INCLUDE_LINES
)

# Pieces for a "soup" without line structure: the grammar must cope with
# any order of them.
PIECES = KEYWORDS + VALUES + BLANKS + ["\n", "\n", "\n", "\r\n", "\r", " ", " ", "{", "}", "#", "$VAR", "\x00"]


@st.composite
def kore_texts(draw) -> str:
    if draw(st.integers(0, 3)) == 0:
        pieces = st.one_of(st.sampled_from(PIECES), st.text(max_size=4))
        return "".join(draw(st.lists(pieces, max_size=60)))
    lines = draw(st.lists(st.one_of(statements(), special_lines, env_lines), max_size=25))
    return "".join(line + draw(line_ends) for line in lines)


@st.composite
def mutated_configs(draw) -> bytes:
    """A seed configuration after a few random edits."""
    lines = SEEDS[draw(st.sampled_from(sorted(SEEDS)))].split("\n")
    new_line = st.one_of(statements(), special_lines, env_lines)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "move", "insert_line", "insert_word",
                                   "replace_word", "delete_word", "cut_line", "dedent", "close",
                                   "delete_range"]))
        if not lines:
            lines = [""]
        index = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[index]
        elif op == "duplicate":
            lines.insert(index, lines[index])
        elif op in ("swap", "move"):
            other = draw(st.integers(0, len(lines) - 1))
            if op == "swap":
                lines[index], lines[other] = lines[other], lines[index]
            else:
                lines.insert(other, lines.pop(index))
        elif op == "insert_line":
            lines.insert(index, draw(new_line))
        elif op == "close":
            lines.insert(index, draw(st.sampled_from(["}", "} ", "\t}", "{"])))
        elif op == "dedent":
            lines[index] = lines[index].lstrip()
        elif op == "delete_range":
            end = draw(st.integers(index, len(lines)))
            del lines[index:end]
        elif op == "cut_line":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        else:
            parts = lines[index].split(" ") if " " in lines[index] else lines[index].split("\t")
            at = draw(st.integers(0, len(parts) - 1))
            if op == "insert_word":
                parts.insert(at, draw(words))
            elif op == "replace_word":
                parts[at] = draw(words)
            elif len(parts) > 1:
                del parts[at]
            lines[index] = draw(separators).join(parts)
    text = "\n".join(lines)
    if draw(st.integers(0, 9)) == 0:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if draw(st.integers(0, 4)) == 0:  # truncate, possibly inside a UTF-8 sequence
        data = data[: draw(st.integers(0, len(data)))]
    return data


# ---------------------------------------------------------------------------
# The property.


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A directory with the includable files; reads outside it fail."""
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "includes"
    root.mkdir()
    for name, data in INCLUDES.items():
        (root / name).write_bytes(data)
    (base / "outside.conf").write_bytes(b"workers 1\n")  # must stay unreadable
    real_read = source.read_path
    prefix = os.path.realpath(root) + os.sep

    def confined_read(path):
        full = os.path.normpath(os.path.join(prefix, os.fspath(path)))
        if not (full + os.sep).startswith(prefix):
            raise FileNotFoundError(errno.ENOENT, "outside the fuzz sandbox", os.fspath(path))
        return real_read(full)

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setattr(source, "read_path", confined_read)
        # If korepyd stops reading includes through source.read_path, the
        # confinement is void: fail loudly instead of fuzzing the real disk.
        with pytest.raises(ConfigError, match="failed to open include"):
            config.loads("include ../outside.conf\n", FILE, env={}, check_files=False)
        yield root


def check(data: bytes | str, strict: bool = False) -> None:
    try:
        loaded = config.loads(data, FILE, env=dict(ENV), check_files=False, strict=strict)
    except ConfigError as exc:
        event("ConfigError")
        assert exc.diagnostics, "ConfigError without diagnostics"
        assert any(d.is_error for d in exc.diagnostics), "ConfigError with warnings only"
        for d in exc.diagnostics:
            check_diagnostic(d)
        assert str(exc)
        return
    assert isinstance(loaded, config.Loaded)
    event("Loaded")
    for d in loaded.warnings:
        check_diagnostic(d)
        assert d.severity == "warning", d.render()
    if strict:
        assert not loaded.warnings
    json.dumps(to_data(loaded.config))  # what `korepyd -t --dump` prints


def check_diagnostic(d) -> None:
    assert d.severity in ("error", "warning"), d
    assert isinstance(d.message, str) and d.message.strip(), d
    if d.pos is not None:
        assert d.pos.line >= 1, d
        assert d.pos.column >= 1, d
    rendered = d.render()
    assert isinstance(rendered, str) and d.message in rendered
    assert isinstance(d.headline(), str)


@pytest.mark.parametrize("era", sorted(SEEDS))
def test_seed_configs_are_valid(sandbox, era):
    loaded = config.loads(SEEDS[era], FILE, env=dict(ENV), check_files=False)
    assert all(not d.is_error for d in loaded.warnings)


@settings(max_examples=1000, **SETTINGS)
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes(sandbox, data):
    check(data)


@settings(max_examples=2000, **SETTINGS)
@given(text=kore_texts(), as_bytes=st.booleans(), strict=st.booleans())
def test_kore_like_text(sandbox, text, as_bytes, strict):
    check(text.encode("utf-8", "surrogatepass") if as_bytes else text, strict)


@settings(max_examples=2500, **SETTINGS)
@given(data=mutated_configs(), strict=st.booleans())
def test_mutated_configs(sandbox, data, strict):
    check(data, strict)
