"""The shape of the package: family knowledge stays in families/, and no module reaches into
another's private names. These read the source, so a regression fails here first."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gen_core import families

PACKAGE = Path(__file__).resolve().parent.parent / "gen_core"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _docstrings(tree) -> set[int]:
    """ids of the string constants that are docstrings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


@pytest.mark.parametrize("path", [p for p in SOURCES if "families" not in p.parts], ids=lambda p: p.name)
def test_no_module_outside_families_names_a_family(path):
    """No `family == "gan"` branch, no table keyed by "vae": code asks the family's module instead."""
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    named = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Constant)
             and node.value in families.names() and id(node) not in docstrings]
    assert named == [], f"{path.relative_to(PACKAGE.parent)} names a family at lines {named}"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_uses_another_modules_private_names(path):
    """Neither `from .x import _name` nor `x._name` on a gen_core module it imported."""
    tree = ast.parse(path.read_text())
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module != "__future__" for alias in node.names if _private(alias.name)]
    # names bound to gen_core modules: `from . import data`, `from .. import families`, `import gen_core.x as y`
    modules = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.level > 0 and not node.module for alias in node.names}
    modules |= {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names if alias.name.startswith("gen_core")}
    private += [f"{node.value.id}.{node.attr}" for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id in modules and _private(node.attr)]
    assert private == []


def test_the_layout_shows_the_flow():
    """The library, its families, then the report built on it; the report never imported below."""
    assert {p.stem for p in (PACKAGE / "families").glob("*.py")} >= {"__init__", "base", "vae", "gan", "wgan"}
    assert {p.stem for p in (PACKAGE / "report").glob("*.py")} >= {
        "session", "experiment", "provenance", "runsets", "tables", "findings", "weights", "plots", "manifest"}
    # the commands on top: the book, `python -m gen_core` and its launcher's tasks, and the bench's
    # bf16 check (they measure each run as a page would, through report.session)
    commands = ("book.py", "__main__.py", "launch.py", "bench.py")
    library = [p for p in SOURCES if "report" not in p.parts and p.name not in commands
               and p != PACKAGE / "__init__.py"]                           # its docstring names the report
    for path in library:
        text = path.read_text()
        assert not any(f in text for f in ("from .report", "from ..report", "gen_core.report")), path.name
