"""The layers of docs/architecture.md, read off the source: what each
package may import. Imports inside functions count as much as those at the
top of a module (they load the same modules, only later)."""

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "korepyd"
SANS_IO = ["config", "core", "http1", "websocket", "ipc", "tls"]
TRIO_SIDE = {"ipc.channel"}    # ipc's one module that does I/O: the channel over the socketpair
FORBIDDEN = {"trio", "psycopg"}
ROLES = {"supervisor", "worker", "keymgr"}
# What the process holding the private keys, and the parent's loop, never load:
# the serving side (the worker, its wire protocols) and the app APIs.
SERVING = {"worker", "core", "http1", "websocket", "kore", "app"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path):
    """Every module `path` imports, absolute (`from . import x` resolved)."""
    tree = ast.parse(path.read_text())
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


@functools.cache
def sources() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "_compiled" not in p.parts}


@functools.cache
def korepyd_imports(module: str) -> frozenset[str]:
    """The korepyd modules `module` imports (a name that is not a module, as
    `from korepyd.ipc import Message`, counts as its package)."""
    found = set()
    for name in imported_modules(sources()[module]):
        while name and name not in sources():
            name = name.rpartition(".")[0]
        if name.startswith("korepyd") and name != module:
            found.add(name)
    return frozenset(found)


def closure(module: str) -> set[str]:
    """Every korepyd module that importing `module` can load (its packages' __init__ included)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(korepyd_imports(name))
        parent = name.rpartition(".")[0]
        if parent:
            todo.append(parent)
    return seen


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("package", SANS_IO)
def test_sans_io_packages_do_not_import_trio(package):
    for path in sorted((PACKAGE / package).rglob("*.py")):
        if module_name(path).removeprefix("korepyd.") in TRIO_SIDE:
            continue
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_only_grammar_imports_lark():
    users = [p.name for p in PACKAGE.rglob("*.py") if any(m.split(".")[0] == "lark" for m in imported_modules(p))]
    assert users == ["grammar.py"]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_roles_never_import_each_other(role):
    for module in sorted(m for m in sources() if package_of(m) == role):
        others = {package_of(m) for m in korepyd_imports(module)} & (ROLES - {role})
        assert not others, f"{module} imports the {others} role"


@pytest.mark.parametrize("role", ["supervisor", "keymgr"])
def test_supervisor_and_keymgr_load_nothing_that_serves(role):
    loaded = {package_of(m) for m in closure(f"korepyd.{role}")}
    assert not loaded & SERVING, f"korepyd.{role} loads {sorted(loaded & SERVING)}"


def test_the_closure_follows_imports_made_inside_functions():
    """The check above could pass by missing lazy imports: keymgr's ACME
    client is imported only when a domain has `acme yes`."""
    assert "korepyd.acme.client" in closure("korepyd.keymgr")


def package_graph() -> dict[str, set[str]]:
    """korepyd's packages (and top-level modules) and the ones each imports."""
    graph: dict[str, set[str]] = {}
    for module in sources():
        here = package_of(module)
        graph.setdefault(here, set()).update(package_of(m) for m in korepyd_imports(module) if package_of(m) != here)
    graph.pop("", None)
    return {name: imports - {""} for name, imports in graph.items()}


def test_no_import_cycle_between_packages():
    graph = package_graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(graph.get(name, ()))
        return False

    cycles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and reaches(b, a))
    assert cycles == []


APP_APIS = {"kore"}
WIRE = {"http1", "websocket", "tls"}


@pytest.mark.parametrize("package", sorted(WIRE | {"core"}))
def test_the_core_and_the_wire_protocols_import_no_app_api_and_no_role(package):
    for module in sorted(m for m in sources() if package_of(m) == package):
        above = {package_of(m) for m in korepyd_imports(module)} & (APP_APIS | ROLES | {"app"})
        assert not above, f"{module} imports {above}"


@pytest.mark.parametrize("package", sorted(WIRE))
def test_the_wire_protocols_import_no_core(package):
    for module in sorted(m for m in sources() if package_of(m) == package):
        assert "core" not in {package_of(m) for m in korepyd_imports(module)}, f"{module} imports the core"


@pytest.mark.parametrize("api", sorted(APP_APIS))
def test_app_apis_import_no_role(api):
    for module in sorted(m for m in sources() if package_of(m) == api):
        roles = {package_of(m) for m in korepyd_imports(module)} & ROLES
        assert not roles, f"{module} imports the {roles} role"


def test_every_module_imports_on_its_own():
    """No module needs another imported first (import order held
    `korepyd.config.blocks` together once): each in a fresh interpreter."""
    modules = sorted(m for m in sources() if not m.endswith("__main__"))
    running = {m: subprocess.Popen([sys.executable, "-c", f"import {m}"], cwd=PACKAGE.parent,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for m in modules}
    failed = {m: p.communicate()[1].decode().strip().splitlines()[-1:] for m, p in running.items()}
    assert {m: err for m, err in failed.items() if running[m].returncode} == {}


LAYER_OF = {"config": "config", "ipc": "ipc", "supervisor": "role (supervisor", "worker": "role (worker",
            "keymgr": "role (keymgr", "acme": "library", "tls": "wire", "websocket": "wire", "http1": "wire",
            "core": "request core", "kore": "app API (kore)"}


def test_every_module_says_which_layer_it_is_in():
    """docs/architecture.md's layers, in each module's header comment."""
    for module, path in sorted(sources().items()):
        doc = " ".join((ast.get_docstring(ast.parse(path.read_text())) or "").split())
        assert "Layer: " in doc, f"{module}: its docstring names no layer"
        expected = LAYER_OF.get(package_of(module)) if module.count(".") > 1 else None
        if expected:
            assert f"Layer: {expected}" in doc, f"{module}: not in the {expected} layer?"
