"""The rules stay pure: no I/O, no clock reads, no process-wide state (``rules/__init__.py``).

Every module of ``rules/`` is read with :mod:`ast`, and imported to see what its globals hold:

* it imports nothing that reaches outside the computation (:data:`FORBIDDEN_IMPORTS`): the
  daemon or the drivers, a database, the network, files, processes, the clock, chance, logging;
* it calls no ``open()`` / ``print()`` / ``eval()`` …, no file method of a path (``read_text()``
  …), no ``datetime.now()`` / ``date.today()`` / ``time.time()``;
* no function declares ``global`` or mutates a module-level container (nor a module's
  attributes), no class keeps a mutable container its instances share, every other module-level
  value is immutable (constants, tuples, frozen dataclasses), and no function keeps a
  process-wide memo (``functools.cache``) except those :data:`ALLOWED` lists.

Building a table at import time is fine; changing it afterwards is not. :data:`ALLOWED` is exact:
an exception the code no longer needs fails :func:`test_the_allowed_exceptions_are_still_needed`.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import datetime as dt
import enum
import importlib
import re
import types
from collections.abc import Iterable, Iterator
from pathlib import Path

import pydantic
import pytest

import rules

ROOT = Path(rules.__file__).resolve().parent

Finding = tuple[str, str, str]  # (module, where: a function's qualified name or "<module>", what)


def _module_name(path: Path) -> str:
    parts = ("rules", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}

FORBIDDEN_IMPORTS = {
    # the layers above the rules, which call them
    "daemon",
    "drivers",
    # databases
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pymysql",
    "sqlite3",
    # the network
    "socket",
    "ssl",
    "http",
    "urllib",
    "asyncio",
    "selectors",
    # files, the process and the interpreter's state
    "os",
    "sys",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "glob",
    "subprocess",
    "signal",
    "threading",
    "multiprocessing",
    "gc",
    "importlib",
    # the clock and chance
    "time",
    "random",
    "secrets",
    "uuid",
    # output
    "logging",
    "structlog",
    "rich",
}
FORBIDDEN_CALLS = {"open", "print", "input", "eval", "exec", "compile", "__import__", "breakpoint"}
FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "touch", "unlink", "mkdir", "rmdir"}
FILE_METHODS |= {"iterdir", "glob", "rglob", "rename"}
CLOCK_METHODS = {"now", "utcnow", "today"}  # datetime.now(), datetime.utcnow(), date.today(), on any receiver
TIME_FUNCTIONS = {"time", "time_ns", "monotonic", "perf_counter", "process_time", "localtime", "gmtime", "sleep"}
MUTATORS = {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault", "add"}
MUTATORS |= {"discard", "sort", "reverse", "appendleft", "extendleft", "rotate", "__setitem__", "__delitem__"}
MUTATORS |= {"difference_update", "intersection_update", "symmetric_difference_update"}
CONTAINER_CALLS = {"dict", "list", "set", "bytearray", "defaultdict", "OrderedDict", "Counter", "deque"}
MEMO = "keeps a process-wide memo (functools cache)"

ALLOWED: set[Finding] = {
    # The presets are package data (rules/presets/*.toml, pyproject's package-data): part of the
    # code, not the site's files. _load reads one through importlib.resources once (functools.cache)
    # and load_preset hands out deep copies, so what the rules compute still depends only on their
    # arguments and the installed package: not runtime I/O, and the memo is not observable state.
    ("rules.presets", "<module>", "imports importlib.resources"),
    ("rules.presets", "_load", "calls .read_text()"),
    ("rules.presets", "_load", MEMO),
    # A bounded memo of a pure lookup: the installed chinesecalendar's kind of a date, the same
    # answer on every call (a day of 1,000 staff asks for it 1,000 times).
    ("rules.calendar", "_statutory", MEMO),
}


# --- the scan --------------------------------------------------------------------------------


def _is_container(node: ast.expr | None) -> bool:
    """A literal, a comprehension or a constructor call that makes a mutable container."""
    if isinstance(node, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        return (isinstance(f, ast.Name) and f.id in CONTAINER_CALLS) or (
            isinstance(f, ast.Attribute) and f.attr in CONTAINER_CALLS
        )
    return False


def _root(node: ast.expr) -> str | None:
    """``x`` of ``x.a[1].b``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _targets(node: ast.expr) -> Iterator[ast.expr]:
    if isinstance(node, ast.Tuple | ast.List):
        for elt in node.elts:
            yield from _targets(elt)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)
    else:
        yield node


_Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _own_nodes(scope: _Scope) -> Iterator[ast.AST]:
    """The nodes of a function's own scope: not those of the functions and classes inside it."""
    todo: list[ast.AST] = [scope.body] if isinstance(scope, ast.Lambda) else list(scope.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _Scope | ast.ClassDef):
            todo.extend(ast.iter_child_nodes(node))


def _locals(scope: _Scope) -> set[str]:
    a = scope.args
    names = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    for node in _own_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(x.asname or x.name).split(".")[0] for x in node.names}
    return names


