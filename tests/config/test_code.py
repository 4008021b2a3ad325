"""Configuration written in code by a Kore 4.x app (config/code.py, through
the `kore` facade), without running a daemon."""

import textwrap

import pytest

from korepyd import app, kore
from korepyd.config.dump import to_data
from korepyd.errors import AppLoadError, ConfigError


def write_app(tmp_path, body, name="myapp"):
    path = tmp_path / f"{name}.py"
    path.write_text("import kore\n" + textwrap.dedent(body))
    return str(path)


def configure(tmp_path, body, *, args=(), conf=None, name="myapp"):
    loaded, module, _ = app.configure_app(write_app(tmp_path, body, name), list(args), conf)
    return loaded, module


def test_settings_servers_domains_and_routes(tmp_path):
    loaded, _ = configure(tmp_path, """
        def index(req): pass
        def check(req, value): return True
        class Pages:
            def show(self, req, n): pass
        pages = Pages()
        def configure(args):
            kore.config.workers = 3
            kore.config.http_pretty_error = True
            kore.server(name="web", ip="127.0.0.1", port=args[1], tls=False)
            d = kore.domain("*", attach="web")
            d.route("/", index)
            d.route("^/p/([0-9]+)$", pages.show, methods=["get", "post"], get={"id": "^[0-9]+$"},
                    post={"name": check}, qs={"debug": "^1$"})
            d.filemaps({"/static/": "static"})
        koreapp = type("K", (), {"configure": staticmethod(configure)})()
    """, args=["8000"], name="app_settings")
    data = to_data(loaded.config)
    assert data["settings"]["workers"] == 3 and data["settings"]["http_pretty_error"] is True
    assert data["settings"]["deployment"] == "dev"
    assert data["servers"] == [{"name": "web", "binds": [{"kind": "Bind", "host": "127.0.0.1", "port": "8000"}],
                                "tls": False}]
    routes = data["domains"][0]["routes"]
    assert [r["kind"] for r in routes] == ["Filemap", "Route", "Route"]  # filemaps first, as in Kore
    show = routes[2]
    assert show["handler"] == "pages.show" and show["methods"] == ["get", "post", "head"]
    assert [(p["method"], p["name"], p.get("qs", False)) for p in show["params"]] == [
        ("get", "id", True), ("get", "debug", True), ("post", "name", False), ("post", "debug", True)]


def test_handlers_anywhere_get_names_a_replay_gives_again(tmp_path):
    """Kore's `func` name where the app module has the function, else its
    module and qualified name (a submodule's handler, a lambda, a closure),
    unique; a worker's replay of the same code gives the same names."""
    (tmp_path / "handlers_sub.py").write_text(textwrap.dedent("""
        import kore
        @kore.route("/sub", methods=["get"])
        async def sub(req): pass
    """))
    path = write_app(tmp_path, """
        import handlers_sub
        kore.server(ip="127.0.0.1", port="1", tls=False)
        d = kore.domain("*")
        def index(req): pass
        def make(n):
            def handler(req): pass
            return handler
        d.route("/", index)
        d.route("/a", lambda req: None)
        d.route("/b", lambda req: None)
        d.route("/c", make(1))
        d.route("/d", make(2))
    """, "handlers_app")
    loaded, module, named = app.configure_app(path, [], None)
    routes = {r.path: r.handler.name for r in loaded.config.domains[0].routes}
    assert routes == {"/": "index", "/a": "handlers_app.<lambda>", "/b": "handlers_app.<lambda> #2",
                      "/c": "handlers_app.make.<locals>.handler", "/d": "handlers_app.make.<locals>.handler #2",
                      "/sub": "handlers_sub.sub"}
    assert named["handlers_sub.sub"] is module.handlers_sub.sub
    replayed, again, problems = app.replay_app(path, [], loaded.config)
    assert problems == [] and set(again) == set(named)
    assert again["handlers_sub.sub"] is replayed[0].handlers_sub.sub  # the app's module imported afresh
    assert again["handlers_sub.sub"] is not named["handlers_sub.sub"]


def test_configuration_file_is_read_after_the_code(tmp_path):
    (tmp_path / "extra.conf").write_text("workers 5\nserver s2 {\n bind 127.0.0.1 9001\n tls no\n}\n")
    loaded, _ = configure(tmp_path, f"""
        def index(req): pass
        kore.config.workers = 2
        kore.config.file = "{tmp_path / 'extra.conf'}"
        kore.server(ip="127.0.0.1", port="9000", tls=False)
        kore.domain("*").route("/", index)
    """, name="app_file")
    assert loaded.config.workers == 5
    assert [s.name for s in loaded.config.servers] == ["default", "s2"]


@pytest.mark.parametrize("body, message", [
    ('kore.server(ip="127.0.0.1", port=80)', "missing or invalid 'port' keyword"),
    ('kore.server(tls=False)', "missing ip or path keywords"),
    ('kore.server(ip="127.0.0.1", port="1", path="/x")', "ip/path are exclusive"),
    ('kore.domain("*", attach="nope")', "server 'nope' does not exist"),
    ('kore.server(ip="127.0.0.1", port="1")\nkore.domain("*")', "missing key or cert keywords for TLS listener"),
    ('kore.config.workers = 0', "bad value '0' for 'workers'"),
    ('kore.config.workers = 1.5', "invalid object"),
    ('kore.server(ip="127.0.0.1", port="1", tls=False)\nkore.domain("a")\nkore.domain("b")\n'
     '@kore.route("/")\ndef x(req): pass', "ambiguous domain on route"),
    ('kore.server(ip="127.0.0.1", port="1", tls=False)\nd = kore.domain("*")\nd.filemaps({"/s": "x"})',
     "must start and end with '/'"),
])
def test_errors_are_clear(tmp_path, body, message):
    with pytest.raises((ConfigError, AppLoadError)) as exc:
        configure(tmp_path, body, name=f"bad_{abs(hash(body))}")
    assert message in str(exc.value) or any(message in d.message for d in getattr(exc.value, "diagnostics", []))


def test_unknown_setting_is_a_warning_and_reading_is_an_error(tmp_path):
    loaded, _ = configure(tmp_path, """
        def index(req): pass
        kore.config.no_such_setting = 1
        try:
            kore.config.workers
        except AttributeError:
            kore.config.http_server_version = "read refused"
        kore.server(ip="127.0.0.1", port="1", tls=False)
        kore.domain("*").route("/", index)
    """, name="app_unknown")
    assert loaded.config.http_server_version == "read refused"
    assert any("ignoring unknown kore.config.no_such_setting" in d.message for d in loaded.warnings)


def test_configuration_is_closed_afterwards():
    with pytest.raises(RuntimeError, match="configured cannot be changed at runtime"):
        kore.config.workers = 2
    with pytest.raises(RuntimeError, match="only possible while the app configures"):
        kore.server(ip="127.0.0.1", port="1")
