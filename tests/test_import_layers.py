"""The import structure: no module imports a layer above its own, and no two modules import each other
in a cycle. The layers follow the pipeline (docs/architecture.md):

  0  harness.errors, harness.files             primitives every layer may use
  1  harness.data, harness.metrics, idg_adapters (the folder adapters/), difftracker
  2  harness.run                               one evaluation run
  3  harness.report, harness.training          what reads runs / trains models
  4  harness.cli, harness.__main__             the command line
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("harness", "adapters", "difftracker")
IMPORT_NAMES = {"adapters": "idg_adapters"}  # the folder adapters/ is installed as idg_adapters
PACKAGES = ("harness", "idg_adapters", "difftracker")
LAYERS = {
    "harness": 0,
    "harness.errors": 0,
    "harness.files": 0,
    "harness.data": 1,
    "harness.metrics": 1,
    "idg_adapters": 1,
    "difftracker": 1,
    "harness.run": 2,
    "harness.report": 3,
    "harness.training": 3,
    "harness.cli": 4,
    "harness.__main__": 4,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    parts[0] = IMPORT_NAMES.get(parts[0], parts[0])
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of the longest LAYERS prefix of `module`."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def _in_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def project_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports (at any depth of the file, TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if _in_type_checking(node, parents):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name.split(".")[0] in PACKAGES:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [p for folder in FOLDERS for p in (REPO / folder).rglob("*.py")]
    known = {module_name(p) for p in files}
    graph = {}
    for path in files:
        me = module_name(path)
        # A package's __init__ re-exporting its own modules is part of that package, not an edge up.
        graph[me] = {m for m in project_imports(path, known) if m != me and not m.startswith(me + ".")}
    return graph


def test_no_module_imports_a_layer_above_its_own() -> None:
    violations = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert not violations, "imports up the pipeline:\n" + "\n".join(violations)


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The walk itself works: an import from layer 1 up to layer 2 is found."""
    path = tmp_path / "probe.py"
    path.write_text("import os\nfrom harness.run.runner import run_evaluation\n", encoding="utf-8")
    found = project_imports(path, {"harness.run.runner", "harness.run"})
    assert found == {"harness.run.runner"} and layer_of("harness.data.probe") < layer_of("harness.run.runner")
