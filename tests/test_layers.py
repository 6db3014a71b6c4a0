"""The shape of the code, read from its source: layers that import downward only, no import
cycle (imports inside functions count), small modules, and every outcome the crawl can
count written in ``crawler/outcomes.py``."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

from crawler import outcomes

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipelines")
MAX_LINES = 600

#: The layers of pipelines/, lowest first: a module imports only modules of its own layer
#: or lower ones (README, "Layout").
PIPELINE_LAYERS = (
    ("errors", "document", "page", "dates", "decode", "htmltree", "metadata", "blocked"),
    ("links", "listlinks"),
    ("extract",),
    ("siteprobe",),
    ("clean",),
    ("normalize",),
    ("index",),
    ("documents",),
    ("store",),
    ("ingest", "search"),
    ("seeds", "workers"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


@lru_cache(maxsize=None)
def imports(module: str) -> frozenset[str]:
    """Everything ``module`` imports anywhere in its source (functions included): project
    modules by name, third-party packages by their top-level name."""
    path = modules()[module]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules() else base)
    known = modules()
    out = set()
    for name in found:
        if name.split(".")[0] in PACKAGES:
            while name not in known and "." in name:  # `from pipelines.store import Store` is the package
                name = name.rpartition(".")[0]
            out.add(name)
            # importing a module runs the __init__ of every package above it first
            while "." in name:
                name = name.rpartition(".")[0]
                out.add(name)
        else:
            out.add(name.split(".")[0])
    # a package's own __init__ runs before its modules: no edge from a module to its parents
    out -= {module.rsplit(".", k)[0] for k in range(1, module.count(".") + 1)}
    out.discard(module)
    return frozenset(out)


def project_imports(module: str) -> set[str]:
    return {m for m in imports(module) if m in modules()}


def test_no_import_cycle_among_the_modules_of_crawler_and_pipelines():
    # Tarjan's strongly connected components: a component of more than one module is a cycle
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in project_imports(v):
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
                cycles.append(sorted(component))

    for module in modules():
        if module not in index:
            visit(module)
    assert cycles == []


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "pipelines" or len(parts) < 2:
        return None
    for rank, names in enumerate(PIPELINE_LAYERS):
        if parts[1] in names:
            return rank
    raise AssertionError(f"{module} is in no layer of PIPELINE_LAYERS (tests/test_layers.py, README 'Layout')")


def test_pipelines_import_downward_only_and_never_the_crawler():
    wrong = []
    for module in modules():
        if not module.startswith("pipelines."):
            continue
        for target in imports(module):
            if target.split(".")[0] in ("crawler", "scrapy", "twisted"):
                wrong.append(f"{module} imports {target}")
            elif target.startswith("pipelines.") and _layer(target) > _layer(module):
                wrong.append(f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})")
    assert wrong == []


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for target in imports(todo.pop()):
            if target not in seen:
                seen.add(target)
                if target in modules():
                    todo.append(target)
    return seen


def test_document_workers_load_no_database_library():
    reached = _closure("pipelines.workers")
    assert "pipelines.documents" in reached  # the closure is real
    assert not {"duckdb", "pyarrow", "scrapy"} & reached
    assert not any(m == "pipelines.store" or m.startswith("pipelines.store.") for m in reached)


def test_the_mirror_is_test_tooling_that_imports_nothing_of_the_crawl():
    for module in modules():
        if module.startswith("crawler.mirror"):
            assert all(t.startswith("crawler.mirror") for t in project_imports(module)), module


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_is_over_600_lines(module):
    lines = len(modules()[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


def _reasons_written() -> list[tuple[str, str]]:
    """``(module, reason)`` for every reason literal the code counts or records: the reason
    argument of ``count(...)`` and ``NotArticle(...)``, and values given to ``.reason``
    (an f-string gives its literal prefix, ``http-`` of ``f"http-{status}"``)."""
    def literal(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            return node.values[0].value + "X"
        return None

    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values = []
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "count" and len(node.args) >= 2:
                    values.append(node.args[1])
                elif name == "NotArticle" and node.args:
                    values.append(node.args[0])
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "reason"
                                                      for t in node.targets):
                values.append(node.value)
            for value in values:
                if isinstance(value, ast.IfExp):
                    values.extend((value.body, value.orelse))
                    continue
                if isinstance(value, ast.BoolOp):
                    values.extend(value.values)
                    continue
                text = literal(value)
                if text is not None:
                    found.append((module, text))
    return found


def test_every_reason_the_code_writes_is_in_the_outcomes_table():
    written = _reasons_written()
    assert len(written) > 20  # the scan finds them
    missing = []
    for module, reason in written:
        try:
            outcomes.outcome(reason)
        except KeyError:
            missing.append((module, reason))
    assert missing == []
    assert {o.category for o in outcomes.OUTCOMES.values()} <= set(outcomes.CATEGORIES)
