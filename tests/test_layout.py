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
    if path.name == "claims.py":          # the reports' claims name their models: once, in one assignment
        allowed = [n.lineno for n in tree.body if isinstance(n, ast.Assign)
                   and [getattr(t, "id", None) for t in getattr(n.targets[0], "elts", [])] == ["VAE", "GAN", "WGAN"]]
        named = [line for line in named if line not in allowed]
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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_blocks(tree) -> set[int]:
    """ids of the import statements under `if TYPE_CHECKING:` (annotations only: never executed)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return out


def import_graph() -> dict[str, set[str]]:
    """gen_core module -> the gen_core modules it imports, at module level or inside a function
    (both run), but not under TYPE_CHECKING. `from . import x` of a module counts as importing x."""
    modules = {_module_name(p): p for p in SOURCES}
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_blocks(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("gen_core")}
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                if not target.startswith("gen_core"):
                    continue
                submodules = {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules}
                # `from .. import losses` imports the submodule; the package around it is already there
                found |= submodules if submodules and not node.module else submodules | {target}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan): the import circles."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycles_finds_a_circle_drawn_by_hand():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_circle():
    """Imports run one way: config and errors at the bottom, families above config (annotations only
    below it), the loop, the funnel (runs), then the pool, Slurm, the bench and the report on top."""
    assert cycles(import_graph()) == []


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_library_never_imports_the_report_or_the_book():
    """Everything that trains without Jupyter (the CLI, the pool, Slurm tasks, the bench) works below
    gen_core.report and gen_core.book, directly or through another module; only the report itself and
    the book that executes its notebooks import them (the book: the report too)."""
    graph = import_graph()
    above = ("gen_core.report", "gen_core.book")
    library = [m for m in graph if not m.startswith(above) and m != "gen_core"]
    assert "gen_core.runs" in library and "gen_core.workers" in library and "gen_core.slurm" in library
    reaching = {m: sorted(t for t in reachable(graph, m) if t.startswith(above)) for m in library}
    assert {m: t for m, t in reaching.items() if t} == {}
    assert not any(t.startswith("gen_core.book") for m in graph if m.startswith("gen_core.report")
                   for t in reachable(graph, m))


def test_the_layout_shows_the_flow():
    """The library, its families, then the report built on it; the report never imported below."""
    assert {p.stem for p in (PACKAGE / "families").glob("*.py")} >= {"__init__", "base", "vae", "gan", "wgan"}
    assert {p.stem for p in (PACKAGE / "report").glob("*.py")} >= {
        "session", "experiment", "provenance", "runsets", "tables", "findings", "weights", "plots", "manifest"}
    assert (PACKAGE / "runs.py").exists() and (PACKAGE / "cost.py").exists() and (PACKAGE / "slurm.py").exists()
    assert not (PACKAGE / "launch.py").exists()
