"""The package's layers import in one direction only, and no module imports itself in a circle.

Layers (docs/architecture.md): foundation (``jaxthermo/_*.py``) → models (``inhomogeneous``,
``coherent``, ``assignment``) → ``ensemble`` → applications (``apps``, ``verify``). Every import
statement counts, also those inside functions.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "jaxthermo"
MODELS = ("inhomogeneous", "coherent", "assignment")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> tuple[int, str]:
    parts = module.split(".")
    if len(parts) == 1:
        return 2, "package"  # jaxthermo/__init__.py re-exports foundation, models and the engine
    top = parts[1]
    if top in ("apps", "verify", "cli", "__main__"):
        return 3, "applications"
    if top == "ensemble":
        return 2, "ensemble"
    if top in MODELS:
        return 1, top
    return 0, "foundation"


def _imports(path: pathlib.Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("jaxthermo")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("jaxthermo"):
                target = node.module
            else:
                continue
            found.add(target)
            for alias in node.names:  # `from . import x` may import a submodule
                found.add(f"{target}.{alias.name}")
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != module}


def _graph():
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_layers_import_downwards_only():
    bad = []
    for module, targets in _graph().items():
        level, name = _layer(module)
        for target in targets:
            t_level, t_name = _layer(target)
            if target == "jaxthermo" and level < 3:
                bad.append(f"{module} imports the package root")
            elif t_level > level or (t_level == level == 1 and t_name != name):
                bad.append(f"{module} ({name}) imports {target} ({t_name})")
    assert not bad, "imports against the layer direction:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    graph = _graph()
    # a package's __init__ importing its own submodules is not a cycle of the code
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_import_does_not_load_matplotlib():
    code = "import sys, jaxthermo; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "import jaxthermo must not import matplotlib"
