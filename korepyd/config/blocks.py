"""The block directives of kore.conf: what opens each block and what its
closing `}` checks (Kore: configure_server(), configure_domain(),
configure_route(), configure_privsep(), configure_authentication() and,
before Kore 4.2, configure_params(); the close checks of
kore_parse_config_file()).

An opener whose line ends in '{' but is otherwise wrong still opens a
"broken" block: its lines are checked and its `}` is matched, but nothing
of it is kept, so one mistake gives one error instead of a cascade.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from dataclasses import replace

from korepyd.config import model
from korepyd.config.build import Block, Builder, Problem
from korepyd.config.regex import RegexProblem, compile_posix
from korepyd.config.registry import Directives
from korepyd.config.syntax import Line

DIRECTIVES = Directives()
directive = DIRECTIVES.declare

PRIVSEP_ROLES = ("worker", "keymgr", "acme")
PARAM_METHODS = ("get", "post", "put", "delete", "head", "patch")


def _opener(b: Builder, line: Line, kind: str, placeholder, errors: dict[str, str]) -> str | None:
    """Check `KEYWORD NAME {` and return NAME, or open a broken block.

    `errors` holds Kore's messages: "missing" (no NAME), "brace" (the second
    word is not "{") and "nested" (a block of this kind is already open).
    """
    args = line.args
    if b.current(kind) is not None:
        raise Problem(errors["nested"])
    if len(args) < 2 or args[1].text != "{":
        if line.value.endswith("{"):
            b.open(kind, line, placeholder, broken=True)
        if len(args) < 2:  # `domain *`, `domain *{`: Kore calls both invalid
            raise Problem(errors["missing"] + _brace_hint(args[0].text), args[0])
        raise Problem(errors["brace"], args[1])
    _extra(b, line, 2)
    return args[0].text


def _brace_hint(word: str) -> str:
    if word == "{":
        return " (the block needs a name before '{')"
    if word.endswith("{"):
        return f" (write '{word[:-1]} {{' with a space before '{{')"
    return " (the '{' must end this line)"


def _extra(b: Builder, line: Line, keep: int) -> None:
    """Kore drops words beyond a directive's maximum; korepyd says so."""
    if len(line.args) > keep:
        b.warn(f"extra words after '{line.args[keep - 1].text}' are ignored", line, line.args[keep])


@directive("server", "server NAME {", "A named group of listeners (bind, unix, tls).", era="4.0+")
def server(b: Builder, line: Line) -> None:
    errors = {
        "missing": "server context invalid",
        "brace": "server context not opened correctly",
        "nested": "nested server contexts are not allowed",
    }
    name = _opener(b, line, "server", model.Server("?"), errors)
    block = b.open("server", line, model.Server(name))
    if name in b.servers:
        block.broken = True
        raise Problem(f"server with name '{name}' exists", line.args[0])
    b.servers[name] = block.obj


@directive("domain", "domain NAME {", "A virtual host: a host name or a glob such as *.example.com.")
def domain(b: Builder, line: Line) -> None:
    errors = {
        "missing": "invalid domain context",
        "brace": "domain context not opened correctly",
        "nested": "nested domain contexts are not allowed",
    }
    name = _opener(b, line, "domain", model.Domain("?", ""), errors)
    block = b.open("domain", line, model.Domain(name, "", pos=line.pos(line.args[0])))
    if len(name) >= 254:
        block.broken = True
        raise Problem(f"domain name '{name}' too long", line.args[0])


@directive("privsep", "privsep worker|keymgr|acme {", "Privilege settings of one process role.", era="4.2+")
def privsep(b: Builder, line: Line) -> None:
    errors = {
        "missing": "invalid privsep context",
        "brace": "privsep context not opened correctly",
        "nested": "nested privsep contexts are not allowed",
    }
    role = _opener(b, line, "privsep", ("?", model.Privsep()), errors)
    block = b.open("privsep", line, (role, b.privsep.get(role, model.Privsep())))
    if role not in PRIVSEP_ROLES:
        block.broken = True
        raise Problem(f"unknown privsep context: {role}", line.args[0])


@directive("authentication", "authentication NAME {", "A named authentication check for routes and filemaps.")
def authentication(b: Builder, line: Line) -> None:
    if b.current("authentication") is not None:
        raise Problem("previous authentication block not closed")
    args = line.args
    placeholder = model.Authentication("?", "", None, "")
    if len(args) < 2:
        if line.value.endswith("{"):
            b.open("authentication", line, placeholder, broken=True)
        if args[0].text != "{":  # Kore says "missing name" here too, which misleads
            raise Problem("missing { for authentication block", args[0])
        raise Problem("missing name for authentication block")
    if args[1].text != "{":
        raise Problem("missing { for authentication block", args[1])
    _extra(b, line, 2)
    name = args[0].text
    block = b.open("authentication", line, replace(placeholder, name=name))
    if name in b.authentications:
        block.broken = True
        raise Problem(f"authentication '{name}' is already defined", args[0])


@directive("route", "route PATH { ... }  or (Kore 4.0/4.1) route PATH HANDLER [AUTH]",
           "A handler for a path: exact when PATH starts with '/', else a regex.", context="domain", era="4.0+")
