"""Directives outside domains: includes, Python modules, validators,
listeners, privilege separation and authentication blocks' contents
(Kore: the configure_*() functions of src/config.c and src/python.c).

The Kore 3.x forms are accepted beside the 4.x ones: a `bind` outside any
server block is a global listener (it makes the implicit server of a 3.x
file), and the global `root`, `chroot`, `runas`, `keymgr_*` and `acme_*`
settings fill the privsep blocks Kore 4.2 replaced them with.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from dataclasses import replace

from korepyd.config import model
from korepyd.config.build import Builder, Problem, suggest
from korepyd.config.regex import RegexProblem, compile_posix
from korepyd.config.registry import Directives
from korepyd.config.syntax import Line

DIRECTIVES = Directives()
directive = DIRECTIVES.declare

SUN_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux


def callback(line: Line, index: int) -> model.Callback | None:
    """The callback name in argument `index`, if the line has one."""
    if len(line.args) <= index:
        return None
    word = line.args[index]
    return model.Callback(word.text, line.pos(word))


@directive("include", "include PATH", "Read another configuration file here (path relative to the working directory).")
def include(b: Builder, line: Line) -> None:
    b.include(line.value, line)


@directive("load", "load PATH [ONLOAD]", "Kore's native (C) modules; korepyd cannot load them.")
def load(b: Builder, line: Line) -> None:
    b.warn(
        f"load {line.args[0].text}: native Kore modules are not supported by korepyd; "
        "write the handlers in Python and use python_import",
        line,
        line.args[0],
    )


@directive("python_path", "python_path DIR", "Add DIR to the Python module search path.", era="3.0+")
def python_path(b: Builder, line: Line) -> None:
    b.python_path.append(line.value)


@directive("python_import", "python_import PATH [ONLOAD]",
           "Import a Python file or package whose functions the configuration names.", era="3.0+")
def python_import(b: Builder, line: Line) -> None:
    if len(line.args) > 2:
        b.warn("extra words after the onload name are ignored", line, line.args[2])
    path = line.args[0]
    b.python_import.append(model.PythonImport(path.text, callback(line, 1), line.pos(path)))


@directive("validator", "validator NAME regex|function ARG",
           "A named check for parameters and authentication: a regex or a Python function.")
def validator(b: Builder, line: Line) -> None:
    args = line.args
    name = args[0].text
    b.broken_names.add(name)  # until it is known to be good
    if len(args) < 3:
        raise Problem("missing validator value" if len(args) == 2 else "missing validator name", args[-1])
    kind, arg = args[1].text, line.rest(2)
    if kind == "regex":
        try:
            compile_posix(arg)
        except RegexProblem as exc:
            raise Problem(f"validator {name} has bad regex {arg} ({exc})", args[2]) from None
        item = model.Validator(name, "regex", pattern=arg)
    elif kind == "function":
        item = model.Validator(name, "function", function=callback(line, 2))
    else:
        raise Problem(f"bad type '{kind}' for validator '{name}'", args[1])
    b.broken_names.discard(name)
    b.validators.append(item)


@directive("http_media_type", "http_media_type TYPE EXT [EXT ...]",
           "Content-Type for files with these extensions in filemaps (adds to or replaces the built-in table).",
           era="3.0+")
def http_media_type(b: Builder, line: Line) -> None:
    if len(line.args) < 2:
        raise Problem(f"bad http_media_type value '{line.value}'")
    extensions = tuple(word.text for word in line.args[1:])
    taken = {ext for mt in b.media_types for ext in mt.extensions}
    for word in line.args[1:]:
        if word.text in taken or extensions.count(word.text) > 1:
            raise Problem(f"duplicate extension found '{word.text}'", word)
    b.media_types.append(model.MediaType(line.args[0].text, extensions))


@directive("worker_no_accept", "worker_no_accept ID", "This worker accepts no connections (repeat for more).",
           era="4.3+")
def worker_no_accept(b: Builder, line: Line) -> None:
    text = line.value
    if not text.isdigit() or not 1 <= int(text) <= 255:
        raise Problem(f"bad value for worker_no_accept '{text}'", line.args[0])
    b.worker_no_accept.append(int(text))


@directive("pledge", "pledge PROMISE ...", "OpenBSD pledge(2) promises; accepted and ignored on Linux.", era="3.2+")
def pledge(b: Builder, line: Line) -> None:
    b.pledge.extend(word.text for word in line.args)


# -- listeners ----------------------------------------------------------


@directive("bind", "bind HOST PORT [CALLBACK]",
           "Listen on HOST:PORT (in a server block; at top level, Kore 3.x style, for every domain).")
def bind(b: Builder, line: Line) -> None:
    if len(line.args) < 2:
        raise Problem("bind needs a host and a port: bind HOST PORT", line.args[0])
    host, port = line.args[0], line.args[1]
    if not (port.text.isdigit() and 0 < int(port.text) <= 65535) and not port.text.isalpha():
        raise Problem(f"bad port '{port.text}' (a number from 1 to 65535 or a service name)", port)
    if len(line.args) > 3:
        b.warn("extra words after the callback are ignored", line, line.args[3])
    _add_listener(b, model.Bind(host.text, port.text, callback(line, 2)))


@directive("unix", "unix PATH [CALLBACK]", "Listen on a unix socket; a leading @ means an abstract socket.",
           context="server", era="4.0+")
def unix(b: Builder, line: Line) -> None:
    b.require("server", "bind_unix keyword not inside a server context")
    _unix(b, line)


@directive("bind_unix", "bind_unix PATH [CALLBACK]", "Kore 3.2-3.3 name of unix, at top level.", era="3.2-3.3")
def bind_unix(b: Builder, line: Line) -> None:
    _unix(b, line)


def _unix(b: Builder, line: Line) -> None:
    path = line.args[0].text
    if len(path.encode()) > SUN_PATH_MAX:
        raise Problem(f"unix socket path '{path}' too long", line.args[0])
    _add_listener(b, model.UnixBind(path, callback(line, 1)))


def _add_listener(b: Builder, listener) -> None:
    server = b.current("server")
    if server is None:
        b.global_binds.append(listener)
    else:
        server.obj = replace(server.obj, binds=server.obj.binds + (listener,))


@directive("tls", "tls yes|no", "Whether the server's listeners speak TLS (default yes).", context="server", era="4.0+")
def tls(b: Builder, line: Line) -> None:
    server = b.require("server", "tls keyword not inside a server context")
    if line.value not in ("yes", "no"):
        raise Problem(f"invalid '{line.value}' for yes|no tls option", line.args[0])
    server.obj = replace(server.obj, tls=line.value == "yes")


# -- privilege separation -----------------------------------------------


def _privsep_setting(field: str, legacy_role: str | None):
    """`root`/`runas` in a privsep block, or a Kore 3.x-4.1 global."""

    def apply(b: Builder, line: Line) -> None:
        block = b.current("privsep")
        if block is not None:
            role, current = block.obj
            block.obj = (role, replace(current, **{field: line.value}))
        elif legacy_role is not None:
            current = b.privsep.get(legacy_role, model.Privsep())
            b.privsep[legacy_role] = replace(current, **{field: line.value})
        else:
            raise Problem(f"{line.keyword} keyword not in privsep context")

    return apply


directive("root", "root DIR", "The directory a process chroots into (or, with skip chroot, changes into).")(
    _privsep_setting("root", "worker"))
directive("runas", "runas USER", "The user a process drops its privileges to.")(_privsep_setting("runas", "worker"))
directive("chroot", "chroot DIR", "Kore 2.x-4.1 name of the workers' root.", era="-4.1")(
    _privsep_setting("root", "worker"))
directive("keymgr_root", "keymgr_root DIR", "Kore 3.1-4.1: root of keymgr.", era="3.1-4.1")(
    _privsep_setting("root", "keymgr"))
directive("keymgr_runas", "keymgr_runas USER", "Kore 3.1-4.1: user of keymgr.", era="3.1-4.1")(
    _privsep_setting("runas", "keymgr"))
directive("acme_root", "acme_root DIR", "Kore 4.0-4.1: root of the acme process.", era="4.0-4.1")(
    _privsep_setting("root", "acme"))
directive("acme_runas", "acme_runas USER", "Kore 4.0-4.1: user of the acme process.", era="4.0-4.1")(
    _privsep_setting("runas", "acme"))


@directive("skip", "skip chroot", "Change into root instead of chrooting into it.", context="privsep", era="4.2+")
def skip(b: Builder, line: Line) -> None:
    block = b.require("privsep", "skip keyword not in privsep context")
    if line.value != "chroot":
        raise Problem(f"unknown skip option '{line.value}'", line.args[0])
    role, current = block.obj
    block.obj = (role, replace(current, skip_chroot=True))


# -- authentication blocks ----------------------------------------------


def _auth_field(field: str, context_message: str):
    def apply(b: Builder, line: Line) -> None:
        block = b.require("authentication", context_message)
        value = line.value
        if field == "type" and value not in ("cookie", "header", "request"):
            raise Problem(f"unknown authentication type '{value}'", line.args[0])
        block.obj = replace(block.obj, **{field: value})
        if field == "validator" and not b.has_validator(value):
            found = suggest(value, [v.name for v in b.validators])
            raise Problem(f"authentication validator '{value}' not found{found}", line.args[0])

    return apply


directive("authentication_type", "authentication_type cookie|header|request",
          "Where the credential is: a cookie, a header, or the whole request.", context="authentication")(
    _auth_field("type", "authentication_type keyword not in correct context"))
directive("authentication_value", "authentication_value NAME", "The cookie or header name.",
          context="authentication")(_auth_field("value", "authentication_value keyword not in correct context"))
directive("authentication_validator", "authentication_validator VALIDATOR",
          "The validator that accepts or refuses the credential.", context="authentication")(
    _auth_field("validator", "authentication_validator not in correct context"))
directive("authentication_uri", "authentication_uri URI", "Redirect here (302) on failure instead of answering 403.",
          context="authentication")(_auth_field("uri", "authentication_uri keyword not in correct context"))
