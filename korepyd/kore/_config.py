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
        if _state.phase != _state.CONFIGURING:  # Kore's words; a kore.conf app's kore_parent_configure is too late
            raise RuntimeError("configured cannot be changed at runtime (kore.config is written at import or in "
                               "koreapp.configure(); kore_parent_configure runs once the configuration is read)")
        _state.code.set(name, value)

    def __getattr__(self, name: str):
        raise AttributeError(f"kore.config.{name} can only be written")


config = _Config()
