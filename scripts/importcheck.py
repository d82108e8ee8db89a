"""Import every module of Berth's four packages from the installed distribution.

Run as `python -I scripts/importcheck.py SOURCE_DIR` from outside the source tree, so that only
what `pip install .` put into the environment is found. Exits 1 and names each module that fails
to import (an undeclared dependency, a module left out of the wheel), each package-data file the
wheel lacks, and a package found in SOURCE_DIR instead of the installation.
"""

from __future__ import annotations

import importlib
import importlib.resources
import pkgutil
import sys
from pathlib import Path

PACKAGES = ("registry", "trust", "runtime_client", "migrations")
# Alembic loads these by file path inside its own context; they are checked as package data.
NOT_IMPORTED = ("migrations.env", "migrations.versions")
# Files the code opens at run time beside its modules: each must be in the wheel.
PACKAGE_DATA = {
    "migrations": ("env.py", "script.py.mako", "versions/0001_registry_tables.py"),
    "registry.web": ("templates/base.html", "templates/repositories/tag.html", "static/berth.js"),
}


def check(source_dir: Path) -> list[str]:
    failures: list[str] = []
    missing: dict[str, list[str]] = {}
    for top in PACKAGES:
        package = importlib.import_module(top)
        for location in package.__path__:
            if Path(location).resolve() == source_dir / top:
                failures.append(f"{top}: imported from the source tree {location}")
        for module in pkgutil.walk_packages(package.__path__, top + "."):
            if module.name.startswith(NOT_IMPORTED):
                continue
            try:
                importlib.import_module(module.name)
            except ModuleNotFoundError as error:
                missing.setdefault(str(error.name), []).append(module.name)
            except Exception as error:  # every failure is reported, by name
                failures.append(f"{module.name}: {type(error).__name__}: {error}")
    for name, importers in missing.items():
        failures.append(f"no module named {name!r} (declare it in pyproject.toml), "
                        f"needed by {len(importers)} modules: {', '.join(importers[:3])} ...")
    for package, names in PACKAGE_DATA.items():
        for name in names:
            if not importlib.resources.files(package).joinpath(name).is_file():
                failures.append(f"{package}: package data {name} is not installed")
    return failures


def main() -> int:
    failures = check(Path(sys.argv[1]).resolve())
    for failure in failures:
        print(f"importcheck: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