class _Scan(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, watched: set[str]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.watched = watched  # module-level names of mutable containers and of modules
        self.where: list[str] = []
        self.shadowed: list[set[str]] = []  # the locals of each enclosing function
        self.found: list[Finding] = []

    def _add(self, what: str) -> None:
        self.found.append((self.module, ".".join(self.where) or "<module>", what))

    # imports

    def _imported(self, name: str) -> None:
        if name.split(".")[0] in FORBIDDEN_IMPORTS:
            self._add(f"imports {name}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            up = self.package.split(".")
            if node.level - 1 >= len(up):
                self._add(f"imports from {'.' * node.level}{base}, outside rules")
                return
            base = ".".join(up[: len(up) - (node.level - 1)] + ([base] if base else []))
        for alias in node.names:
            self._imported(f"{base}.{alias.name}")

    # scopes

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and _is_container(stmt.value):
                names = ", ".join(ast.unparse(t) for t in stmt.targets)
                self._add(f"class attribute {node.name}.{names} is a mutable container every instance shares")
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    def _function(self, node: _Scope, name: str) -> None:
        self.where.append(name)
        self.shadowed.append(_locals(node))
        self.generic_visit(node)
        self.shadowed.pop()
        self.where.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, "<lambda>")

    def visit_Global(self, node: ast.Global) -> None:
        self._add(f"declares global {', '.join(node.names)}")

    # state changed at run time: inside a function, through a module-level name

    def _mutated(self, target: ast.expr) -> None:
        name = _root(target)
        if (
            self.shadowed
            and name in self.watched
            and not any(name in s for s in self.shadowed)
            and isinstance(target, ast.Attribute | ast.Subscript)
        ):
            self._add(f"mutates module-level {name}")

    def _stores(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> None:
        for t in node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]:
            for x in _targets(t):
                self._mutated(x)
        self.generic_visit(node)

    visit_Assign = visit_AugAssign = visit_AnnAssign = visit_Delete = _stores

    # calls

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
            self._add(f"calls {f.id}()")
        elif isinstance(f, ast.Attribute):
            if f.attr in CLOCK_METHODS:
                self._add(f"calls .{f.attr}(), a clock read")
            elif isinstance(f.value, ast.Name) and f.value.id == "time" and f.attr in TIME_FUNCTIONS:
                self._add(f"calls time.{f.attr}(), a clock read")
            elif f.attr in FILE_METHODS:
                self._add(f"calls .{f.attr}()")
            elif f.attr in MUTATORS:
                self._mutated(ast.Attribute(f.value, f.attr, ast.Load()))
        self.generic_visit(node)


def scan_source(source: str, module: str, *, is_package: bool = False, watched: Iterable[str] = ()) -> list[Finding]:
    """What the ast of ``source`` shows; ``watched`` adds names known (at run time) to hold state."""
    tree = ast.parse(source)
    names = set(watched)
    for stmt in tree.body:  # module-level containers, as written (also under if / try)
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign) and _is_container(node.value):
                names |= {n for t in node.targets for x in _targets(t) if (n := _root(x))}
            elif isinstance(node, ast.AnnAssign) and _is_container(node.value):
                names |= {n for n in [_root(node.target)] if n}
            elif isinstance(node, ast.Import):
                names |= {(x.asname or x.name).split(".")[0] for x in node.names}
    scan = _Scan(module, is_package, names)
    scan.visit(tree)
    return scan.found


# --- what the globals hold, at run time -------------------------------------------------------

