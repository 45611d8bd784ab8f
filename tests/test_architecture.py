"""The package's layers import in one direction only, and no module imports itself in a circle.

Layers (docs/architecture.md): foundation (``jaxthermo/_*.py``) → models (``inhomogeneous``,
``coherent``, ``assignment``) → ``ensemble`` → applications (``apps``, ``verify``). Every import
statement counts, also those inside functions, and so does ``importlib.import_module`` of a module
named by a string literal. A made-up package with such faults shows that the checks find them.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "jaxthermo"
MODELS = ("inhomogeneous", "coherent", "assignment")


def _module_name(path: pathlib.Path, package: pathlib.Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
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


def _imports(path: pathlib.Path, modules: set[str], package_dir: pathlib.Path = PACKAGE) -> set[str]:
    """The package's modules that ``path`` imports, anywhere in the file (functions included).

    ``from X import a`` is an import of the module ``X.a`` when there is one, otherwise of ``X``
    (whose ``__init__`` defines ``a``); ``importlib.import_module`` of a string literal that names
    a module of the package is an import of that module.
    """
    module = _module_name(path, package_dir)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    root = package_dir.name
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == root}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == root:
                target = node.module
            else:
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.add("<dynamic>")
    if "<dynamic>" in found:  # the names a dynamic import may take are the module's string literals
        found |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in modules}
    return {m for m in found if m in modules and m != module}


def _graph(package_dir: pathlib.Path = PACKAGE) -> dict[str, set[str]]:
    paths = list(package_dir.rglob("*.py"))
    modules = {_module_name(p, package_dir) for p in paths}
    return {_module_name(p, package_dir): _imports(p, modules, package_dir) for p in paths}


def _layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in graph.items():
        level, name = _layer(module)
        for target in targets:
            t_level, t_name = _layer(target)
            if "." not in target and level < 3:
                bad.append(f"{module} imports the package root")
            elif t_level > level or (t_level == level == 1 and t_name != name):
                bad.append(f"{module} ({name}) imports {target} ({t_name})")
    return sorted(bad)


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_layers_import_downwards_only():
    bad = _layer_violations(_graph())
    assert not bad, "imports against the layer direction:\n" + "\n".join(bad)


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_see_imports_in_functions_relative_and_dynamic(tmp_path):
    """The two checks above on a made-up package whose faults hide where a line-based look misses them."""
    pkg = tmp_path / "jaxthermo"
    files = {
        "__init__.py": "",
        "_base.py": "def f():\n    from .coherent import _model\n",  # upward, inside a function
        "coherent/__init__.py": "from ._model import g\n",
        "coherent/_model.py": "from . import _eigen\ndef g():\n    pass\n",
        "coherent/_eigen.py": "def h():\n    from jaxthermo.coherent._model import g\n",  # cycle
        "apps/__init__.py": "",
        "apps/run.py": "import importlib\nNAMES = ('jaxthermo.apps.check',)\n"
        "def run():\n    return [importlib.import_module(n) for n in NAMES]\n",
        "apps/check.py": "from . import run\n",  # back into apps.run: a cycle through a dynamic import
        "ensemble/__init__.py": "import jaxthermo\n",  # the package root from below the applications
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    graph = _graph(pkg)
    assert graph["jaxthermo.coherent._model"] == {"jaxthermo.coherent._eigen"}  # `from . import` a module
    assert graph["jaxthermo.apps.check"] == {"jaxthermo.apps.run"}
    assert _layer_violations(graph) == [
        "jaxthermo._base (foundation) imports jaxthermo.coherent._model (coherent)",
        "jaxthermo.ensemble imports the package root",
    ]
    assert sorted(sorted(set(c.split(" → "))) for c in _cycles(graph)) == [
        ["jaxthermo.apps.check", "jaxthermo.apps.run"],
        ["jaxthermo.coherent._eigen", "jaxthermo.coherent._model"],
    ]


def test_import_does_not_load_matplotlib():
    code = "import sys, jaxthermo; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "import jaxthermo must not import matplotlib"
