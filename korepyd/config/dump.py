"""A Config as plain JSON-able data, for `korepyd -t --dump` and the golden
files of the tests: the settings that differ from their defaults, then
every block. Source positions are left out; callbacks are their names.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from korepyd.config import model

_TOP_BLOCKS = ("servers", "domains", "validators", "authentications",
               "privsep_worker", "privsep_keymgr", "privsep_acme")


def to_data(config: model.Config) -> dict[str, Any]:
    settings = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name not in _TOP_BLOCKS and value != f.default:
            settings[f.name] = _plain(value)
    data: dict[str, Any] = {"settings": settings}
    for name in _TOP_BLOCKS:
        value = getattr(config, name)
        if value != model.Privsep() and value != ():
            data[name] = _plain(value)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, model.Callback):
        return value.name
    if dataclasses.is_dataclass(value):
        out = {"kind": type(value).__name__} if isinstance(value, (model.Route, model.Filemap, model.Bind,
                                                                  model.UnixBind)) else {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name != "pos" and item != f.default:
                out[f.name] = _plain(item)
        return out
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
