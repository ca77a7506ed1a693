"""Digests of source code: what a run's name covers, and what a notebook's fingerprint reads.

    code_digest(train.train, vae_step, ...)   the code these execute, read from the source files
    files_digest(paths)                       the bytes of files (fast; no imports needed)

`code_digest` hashes the source text (`ast.unparse`: docstrings and annotations dropped, comments
never in it) of each function or class it is given and, transitively, of every gen_core function,
class and module-level assignment they name. Names are resolved in the files themselves, the way
Python would resolve them (module-level definitions, `from .x import y`, `module.attr`, `self.attr`
and `super().attr` on the owning class's bases), never through the live objects: so a monkeypatched
function, a decorator's wrapper or a module edited since it was imported cannot change or hide
what is hashed. A run's hash (config.RunConfig.run_hash) therefore changes when the code its
training executes changes, and not when a title, a chapter question, a bench goal or a comment is
edited: the training code never names those. `unparse` reads alike on every supported Python.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "gen_core"
PACKAGE_DIR = Path(__file__).resolve().parent
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


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


def code_digest(*entry_points, owner: type | str | None = None) -> str:
    """sha256 over the source of `entry_points` and the gen_core code and values they reach. An entry
    point is a function or class, or its dotted name ("gen_core.train:train"), which lets a module low
    in the import graph (config) name code above it without importing it. `owner`: the class whose
    `self.x` the entry points' methods read (a family's class), or its dotted name."""
    return _cached_digest(tuple(map(_dotted, entry_points)), owner and _dotted(owner), _sources_stamp())


def resolve(name: str):
    """"gen_core.train:train" -> the object."""
    import importlib

    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _dotted(obj) -> str:
    if isinstance(obj, str):
        return obj
    while hasattr(obj, "__wrapped__"):              # functools.wraps, lru_cache: the function it wraps
        obj = obj.__wrapped__
    return f"{obj.__module__}:{obj.__qualname__}"


def _sources_stamp() -> tuple:
    """The package's files and their modification times: an edit invalidates the cached digests,
    so a long-lived process (a pool worker) sees that the training code changed under it."""
    return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(PACKAGE_DIR.rglob("*.py")))


def canonical(node: ast.AST) -> str:
    """The code as source text without docstrings and annotations (neither changes what it does;
    annotations are strings under `from __future__ import annotations`)."""
    return ast.unparse(stripped(node))


def source_text(obj) -> str:
    """What `code_digest` reads of one function or class: its definition as its file has it now, canonical."""
    module, _, qualname = _dotted(obj).partition(":")
    return canonical(_Module(module).find(qualname))


def stripped(node: ast.AST) -> ast.AST:
    """A copy of a statement without docstrings and annotations: what is hashed, and whose names are followed."""
    node = ast.parse(ast.unparse(node)).body[0]
    for child in ast.walk(node):
        if isinstance(child, ast.arg):
            child.annotation = None
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            child.returns = None
        elif isinstance(child, ast.AnnAssign):
            child.annotation = ast.Constant("")
        body = getattr(child, "body", None)
        if (isinstance(child, _DEFS) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            child.body = body[1:] or [ast.Pass()]
    return node


# ---- a module as its file says ---------------------------------------------------------------------

class _Module:
    """One gen_core module's top level: what each name is bound to, read from its file."""

    def __init__(self, name: str):
        self.name = name
        spec = importlib.util.find_spec(name)
        self.path = Path(spec.origin)
        self.package = name if self.path.name == "__init__.py" else name.rpartition(".")[0]
        self.symbols: dict[str, tuple] = {}      # name -> ("def", node) | ("assign", node) | ("import", module, attr)
        for stmt in _module_tree(str(self.path), self.path.stat().st_mtime_ns).body:
            self._bind(stmt)

    def _bind(self, stmt) -> None:
        if isinstance(stmt, _DEFS):
            self.symbols[stmt.name] = ("def", stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and getattr(stmt, "value", None) is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        self.symbols[name.id] = ("assign", stmt)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module != "__future__":
            base = self.package
            for _ in range(stmt.level - 1):
                base = base.rpartition(".")[0]
            source = (f"{base}.{stmt.module}" if stmt.module else base) if stmt.level else stmt.module
            for alias in stmt.names:
                self.symbols[alias.asname or alias.name] = ("import", source, alias.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                self.symbols[bound] = ("import", alias.name if alias.asname else bound, None)
        elif isinstance(stmt, ast.If) and "TYPE_CHECKING" not in ast.unparse(stmt.test):
            for child in stmt.body + stmt.orelse:              # a guarded definition binds too
                self._bind(child)

    def find(self, qualname: str):
        """The def or class statement of `qualname` ("GAN.generate"); the last one, which Python keeps."""
        node = _module_tree(str(self.path), self.path.stat().st_mtime_ns)
        for part in qualname.split("."):
            named = [child for child in getattr(node, "body", []) if isinstance(child, _DEFS) and child.name == part]
            if not named:
                return None
            node = named[-1]
        return node


@functools.lru_cache(maxsize=256)
def _module_tree(path: str, mtime_ns: int) -> ast.Module:
    return ast.parse(Path(path).read_text())


@functools.lru_cache(maxsize=256)
def _module(name: str, stamp) -> _Module:
    return _Module(name)


def _ours(module: str | None) -> bool:
    return module is not None and module.split(".")[0] == PACKAGE


# ---- the walk ---------------------------------------------------------------------------------------

class _Walk:
    """Everything `entry_points` reach, as {key: source text}."""

    def __init__(self, stamp):
        self.stamp, self.found, self.unreadable = stamp, {}, set()

    def module(self, name: str) -> _Module | None:
        if name in self.unreadable:
            return None
        try:
            return _module(name, self.stamp)
        except (ImportError, AttributeError, TypeError, OSError, ValueError):   # not a module: a class, say
            self.unreadable.add(name)
            return None

    def symbol(self, module: str, name: str, depth: int = 0):
        """What `name` means at the top level of `module`: ("def", module, node), ("assign", module, node),
        ("module", name) or None (not gen_core's)."""
        mod = self.module(module)
        if mod is None or depth > 20:
            return None
        bound = mod.symbols.get(name)
        if bound is None:
            sub = f"{module}.{name}"                    # `from . import data` in a package's __init__
            return ("module", sub) if mod.path.name == "__init__.py" and self.module(sub) else None
        if bound[0] != "import":
            return (bound[0], module, bound[1])
        _, source, attr = bound
        if not _ours(source):
            return None
        if attr is None:
            return ("module", source)
        if self.module(f"{source}.{attr}") is not None:      # `from .. import losses`: a module
            return ("module", f"{source}.{attr}")
        return self.symbol(source, attr, depth + 1)

    def add(self, module: str, qualname: str, owner: tuple | None) -> None:
        key = f"{module}.{qualname}"
        if key in self.found:
            return
        mod = self.module(module)
        node = mod.find(qualname) if mod else None
        if node is None:                    # no longer in its file (edited while this process runs): a change
            self.found[key] = f"<{qualname} is not in {module}>"
            return
        self.record(key, module, node, owner if "." in qualname else None)

    def record(self, key: str, module: str, node: ast.AST, owner: tuple | None) -> None:
        """Hash a statement's source under `key` (once) and queue what it names."""
        if key in self.found:
            return
        code = stripped(node)
        self.found[key] = ast.unparse(code)
        self.follow(module, code, owner)

    def follow(self, module: str, node: ast.AST, owner: tuple | None) -> None:
        """Queue what the code of `node` (in `module`) names; `owner` (module, class qualname) for self."""
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                self.take(self.symbol(module, child.id), owner, from_assign=isinstance(node, (ast.Assign,
                                                                                             ast.AnnAssign)))
            elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
                if child.value.id == "self" and owner is not None:
                    for base_module, base in self.mro(owner):
                        if self.member(base_module, base, child.attr, owner):
                            break
                    continue
                meant = self.symbol(module, child.value.id)
                if meant is not None and meant[0] == "module":
                    self.take(self.symbol(meant[1], child.attr), owner, from_assign=False)
            elif (isinstance(child, ast.Attribute) and isinstance(child.value, ast.Call) and owner is not None
                  and isinstance(child.value.func, ast.Name) and child.value.func.id == "super"):
                for base_module, base in self.mro(owner)[1:]:         # every base's: which runs depends on the class
                    self.member(base_module, base, child.attr, owner)

    def take(self, meant, owner, from_assign: bool) -> None:
        if meant is None or meant[0] == "module":
            return
        kind, module, node = meant
        if kind == "def":
            # from an assignment, follow functions only: `FAMILY = VAE()` must not pull in a whole family class
            if not (from_assign and isinstance(node, ast.ClassDef)):
                self.add(module, node.name, None)
        else:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            self.record(f"{module}:{ast.unparse(target)}", module, node, None)

    def member(self, module: str, cls: str, attr: str, owner: tuple) -> bool:
        """`attr` in the body of class `cls` of `module` (a method, or a class-level value): queued, True."""
        class_node = self.module(module).find(cls) if self.module(module) else None
        for stmt in getattr(class_node, "body", []):
            if isinstance(stmt, _DEFS) and stmt.name == attr:
                self.add(module, f"{cls}.{attr}", owner)
                return True
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and attr in {
                    n.id for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                    for n in ast.walk(t) if isinstance(n, ast.Name)}:
                self.record(f"{module}.{cls}:{attr}", module, stmt, None)
                return True
        return False

    def mro(self, owner: tuple) -> list[tuple]:
        """The owning class and its bases written in gen_core or beside it, in Python's order (read from
        the live class: classes are not patched, and their order is what Python uses)."""
        cls = resolve(f"{owner[0]}:{owner[1]}")
        return [(base.__module__, base.__qualname__) for base in cls.__mro__
                if _ours(base.__module__) or base.__module__ == owner[0]]


@functools.lru_cache(maxsize=64)
def _cached_digest(entry_points: tuple, owner: str | None, stamp) -> str:
    walk = _Walk(stamp)
    owner_pair = tuple(owner.split(":")) if owner else None
    for dotted in entry_points:
        module, _, qualname = dotted.partition(":")
        walk.add(module, qualname, owner_pair)
    h = hashlib.sha256()
    for key in sorted(walk.found):
        h.update(key.encode() + b"\0" + walk.found[key].encode() + b"\0")
    return h.hexdigest()
