"""Digests of source code: what a run's name covers, and what a notebook's fingerprint reads.

    code_digest(train.train, vae_step, ...)   the code these execute, read as syntax trees
    files_digest(paths)                       the bytes of files (fast; no imports needed)

`code_digest` hashes the syntax tree (docstrings dropped; comments are never in it) of each
function or class it is given and, transitively, of every gen_core function and class they
name, with the plain values (numbers, strings, tuples, dicts of them) of the module-level
names they read. So a run's hash (config.RunConfig.run_hash) changes when the code its
training executes changes, and not when a title, a chapter question, a bench goal or a comment
is edited: those are never named by the training code. `self.x` inside a family's method is
resolved on the family's class (`owner`).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import sys
import textwrap
import types
from pathlib import Path

PACKAGE = "gen_core"
PACKAGE_DIR = Path(__file__).resolve().parent


def files_digest(paths, root: Path | None = None) -> str:
    """sha256 of the files' contents (and their paths relative to `root`, if given); a missing file counts."""
    h = hashlib.sha256()
    for path in paths:
        path = Path(path)
        if root is not None:
            h.update(str(path.relative_to(root)).encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


def code_digest(*entry_points, owner: type | None = None) -> str:
    """sha256 over the syntax of `entry_points` and the gen_core code and values they reach. An entry
    point is a function or class, or its dotted name ("gen_core.train:train"), which lets a module low
    in the import graph (config) name code above it without importing it."""
    return _cached_digest(tuple(entry_points), owner, _sources_stamp())


def resolve(name: str):
    """"gen_core.train:train" -> the object."""
    import importlib

    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _sources_stamp() -> tuple:
    """The package's files and their modification times: an edit invalidates the cached digests,
    so a long-lived process (a pool worker) sees that the training code changed under it."""
    return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(PACKAGE_DIR.rglob("*.py")))


@functools.lru_cache(maxsize=64)
def _cached_digest(entry_points: tuple, owner, stamp) -> str:
    found: dict[str, str] = {}
    todo = [(resolve(obj) if isinstance(obj, str) else obj, owner) for obj in entry_points]
    while todo:
        obj, cls = todo.pop()
        obj = _callable_of(obj)
        key = f"{obj.__module__}.{obj.__qualname__}"
        if key in found:
            continue
        tree = _definition(obj)
        found[key] = canonical(tree)
        scope = vars(sys.modules[obj.__module__])
        for name, value in _named(tree, scope, cls):
            value = _callable_of(value)
            if _ours(value):
                todo.append((value, cls if _is_method_of(value, cls) else None))
            elif _plain(value):
                found.setdefault(f"{obj.__module__}:{name}", repr(_plain_form(value)))
    h = hashlib.sha256()
    for key in sorted(found):
        h.update(key.encode() + b"\0" + found[key].encode() + b"\0")
    return h.hexdigest()


def canonical(tree: ast.AST) -> str:
    """The code as source text: `ast.unparse`, whose output, unlike `ast.dump`'s, is the same on every
    Python this project supports (3.12 and 3.13 changed what ast.dump prints), so a runs folder keeps
    its names when it moves to another Python."""
    return ast.unparse(tree)


def _callable_of(value):
    """The function behind a wrapper: lru_cache and functools.wraps decorators, properties, static and
    class methods, bound methods, functools.partial (its arguments are plain values or followed too)."""
    if isinstance(value, property):
        value = value.fget
    elif isinstance(value, (staticmethod, classmethod, types.MethodType)):
        value = value.__func__
    elif isinstance(value, functools.partial):
        value = value.func
    return inspect.unwrap(value) if callable(value) else value


def _ours(value) -> bool:
    return isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", "").split(".")[0] == PACKAGE


def _is_method_of(value, cls) -> bool:
    return cls is not None and isinstance(value, types.FunctionType) and "." in value.__qualname__


@functools.lru_cache(maxsize=256)
def _module_tree(path: str, mtime_ns: int) -> ast.Module:
    return ast.parse(Path(path).read_text())


def _definition(obj) -> ast.AST:
    """The def or class statement of `obj`, without docstrings: found by its qualified name in its
    module's file as it is on disk now (a redefinition: the last one, which Python keeps); a lambda or
    a function made inside another function (`<locals>` in its name) by its own source lines."""
    path = Path(inspect.getsourcefile(obj))
    if "<" in obj.__qualname__:
        source = textwrap.dedent(inspect.getsource(obj))
        try:
            return _without_docstrings(ast.parse(source).body[0])
        except SyntaxError:          # a lambda's lines cut out of a longer expression: its text
            return ast.Constant(source)
    node = _module_tree(str(path), path.stat().st_mtime_ns)
    for part in obj.__qualname__.split("."):
        named = [child for child in node.body if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                      ast.ClassDef)) and child.name == part]
        if not named:        # the file no longer defines it (edited while this process runs): that is a change
            return ast.Constant(f"<{obj.__qualname__} is no longer in {path.name}>")
        node = named[-1]
    return _without_docstrings(node)


def _without_docstrings(node: ast.AST) -> ast.AST:
    """A copy without docstrings and annotations: neither changes what the code does (annotations are
    strings under `from __future__ import annotations`)."""
    node = ast.parse(ast.unparse(node)).body[0]
    for child in ast.walk(node):
        if isinstance(child, ast.arg):
            child.annotation = None
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            child.returns = None
        elif isinstance(child, ast.AnnAssign):
            child.annotation = ast.Constant("")
        body = getattr(child, "body", None)
        if (isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            child.body = body[1:] or [ast.Pass()]
    return node


def _named(tree: ast.AST, scope: dict, cls) -> list[tuple[str, object]]:
    """(name, value) of what the code reads: module-level names, `module.attr` of gen_core modules,
    and `self.attr` on `cls`."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in scope:
            out.append((node.id, scope[node.id]))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call) and cls is not None
              and isinstance(node.value.func, ast.Name) and node.value.func.id == "super"):
            # super().m(): every base's m, since which one runs depends on the instance's class
            out += [(f"{base.__qualname__}.{node.attr}", vars(base)[node.attr]) for base in cls.__mro__[1:]
                    if node.attr in vars(base)]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = node.value.id
            if base == "self" and cls is not None and hasattr(cls, node.attr):
                out.append((f"{cls.__qualname__}.{node.attr}", getattr(cls, node.attr)))
            elif isinstance(scope.get(base), types.ModuleType) and scope[base].__name__.startswith(PACKAGE):
                if hasattr(scope[base], node.attr):
                    out.append((f"{base}.{node.attr}", getattr(scope[base], node.attr)))
    return out


_SCALARS = (int, float, str, bytes, bool, type(None))


def _plain(value) -> bool:
    """A value whose repr is the same in every process: numbers, strings and containers of them, tensors."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return type(value).__module__ == "torch" and type(value).__name__ == "Tensor"


def _plain_form(value):
    """The value with every set, at any depth, as a sorted list: a set's repr follows the process's
    hash seed, and the digest must not."""
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_plain_form(v)) for v in value)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain_form(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain_form(v) for k, v in value.items()}
    if type(value).__name__ == "Tensor":
        return value.tolist()
    return value
