"""The tests' own layout: helpers live in ``tests/support/`` only. No file under ``tests/`` (the
``conftest.py`` files aside, which register fixtures) imports from another test module or from a
helper kept next to the tests: a newcomer finds every shared helper in one place."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    """``tests/e2e/test_x.py`` → ``tests.e2e.test_x`` (a package's ``__init__`` → the package)."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module that ``source`` (the text of ``module``) imports from, wherever the import
    stands (a function's imports too), relative imports resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                base = package[: len(package) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            # `from tests import e2e` imports the module tests.e2e
            found |= {f"{name}.{alias.name}" for alias in node.names if name == "tests"}
    return found


def outside_support(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name.startswith("tests.") and not (name + ".").startswith("tests.support.")
    )


def test_tests_import_helpers_from_tests_support_only() -> None:
    wrong = {
        str(path.relative_to(TESTS.parent)): bad
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py"
        and (
            bad := outside_support(
                imported_modules(
                    path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
                )
            )
        )
    }
    assert wrong == {}, "move what these import into tests/support/"


def test_the_check_sees_every_kind_of_import() -> None:
    """The check above proves something: it finds each way of reaching into another test module,
    and lets tests.support (and everything outside tests) through."""
    here = "tests.e2e.test_here"
    wrong = {
        "from tests.e2e.test_other import join": ["tests.e2e.test_other"],
        "import tests.integration.janus_fixtures": ["tests.integration.janus_fixtures"],
        "from tests.e2e import accounts": ["tests.e2e"],
        "from tests import e2e": ["tests.e2e"],
        "def f():\n    from tests.unit.test_x import y": ["tests.unit.test_x"],
        "from .firefox import FirefoxPage": ["tests.e2e.firefox"],
        "from ..integration.test_rooms import unique": ["tests.integration.test_rooms"],
        "from . import conftest": ["tests.e2e"],
        "from tests.supporting import x": ["tests.supporting"],
    }
    for source, expected in wrong.items():
        assert outside_support(imported_modules(source, here)) == expected, source
    fine = [
        "from tests.support.pages import join",
        "import tests.support.janus",
        "from tests.support import pages",
        "from tests import support",
        "from ..support.browser import poll",
        "import pytest\nfrom rathaus.errors import ClientError",
    ]
    for source in fine:
        assert outside_support(imported_modules(source, here)) == [], source
    assert module_name(TESTS / "e2e" / "test_x.py") == "tests.e2e.test_x"
    assert module_name(TESTS / "support" / "__init__.py") == "tests.support"
