"""How a directive of kore.conf is declared: the Directive record, and
Directives, the list in which a module of handlers declares its keywords.
Layer: config. Each module of handlers (blocks, domain, statements) keeps
its own list of what it declares; directives.py joins those lists and the
global settings into its TABLE, so a handler module imports this one and
never the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from korepyd.config.build import Builder
from korepyd.config.syntax import Line

Apply = Callable[[Builder, Line], None]


@dataclass(frozen=True)
class Directive:
    """One keyword of kore.conf.

    `context` is the kind of block that must be open for the keyword to
    apply ("" means anywhere); `era` is the Kore versions that have it;
    `setting` is True for global scalar settings, whose default is the
    Config field of the same name.
    """

    name: str
    syntax: str
    context: str
    doc: str
    era: str
    apply: Apply
    setting: bool = False


class Directives(list):
    """The directives one module declares, in the order it declares them:
    `DIRECTIVES = Directives()`, then `@DIRECTIVES.declare(name, syntax, doc)`
    on each handler (or `DIRECTIVES.declare(...)(handler)` for a made one)."""

    def declare(self, name: str, syntax: str, doc: str, *, context: str = "", era: str = "all"):
        def handler(apply: Apply) -> Apply:
            self.append(Directive(name, syntax, context, doc, era, apply))
            return apply

        return handler
