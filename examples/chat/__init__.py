from .app import koreapp  # noqa: F401  (Kore looks for koreapp in the package)