def route(b: Builder, line: Line) -> None:
    args = line.args
    if len(args) >= 2 and args[1].text == "{":
        _route_block(b, line)
        return
    domain = b.require("domain", "route keyword not in domain context")
    if len(args) < 2:
        if line.value.endswith("{"):
            b.open("route", line, model.Route("?", False, None), broken=True)
        raise Problem("invalid route context")
    # Kore 4.0/4.1: route PATH HANDLER [AUTH]
    path = args[0].text
    _extra(b, line, 3)
    auth = _auth_name(b, line, 2, path)
    add_route(b, domain, line, path, regex=_is_regex(b, line), handler=args[1], auth=auth)


def _route_block(b: Builder, line: Line) -> None:
    b.require("domain", "route keyword not in domain context")
    if b.current("route") is not None:
        raise Problem("nested route contexts not allowed")
    _extra(b, line, 2)
    path = line.args[0].text
    block = b.open("route", line, model.Route(path, False, None))
    try:
        block.obj = replace(block.obj, regex=_is_regex(b, line))
    except Problem:
        block.broken = True
        raise


def _is_regex(b: Builder, line: Line, *, always: bool = False) -> bool:
    """Kore 4.x: a path starting with '/' is exact, anything else a regex."""
    path = line.args[0].text
    if path.startswith("/") and not always:
        return False
    try:
        compile_posix(path)
    except RegexProblem as exc:
        raise Problem(f"failed to create route handler for '{path}': {exc}", line.args[0]) from None
    return True


def _auth_name(b: Builder, line: Line, index: int, path: str) -> str | None:
    if len(line.args) <= index:
        return None
    word = line.args[index]
    return b.known_authentication(word, f"no such authentication '{word.text}' for '{path}' found")


def add_route(b: Builder, domain: Block, line: Line, path: str, *, regex: bool, handler, auth) -> None:
    """Add a one-line route (Kore 3.x static/dynamic, 4.0/4.1 route)."""
    callback = model.Callback(handler.text, line.pos(handler))
    item = model.Route(path, regex, callback, authenticate=auth)
    domain.obj = replace(domain.obj, routes=domain.obj.routes + (item,))


@directive("params", "params [qs:]METHOD PATH {",
           "Parameter rules for an earlier route of the same path (Kore 3.x-4.1).", context="domain", era="-4.1")
def params(b: Builder, line: Line) -> None:
    domain = b.require("domain", "params keyword not in domain context")
    if b.current("params") is not None:
        raise Problem("previous params block not closed")
    args = line.args
    placeholder = (None, "", False)
    if len(args) < 2:
        if line.value.endswith("{"):
            b.open("params", line, placeholder, broken=True)
        raise Problem("missing parameters for params: [qs:]METHOD PATH {")
    block = b.open("params", line, placeholder, broken=True)
    method, qs = parse_param_method(args[0], args[1].text, "params block")
    if len(args) > 2 and args[2].text != "{":
        b.warn("extra words after the path are ignored", line, args[2])
    index = find_route(domain, args[1].text)
    if index is None:
        raise Problem(f"params for unknown page handler: {args[1].text}", args[1])
    block.obj, block.broken = (index, method, qs), False


def parse_param_method(word, path: str, where: str) -> tuple[str, bool]:
    """`[qs:]METHOD` as in `params` and `validate`; GET implies qs.

    `where` completes Kore's "unknown method: X in ..." message.
    """
    text = word.text
    qs = False
    if ":" in text:
        prefix, text = text.split(":", 1)
        if prefix.lower() != "qs":
            raise Problem(f"unknown validate method prefix '{prefix}' for '{path}'", word)
        qs = True
    method = text.lower()
    if method not in PARAM_METHODS:
        raise Problem(f"unknown method: {text} in {where} for {path}", word)
    return method, qs or method == "get"


def find_route(domain: Block, path: str) -> int | None:
    """Index of the route of the open domain written with exactly `path`."""
    for index, item in enumerate(domain.obj.routes):
        if isinstance(item, model.Route) and item.path == path:
            return index
    return None


# -- closing ------------------------------------------------------------


def _close_server(b: Builder, block: Block) -> None:
    b.servers[block.obj.name] = block.obj


def _close_domain(b: Builder, block: Block) -> None:
    b.domains.append(block.obj)


def _close_route(b: Builder, block: Block) -> None:
    route = block.obj
    if route.handler is None:
        raise Problem(f"route '{route.path}' has no handler (add a 'handler NAME' line)")
    domain = b.current("domain")
    if domain is not None:
        domain.obj = replace(domain.obj, routes=domain.obj.routes + (route,))


def _close_privsep(b: Builder, block: Block) -> None:
    role, settings = block.obj
    b.privsep[role] = settings


def _close_authentication(b: Builder, block: Block) -> None:
    auth = block.obj
    if not auth.validator:
        problem = f"no authentication validator for {auth.name}"
    elif not auth.type:
        problem = f"authentication '{auth.name}' has no authentication_type (cookie, header or request)"
    elif auth.type in ("cookie", "header") and not auth.value:
        problem = f"authentication '{auth.name}' of type {auth.type} needs an authentication_value"
    else:
        b.authentications[auth.name] = auth
        return
    b.broken_names.add(auth.name)  # later uses of the name are not errors too
    raise Problem(problem)


CLOSERS = {
    "server": _close_server,
    "domain": _close_domain,
    "route": _close_route,
    "params": lambda b, block: None,
    "privsep": _close_privsep,
    "authentication": _close_authentication,
}
