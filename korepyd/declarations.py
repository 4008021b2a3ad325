"""The Cython declarations (.pxd) of the compiled request path, made from its
Python sources at build time, so that each declaration lives in one place:
the source. Layer: build (setup.py loads this file on its own; nothing at
run time imports it).

From each module of korepyd/compiled.py's HOT_PATH:

- a class with `__slots__` becomes an extension type (of the same bases)
  with those attributes (`__dict__` among them keeps an instance dict); an attribute
  annotated in the class body as `bool` or `int` is a C field (bint,
  Py_ssize_t), any other an object;
- a function or method whose `def` line ends with the pragma `# cpdef` is
  declared cpdef: called from the same module as a C function. A parameter
  annotated `bool` is a bint, one annotated `bytes` a bytes object (its
  methods are C calls); one with a default is declared `=*`. A local
  variable annotated `bytes` without a value (`value: bytes`, which Python
  ignores) is typed so too.
"""

from __future__ import annotations

import ast

PRAGMA = "# cpdef"
C_TYPES = {"bool": "bint", "int": "Py_ssize_t"}       # of attributes
PARAMETER_TYPES = {"bool": "bint", "bytes": "bytes"}  # of a cpdef function's parameters and locals


def pxd(source: str) -> str:
    """The .pxd text for a module's source (empty: nothing to declare)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out += _extension_type(node, lines)
        elif isinstance(node, ast.FunctionDef) and _marked(node, lines):
            out += _cpdef(node)
    if any(line.lstrip().startswith("@cython.") for line in out):
        out.insert(0, "cimport cython\n")
    return "".join(line + "\n" for line in out)


def _extension_type(node: ast.ClassDef, lines: list[str]) -> list[str]:
    slots = _slots(node)
    if slots is None:
        return []
    types = {stmt.target.id: C_TYPES.get(ast.unparse(stmt.annotation), "object")
             for stmt in node.body if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)}
    bases = ", ".join(ast.unparse(base) for base in node.bases)
    out = [f"cdef class {node.name}({bases}):" if bases else f"cdef class {node.name}:"]
    if "__dict__" in slots:
        out.append("    cdef dict __dict__")
    by_type: dict[str, list[str]] = {}
    for name in slots:
        if name != "__dict__":
            by_type.setdefault(types.get(name, "object"), []).append(name)
    out += [f"    cdef public {c_type} {', '.join(names)}" for c_type, names in by_type.items()]
    out += ["    " + line for item in node.body if isinstance(item, ast.FunctionDef) and _marked(item, lines)
            for line in _cpdef(item)]
    return out + [""]


def _slots(node: ast.ClassDef) -> list[str] | None:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets):
            return list(ast.literal_eval(stmt.value))
    return None


def _marked(node: ast.FunctionDef, lines: list[str]) -> bool:
    """The pragma ends a line of the signature (from `def` to the body)."""
    signature = lines[node.lineno - 1:max(node.body[0].lineno - 1, node.lineno)]
    return any(line.rstrip().endswith(PRAGMA) for line in signature)


def _cpdef(node: ast.FunctionDef) -> list[str]:
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise ValueError(f"{node.name}: a cpdef function takes positional parameters only")
    params = args.posonlyargs + args.args
    first_default = len(params) - len(args.defaults)
    parts = []
    for index, param in enumerate(params):
        c_type = PARAMETER_TYPES.get(ast.unparse(param.annotation)) if param.annotation is not None else None
        parts.append((f"{c_type} {param.arg}" if c_type else param.arg) + ("=*" if index >= first_default else ""))
    local_types = {stmt.target.id: PARAMETER_TYPES[ast.unparse(stmt.annotation)] for stmt in ast.walk(node)
                   if isinstance(stmt, ast.AnnAssign) and stmt.value is None and isinstance(stmt.target, ast.Name)
                   and ast.unparse(stmt.annotation) in PARAMETER_TYPES}
    locals_line = [f"@cython.locals({', '.join(f'{n}={t}' for n, t in local_types.items())})"] if local_types else []
    return locals_line + [f"cpdef {node.name}({', '.join(parts)})"]
