"""korepyd's optional compiled request path; everything else about the package
is in pyproject.toml.

build_ext compiles the modules of korepyd/compiled.py's HOT_PATH with Cython,
as they are, into korepyd/_compiled/, with the declarations
korepyd/declarations.py makes from their sources, and writes the manifest
of the sources it compiled (see korepyd/compiled.py for how they are
loaded). `pip install` (and `make build`, which runs it) is how it runs. The
build is optional: without Cython or a C compiler, or with
KOREPYD_NO_EXTENSIONS=1, it says so and korepyd installs as pure Python.
"""

import importlib.util
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _load(name: str):
    """korepyd/NAME.py on its own: importing korepyd here would need its dependencies."""
    spec = importlib.util.spec_from_file_location(f"_korepyd_{name}", ROOT / "korepyd" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compiled, declarations = _load("compiled"), _load("declarations")
COMPILED = Path("korepyd", compiled.DIRECTORY.name)
MANIFEST = str(COMPILED / compiled.MANIFEST)
CYTHON_OUTPUT = "build/cython"
DECLARATIONS = Path("build/pxd")   # the generated .pxd files, found by Cython on its include path
# Where `pip install -e` builds (its own directories are temporary): kept, a rebuild redoes only what changed.
IN_PLACE_LIB, IN_PLACE_TEMP = "build/in-place/lib", "build/in-place/temp"
BUILD = "setup.py"  # the manifest's line for how modules are built: a change of it rebuilds everything


# Each job compiles one module, on as many processors as this process may use.
JOBS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hot_path():
    """The largest sources first: the parallel jobs then end together."""
    # The C is Cython's: its warnings are not ours to mend (-w), nobody debugs it (-g0: a third the size);
    # -O2, not Python's -O3: 15% less compile time for 0.8% more instructions per plain request.
    names = sorted(compiled.HOT_PATH, key=lambda name: -compiled.source_of(name).stat().st_size)
    return [Extension(name, [str(compiled.source_of(name).relative_to(ROOT))], extra_compile_args=["-w", "-g0", "-O2"])
            for name in names]


def _write_declarations() -> None:
    """build/pxd/korepyd/.../NAME.pxd for each hot module that declares anything."""
    for name in compiled.HOT_PATH:
        text = declarations.pxd(compiled.source_of(name).read_text())
        target = DECLARATIONS.joinpath(*name.split(".")).with_suffix(".pxd")
        if text:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.read_text() != text:  # a newer .pxd makes Cython redo its module
                target.write_text(text)
        else:
            target.unlink(missing_ok=True)


class build_optional_ext(build_ext):
    def finalize_options(self):
        """Drops the extensions when they cannot be built. Nothing is written
        yet: pip finalizes this command in phases that build nothing."""
        if self.editable_mode or self.inplace:
            self.build_lib, self.build_temp = IN_PLACE_LIB, IN_PLACE_TEMP
        try:
            if compiled.disabled():
                raise RuntimeError(f"{compiled.DISABLE} is set")
            import Cython.Build  # noqa: F401 - only whether it is there
        except Exception as why:  # noqa: BLE001 - whatever it is, korepyd stays pure Python and says so
            self._pure_python(why)
        super().finalize_options()
        if self.parallel is None:  # unless -j says otherwise
            self.parallel = JOBS

    def run(self):
        """Turns the Python sources into C first (what changed only), on every processor."""
        self.checksums = {name: compiled.checksum(compiled.source_of(name)) for name in compiled.HOT_PATH}
        self.checksums[BUILD] = compiled.checksum(Path(__file__), ROOT / "korepyd" / "declarations.py")
        if self.extensions:
            try:
                from Cython.Build import cythonize

                self._forget_changed()
                _write_declarations()
                c_files = {ext.name: ext.sources for ext in cythonize(
                    hot_path(), build_dir=CYTHON_OUTPUT, quiet=True, include_path=[str(DECLARATIONS)],
                    nthreads=JOBS if JOBS > 1 else 0,
                    compiler_directives={"language_level": 3, "annotation_typing": False})}
                for ext in self.extensions:
                    ext.sources = c_files[ext.name]
            except Exception as why:  # noqa: BLE001 - as above
                self._pure_python(why)
        super().run()

    def _forget_changed(self):
        """Cython and build_ext go by timestamps; a source whose checksum is not
        the last build's (or every source, when this file's is not) loses its
        C file, so both redo it. The last build's manifest goes too, until
        this build has succeeded."""
        build_lib = self.build_lib or self.get_finalized_command("build").build_lib
        last = Path(build_lib, MANIFEST)
        try:
            built = dict(line.split(" ", 1) for line in last.read_text().splitlines())
        except (OSError, ValueError):
            built = {}
        last.unlink(missing_ok=True)
        for name in compiled.HOT_PATH:
            if built.get(name) != self.checksums[name] or built.get(BUILD) != self.checksums[BUILD]:
                Path(CYTHON_OUTPUT, *name.split(".")).with_suffix(".c").unlink(missing_ok=True)

    def build_extensions(self):
        try:
            super().build_extensions()
        except Exception as why:  # noqa: BLE001 - as above
            self._pure_python(f"{str(why).rstrip('.')}; it needs a C compiler and Python's headers: "
                              f"apt-get install gcc python3-dev")
            return
        Path(self.build_lib, MANIFEST).write_text(compiled.format_manifest(self.checksums))

    def get_ext_fullpath(self, ext_name):
        return str(Path(self.build_lib, self._relative(ext_name)))

    def copy_extensions_to_source(self):
        """For `pip install -e`: the extensions and their manifest into the tree's korepyd/_compiled/."""
        if not self.extensions:
            return
        for relative in [self._relative(ext.name) for ext in self.extensions] + [MANIFEST]:
            (ROOT / relative).parent.mkdir(exist_ok=True)
            self.copy_file(str(Path(self.build_lib, relative)), str(ROOT / relative))

    def _relative(self, ext_name):
        """korepyd/_compiled/korepyd.http.connection.<abi>.so, not beside its source
        (there it would shadow the source however stale it became)."""
        return str(COMPILED / (ext_name + self.get_ext_filename("")))

    def _pure_python(self, why):
        print(f"korepyd: the compiled request path is not built ({str(why).rstrip('.')}); "
              f"korepyd runs as pure Python", file=sys.stderr)
        self.distribution.ext_modules = self.extensions = []


setup(
    ext_modules=hot_path(),
    cmdclass={"build_ext": build_optional_ext},
)
