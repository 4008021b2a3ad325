"""kore.config: write-only settings, checked like kore.conf lines
(Kore: the pyconfig type of src/python.c).

Layer: app API (kore).
"""

from korepyd.kore import _state


class _Config:
    """Assign settings (`kore.config.workers = 2`) while the app configures."""

    __slots__ = ()

    def __setattr__(self, name: str, value) -> None:
        if _state.phase == _state.REPLAYING:
            return  # the parent already applied it
        if _state.phase != _state.CONFIGURING:
            raise RuntimeError("configured cannot be changed at runtime")
        _state.code.set(name, value)

    def __getattr__(self, name: str):
        raise AttributeError(f"kore.config.{name} can only be written")


config = _Config()
