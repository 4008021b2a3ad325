"""man/kore.conf.5, generated from the directive table: every directive
with its syntax, where it may stand, its default and its meaning.

    python -m korepyd.config.manpage > man/kore.conf.5   (make man)

A test regenerates the page and fails when it differs from the committed
one, so the table and the page cannot disagree.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import dataclasses

from korepyd import __version__
from korepyd.config import directives, model

CONTEXTS = [
    ("", "GLOBAL SETTINGS AND DIRECTIVES", "These may appear anywhere; settings inside a block still apply globally."),
    ("server", "SERVER BLOCKS", "Inside server NAME { ... } (Kore 4.0 and later)."),
    ("domain", "DOMAIN BLOCKS", "Inside domain NAME { ... }."),
    ("route", "ROUTE BLOCKS", "Inside route PATH { ... } in a domain (Kore 4.2 and later)."),
    ("privsep", "PRIVSEP BLOCKS", "Inside privsep worker|keymgr|acme { ... } (Kore 4.2 and later)."),
    ("authentication", "AUTHENTICATION BLOCKS", "Inside authentication NAME { ... }."),
]

HEADER = r""".Dd $DATE
.Dt KORE.CONF 5
.Os korepyd $VERSION
.Sh NAME
.Nm kore.conf
.Nd configuration file of korepyd, the Kore web platform in Python
.Sh DESCRIPTION
.Nm
is read one line at a time, as Kore reads it.
Leading blanks are skipped; a line whose first character is then
.Sq #
is a comment (there are no comments after a value).
A line holding only
.Sq }
closes a block.
Any other line is a keyword, a blank, and a value: the rest of the line.
There is no quoting and no line continuation.
A block opens with a line ending in
.Sq {
after its name, as in
.Dl domain example.com {
.Pp
A value that starts with
.Sq $
names an environment variable whose content is used instead.
.Ic include Ar path
reads another file at that point (relative to the working directory).
.Pp
The syntax of Kore 3.x (static, dynamic, params, global bind and root),
Kore 4.0 and 4.1 (server blocks, one-line routes) and Kore 4.2 and later
(route and privsep blocks) is accepted, also mixed in one file.
Check a file with
.Dl korepyd -t -c kore.conf
"""

FOOTER = r""".Sh SEE ALSO
.Xr korepyd 8
.Sh HISTORY
The language is that of Kore
.Pq https://kore.io ;
the README of korepyd lists every place where korepyd departs from it.
"""


def render(date: str = "November 22, 2026") -> str:
    parts = [HEADER.replace("$DATE", date).replace("$VERSION", __version__)]
    for context, title, intro in CONTEXTS:
        entries = sorted((d for d in directives.TABLE.values() if d.context == context), key=lambda d: d.name)
        parts.append(f".Sh {title}\n{_text(intro)}\n.Bl -tag -width Ds\n")
        for d in entries:
            parts.append(_entry(d))
        parts.append(".El\n")
    parts.append(FOOTER)
    return "".join(parts)


def _entry(d: directives.Directive) -> str:
    keyword, _, args = d.syntax.partition(" ")
    lines = [f".It Ic {keyword}" + (f" Ar {_arg(args)}" if args else ""), _text(d.doc)]
    if d.setting:
        lines.append(f"Default: {_text(_default(d.name))}.")
    if d.era not in ("all", ""):
        lines.append(f"Kore versions: {_text(d.era)}.")
    return "\n".join(lines) + "\n"


def _default(name: str) -> str:
    value = model.setting_default(name)
    if name == "workers":
        return "one per CPU"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == ():
        return "none"
    if isinstance(value, dataclasses.Field):  # pragma: no cover - defensive
        return "none"
    return str(value)


def _arg(text: str) -> str:
    return _text(text)


def _text(text: str) -> str:
    """Escape for mdoc: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in (".", "'") else text


if __name__ == "__main__":
    print(render(), end="")
