"""The layout's promises, read from the source with `ast` (nothing is imported): no import cycle between the
project's modules, layers that only import downwards (docs/ARCHITECTURE.md), and the size limits.

Every import counts, at the top of a module, inside a function or under TYPE_CHECKING: a cycle broken only by
importing late is still two modules that cannot be understood, tested or moved apart.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("rfi_models", "app", "train", "benchmarks")
# What each layer may import from the project (docs/ARCHITECTURE.md, "Layers"): only downwards.
MAY_IMPORT = {
    "app": {"app", "train", "benchmarks", "rfi_models"},
    "benchmarks": {"benchmarks", "train", "rfi_models"},
    "train": {"train", "rfi_models"},
    "rfi_models": {"rfi_models"},
}
# Inside rfi_models, layers by subpackage (docs/ARCHITECTURE.md, "Layers"): a module imports only from its own layer
# or those below it. The artefact basics sit below everything but the checkpoint format, which rebuilds models.
RFI_LAYERS = (
    {"names", "runtime", "artifacts"},
    {"data", "io", "metrics", "models", "artifacts.checkpoint"},
    {"detection", "analysis"},
    {"view", "detect", "screen"},
)
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def project_modules() -> dict[str, Path]:
    """{dotted name: file} of every module in the source folders (the app's as app.<name>)."""
    return {module_name(p): p for folder in SOURCE_FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))}


def project_module(name: str, importer: str) -> str | None:
    """The project module that importing `name` from module `importer` loads, or None (stdlib, third party).
    The app runs as a script with app/ on sys.path, so its modules import each other by their bare names."""
    modules = project_modules()
    for candidate in ([f"app.{name}"] if importer.split(".")[0] == "app" else []) + [name]:
        while candidate:
            if candidate in modules:
                return candidate
            candidate = candidate.rpartition(".")[0]
    return None


def imported_names(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """The absolute dotted names an import statement in `importer` names: `from p import m` names p.m when that is a
    module, else p (the package's __init__ loading its submodules is not an edge back to them)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = importer if project_modules()[importer].name == "__init__.py" else importer.rpartition(".")[0]
    base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
    module = ".".join([*base, *([node.module] if node.module else [])])
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in project_modules() else module for a in node.names]


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """{module: {project module it imports: line of the first such import}}."""
    graph = {}
    for name, path in project_modules().items():
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for imported in imported_names(node, name):
                    target = project_module(imported, name)
                    if target and target != name:
                        edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, successors = work[-1]
            child = next((s for s in successors if s not in index or s in stack), None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    found += [sorted(component)] if len(component) > 1 else []
            elif child in index:
                low[node] = min(low[node], index[child])
            else:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(graph[child])))
    return sorted(found)


# Cycles reported to their owners, in files the author of this guard does not own. Each must still exist (remove its
# entry with the fix), and no other may appear.
KNOWN_CYCLES: list[list[str]] = []


def test_the_cycle_finder_finds_a_cycle_and_only_cycles():
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}, "c": {"b": 1}}) == []


def test_the_graph_sees_relative_late_and_app_imports():
    graph = import_graph()
    assert "rfi_models.artifacts.manifest" in graph["rfi_models.artifacts.checkpoint"]  # from .manifest import ...
    assert "rfi_models.models" in graph["rfi_models.artifacts.checkpoint"]  # inside a function and under TYPE_CHECKING
    assert "train.evaluate.tables" in graph["train.evaluate.report_sar"]
    assert any(target.startswith("app.") for target in graph["app.streamlit_app"])


def test_no_import_cycle_between_the_project_modules():
    graph = import_graph()
    found = cycles(graph)
    described = [
        "; ".join(f"{a} imports {b} (line {graph[a][b]})" for a in cycle for b in graph[a] if b in cycle)
        for cycle in found
        if cycle not in KNOWN_CYCLES
    ]
    assert not described, "import cycles:\n" + "\n".join(described)
    fixed = [cycle for cycle in KNOWN_CYCLES if cycle not in found]
    assert not fixed, f"no longer a cycle, remove it from KNOWN_CYCLES: {fixed}"


def test_layers_only_import_downwards():
    upward = [
        f"{module} imports {target} (line {line})"
        for module, edges in import_graph().items()
        for target, line in edges.items()
        if target.split(".")[0] not in MAY_IMPORT[module.split(".")[0]]
    ]
    assert not upward, "\n".join(upward)


def rfi_layer(module: str) -> int:
    """The layer of a module of rfi_models (its subpackage's, or its own for artifacts.checkpoint); the package's
    own __init__ is above all (it names what the package offers)."""
    parts = module.split(".")[1:]
    for name in (".".join(parts[:2]), parts[0] if parts else "__init__"):
        for layer, members in enumerate(RFI_LAYERS):
            if name in members:
                return layer
    assert not parts, f"{module} is in no layer of RFI_LAYERS"
    return len(RFI_LAYERS)


def test_inside_rfi_models_modules_import_only_their_layer_or_below():
    wrong = [
        f"{module} imports {target} (line {line})"
        for module, edges in import_graph().items()
        if module.split(".")[0] == "rfi_models"
        for target, line in edges.items()
        if rfi_layer(target) > rfi_layer(module)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_layer_rule_sees_a_figure_imported_by_detection():
    assert rfi_layer("rfi_models.view.viz") > rfi_layer("rfi_models.detection.anomaly") > rfi_layer("rfi_models.data")
    assert rfi_layer("rfi_models.artifacts.checkpoint") > rfi_layer("rfi_models.artifacts.atomic")


def source_files() -> list[Path]:
    return sorted(project_modules().values())


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("folder", SOURCE_FOLDERS)
def test_no_source_file_over_the_line_limit(folder):
    over = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path in source_files()
        if path.relative_to(ROOT).parts[0] == folder and (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert not over, f"over {MAX_FILE_LINES} lines: {over}"


@pytest.mark.parametrize("folder", SOURCE_FOLDERS)
def test_no_function_over_the_line_limit(folder):
    over = [
        line for path in source_files() if path.relative_to(ROOT).parts[0] == folder for line in long_functions(path)
    ]
    assert not over, f"over {MAX_FUNCTION_LINES} lines: {over}"
