"""The house rules of ``docs/architecture.md``, read from the source: which layer may import
which, no cycles between packages, and the gateway as the only caller of a query engine."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lakegate"
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

# Bottom to top: a unit (a package, or a module at the top) imports its own modules and those of
# lower layers, never a unit of its own layer or above. Kept in step with docs/architecture.md.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "error_codes"),
    ("home", "keys", "names", "types", "templates", "aws", "child_process", "listening"),
    ("schema", "config"),
    ("storage",),
    ("duck", "catalog"),
    ("app", "events", "crawler", "cluster"),
    ("auth",),
    ("query", "ingest"),
    ("pgwire", "server"),
    ("daemon",),
    ("cli", "docs_gen", "lakegate"),
    ("__main__",),
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}

# Calls that run a query on an engine, and the modules that may make them: the gateway, and the
# engines themselves (the engine process serves its parent's calls with an in-process engine).
ENGINE_CALLS = {"execute", "stream", "describe", "answer_catalog"}
ENGINES = "lakegate.query.engines"
MAY_CALL_ENGINES = {"lakegate.query.gateway"}  # and the engines themselves
# Modules that may import an engine: they build one and hand it to a gateway (the gateway
# itself names the interface).
MAY_BUILD_ENGINES = {"lakegate.query.dbapi", "lakegate.daemon", "lakegate.query.gateway"}


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The lakegate modules ``name`` imports (lazy imports inside functions too)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("lakegate")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base]).strip(".")
            if not base.startswith("lakegate"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return out


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "lakegate"


def test_every_unit_has_a_layer() -> None:
    units = {unit(m) for m in modules()}
    assert units - set(RANK) == set(), "add the new package or module to LAYERS and docs/architecture.md"


def test_each_layer_imports_only_the_layers_below() -> None:
    known = modules()
    wrong = []
    for name, path in sorted(known.items()):
        mine = unit(name)
        for target in sorted(imports(name, path, known)):
            theirs = unit(target)
            if theirs != mine and RANK[theirs] >= RANK[mine]:
                wrong.append(f"{name} imports {target} ({mine} is not above {theirs})")
    assert wrong == []


def test_no_import_cycles_between_packages() -> None:
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for target in imports(name, path, known):
            if unit(target) != unit(name):
                edges[unit(name)].add(unit(target))
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [])


def _receiver(call: ast.Call) -> str:
    """The name a method is called on: ``engine`` for ``self._engine.stream(...)``."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    target = func.value
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return ""


def test_only_the_gateway_runs_queries_on_an_engine() -> None:
    """Every front end goes through the gateway: its queries are then counted, recorded and held
    to their workgroup's limits by construction."""
    known = modules()
    wrong = []
    for name, path in sorted(known.items()):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ENGINE_CALLS
                and "engine" in _receiver(node).lower()
                and name not in MAY_CALL_ENGINES
                and not name.startswith(ENGINES)
            ):
                wrong.append(f"{name}:{node.lineno} calls {_receiver(node)}.{node.func.attr}")
        for target in imports(name, path, known):
            if target.startswith(ENGINES) and name not in MAY_BUILD_ENGINES and not name.startswith(ENGINES):
                wrong.append(f"{name} imports {target}: use the gateway (lakegate.query.gateway)")
    assert wrong == []


def test_the_architecture_page_lists_the_layers_as_enforced() -> None:
    text = ARCHITECTURE.read_text()
    listed = re.findall(r"^\| (\d+) \| (.+?) \|", text, re.MULTILINE)
    documented = [tuple(sorted(u.strip(" `") for u in units.split(","))) for _, units in listed]
    assert documented == [tuple(sorted(layer)) for layer in LAYERS]


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _reason(lines: list[str], node: ast.AST) -> bool:
    """Whether a ``# long: <why>`` comment stands right above ``node`` (or its decorators)."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first >= 2 and lines[first - 2].strip().startswith("# long: ")


def test_no_giant_rooms() -> None:
    """Modules stay under ~600 lines, functions under ~80, unless the reason is written beside."""
    wrong = []
    for name, path in sorted(modules().items()):
        text = path.read_text()
        lines = text.splitlines()
        if len(lines) > MAX_MODULE_LINES and not lines[0].startswith("# long: "):
            wrong.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _reason(lines, node):
                    wrong.append(f"{name}.{node.name}: {length} lines")
    assert wrong == [], "split them, or write `# long: <why>` above"
