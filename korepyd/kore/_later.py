"""Names of the `kore` module whose support is still being built
(PostgreSQL). They exist so that apps import, and say what is missing
when they are called."""


def _missing(name: str, what: str):
    def call(*args, **kwargs):
        raise NotImplementedError(f"kore.{name}: {what} is not available in this korepyd yet")

    call.__name__ = name
    return call


dbsetup = _missing("dbsetup", "PostgreSQL")
dbquery = _missing("dbquery", "PostgreSQL")
register_database = _missing("register_database", "PostgreSQL")