_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, range, re.Pattern, enum.Enum)
_IMMUTABLE += (dt.date, dt.time, dt.timedelta, dt.tzinfo)
_MUTABLE = (dict, list, set, bytearray, collections.deque)
_CODE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _mutable_part(value: object) -> str | None:
    """What in ``value`` could change, or None when nothing can."""
    if isinstance(value, _IMMUTABLE):
        return None
    if isinstance(value, tuple | frozenset):
        return next((p for x in value if (p := _mutable_part(x))), None)
    if isinstance(value, types.MappingProxyType):
        return next((p for x in value.values() if (p := _mutable_part(x))), None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:
            return f"a {type(value).__name__} (a dataclass that is not frozen)"
        return next((p for f in dataclasses.fields(value) if (p := _mutable_part(getattr(value, f.name)))), None)
    if isinstance(value, pydantic.BaseModel):
        if not type(value).model_config.get("frozen"):
            return f"a {type(value).__name__} (a model that is not frozen)"
        return next((p for k in type(value).model_fields if (p := _mutable_part(getattr(value, k)))), None)
    return f"a {type(value).__qualname__}"


def _held(module: str) -> tuple[set[str], list[Finding]]:
    """The globals of ``module`` that hold a mutable container or a module (for the scan to watch),
    and findings: memos, and module-level values that are neither code nor immutable."""
    watched: set[str] = set()
    found: list[Finding] = []
    for name, value in vars(importlib.import_module(module)).items():
        if name.startswith("__") and name.endswith("__"):
            continue
        if isinstance(value, (*_MUTABLE, types.ModuleType)):
            watched.add(name)
        elif isinstance(value, _CODE) or type(value).__module__ in ("typing", "types", "__future__"):
            continue  # functions, classes, type aliases and TypeVars, ``from __future__ import …``
        elif hasattr(value, "cache_info"):  # functools.cache / lru_cache
            if getattr(value, "__module__", None) == module:
                found.append((module, value.__qualname__, MEMO))
        elif (what := _mutable_part(value)) is not None:
            found.append((module, "<module>", f"module-level {name} holds {what}"))
    return watched, found


def scan_module(module: str) -> list[Finding]:
    path = MODULES[module]
    watched, found = _held(module)
    return found + scan_source(
        path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py", watched=watched
    )


# --- the tests -------------------------------------------------------------------------------


def test_every_module_of_the_rules_is_scanned():
    expected = {"calendar", "day", "engine", "errors", "model", "period", "policy", "presets", "timetable"}
    assert {f"rules.{m}" for m in expected} | {"rules"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_rules_module_is_pure(module):
    found = [f for f in scan_module(module) if f not in ALLOWED]
    assert not found, "\n".join(f"{m}: {where}: {what}" for m, where, what in found)


def test_the_allowed_exceptions_are_still_needed():
    found = {f for m in MODULES for f in scan_module(m)}
    assert not ALLOWED - found, f"no longer needed, remove from ALLOWED: {sorted(ALLOWED - found)}"


# The scan itself: each kind of impurity, written the way it would creep in, is found.
IMPURE = {
    "import os\n": "imports os",
    "from os import path\n": "imports os.path",
    "import subprocess as sp\n": "imports subprocess",
    "from daemon.store import open_store\n": "imports daemon.store.open_store",
    "from ...drivers import zk\n": "imports from ...drivers, outside rules",
    "def f():\n    import sqlalchemy\n": "imports sqlalchemy",
    "from pathlib import Path\n": "imports pathlib.Path",
    "def f(p):\n    return p.read_text()\n": "calls .read_text()",
    "def f():\n    return open('x').read()\n": "calls open()",
    "from datetime import datetime\ndef f():\n    return datetime.now()\n": "calls .now(), a clock read",
    "from datetime import date\nD = date.today()\n": "calls .today(), a clock read",
    "def f():\n    import time\n    return time.time()\n": "imports time; calls time.time(), a clock read",
    "_SEEN = {}\ndef f(k):\n    _SEEN[k] = 1\n": "mutates module-level _SEEN",
    "_SEEN: dict[str, int] = {}\ndef f(k):\n    _SEEN.setdefault(k, 0)\n": "mutates module-level _SEEN",
    "_LOG = []\nclass C:\n    def f(self):\n        _LOG.append(self)\n": "mutates module-level _LOG",
    "_T = {'a': []}\ndef f():\n    _T['a'].append(1)\n": "mutates module-level _T",
    "_N = 0\ndef f():\n    global _N\n    _N += 1\n": "declares global _N",
    "class C:\n    cache = {}\n": "class attribute C.cache is a mutable container every instance shares",
    "import chinese_calendar\ndef f(d):\n    chinese_calendar.holidays[d] = 'x'\n": "mutates module-level chinese_calendar",
}
PURE = [
    "_WORDS = {'late': '迟到'}\ndef f(k):\n    return _WORDS.get(k, k)\n",  # a table read, never changed
    "_T = {}\nfor k in 'ab':\n    _T[k] = k\n",  # built at import time
    "_S = {}\ndef f():\n    _S = {}\n    _S['a'] = 1\n    return _S\n",  # a local of the same name
    "def f():\n    cache = {}\n    def g(k):\n        cache[k] = 1\n    return g\n",  # one call's closure
    "from datetime import time\nT = time(9)\n",  # datetime.time, not the clock
    "from . import model\n",
]


@pytest.mark.parametrize(("source", "what"), sorted(IMPURE.items()))
def test_the_scan_finds(source, what):
    found = scan_source(source, "rules.presets", is_package=True)
    assert "; ".join(w for _, _, w in found) == what


@pytest.mark.parametrize("source", PURE)
def test_the_scan_passes(source):
    assert scan_source(source, "rules.day") == []


def test_the_globals_check_finds_mutable_objects():
    @dataclasses.dataclass
    class Loose:
        n: int = 0

    @dataclasses.dataclass(frozen=True)
    class Tight:
        n: int = 0
        xs: tuple[object, ...] = ()

    assert _mutable_part(Tight(1, (2, "a", dt.date(2026, 1, 1)))) is None
    assert _mutable_part(Loose()) == "a Loose (a dataclass that is not frozen)"
    assert _mutable_part(Tight(1, ([],))) == "a list"
    assert _mutable_part(rules.period._CENTRE) is None
    assert _mutable_part(rules.day.SlotPlans()) == "a SlotPlans"  # a memo belongs to its caller
