"""Time the default call as it would be with the fastest float32 variant of a GPU run as the default.

`bench_ensemble_gpu.py --settings` times the tile kernel's variants as special rows; item 4 of the GPU target
asks for the rate of the call a user makes, with default arguments. A device is lent for minutes, once: so
after the variants, in the same command (`benchmarks/gpu_checks.sh`), this script takes the variant whose float32
rate beats the default's by at least ``--margin`` (and whose mean W_N agrees with the default's: the same
statistics), writes its settings into a copy of the source as the module's own defaults (``variant.diff``:
``git apply`` lands exactly the code that was timed) and runs the two headline rows of that copy, default
arguments, in a fresh process. Nothing is changed in this checkout.

Run:  python benchmarks/promote_gpu_variant.py OUT_DIR [--margin 1.03] [--quick]
(``OUT_DIR/bench_ensemble_gpu.json`` from the variants' run; writes ``OUT_DIR/promoted/``.)
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

# the short module names of the settings (as _timing.SETTING_MODULES, without importing JAX here)
MODULE_FILES = {
    "engine": "jaxthermo/ensemble/_engine.py",
    "tile": "jaxthermo/ensemble/_tile_kernel.py",
    "sampling": "jaxthermo/ensemble/_sampling.py",
}
DEFAULT_ROW = "qubit float32, default"
SPECIAL = "qubit float32, special "
HEADLINE_ROWS = "qubit float32, default;qubit float64, default"


def best_variant(results: dict, margin: float):
    """``(group, rate ratio)`` of the fastest float32 settings group at least ``margin`` × the default's rate
    with the default's mean W_N to 10⁻³ relative (float32 rounding; another result means other physics), or
    ``(None, ratio of the fastest)``."""
    default = results.get(DEFAULT_ROW, {})
    base, work = default.get("collisions_per_s"), default.get("mean_total_work")
    if not base:
        return None, float("nan")
    candidates = []
    for label, row in results.items():
        if not label.startswith(SPECIAL) or not _is_group(label[len(SPECIAL) :]) or not isinstance(row, dict):
            continue  # other special rows (alphas=(), XLA's program, ...) are not settings to promote
        rate, w = row.get("collisions_per_s"), row.get("mean_total_work")
        if rate and (work is None or w is None or abs(w - work) <= 1e-3 * max(abs(work), 1e-30)):
            candidates.append((rate / base, label[len(SPECIAL) :]))
    if not candidates:
        return None, float("nan")
    ratio, group = max(candidates)
    return (group if ratio >= margin else None), ratio


def _is_group(text: str) -> bool:
    """Whether ``text`` is a settings group (:func:`parse_group`)."""
    try:
        return bool(parse_group(text))
    except ValueError:
        return False


def parse_group(group: str) -> dict:
    """``"tile.TILE=64,tile.REGISTER_LIMIT=128"`` as {(module, NAME): value} (values Python literals)."""
    out = {}
    for kv in filter(None, group.split(",")):
        key, _, value = kv.partition("=")
        module, _, name = key.rpartition(".")
        if module not in MODULE_FILES or not name.isidentifier() or not value:
            raise ValueError(f"{key}: not a setting of {sorted(MODULE_FILES)}")
        try:
            out[(module, name)] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[(module, name)] = value
    return out


def with_default(source: str, name: str, value) -> str:
    """``source`` with the module-level ``NAME = …`` (or ``A, NAME = …, …``) assigning ``value`` instead: the
    value's text is replaced in place, comments and layout kept. Exactly one such assignment, else ValueError."""
    tree = ast.parse(source)
    spans = []
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value_node = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id == name:
            spans.append(value_node)
        elif isinstance(target, ast.Tuple) and isinstance(value_node, ast.Tuple):
            names = [t.id if isinstance(t, ast.Name) else None for t in target.elts]
            if name in names and len(names) == len(value_node.elts):
                spans.append(value_node.elts[names.index(name)])
    if len(spans) != 1:
        raise ValueError(f"{name}: {len(spans)} module-level assignments found, expected one")
    node = spans[0]
    lines = source.splitlines(keepends=True)
    if node.lineno != node.end_lineno:
        raise ValueError(f"{name}: its value spans several lines")
    line = lines[node.lineno - 1]
    # ast's column offsets count UTF-8 bytes
    raw = line.encode()
    lines[node.lineno - 1] = (raw[: node.col_offset] + repr(value).encode() + raw[node.end_col_offset :]).decode()
    return "".join(lines)


def patched_tree(group: str, dest: str) -> str:
    """A copy of the package (and the benchmarks) under ``dest`` with ``group``'s settings as defaults; returns the
    unified diff against this checkout (paths a/…, b/… for ``git apply``)."""
    shutil.copytree(os.path.join(ROOT, "jaxthermo"), os.path.join(dest, "jaxthermo"))
    shutil.copytree(HERE, os.path.join(dest, "benchmarks"), ignore=shutil.ignore_patterns("*.json", "__pycache__"))
    diff = []
    by_file = {}
    for (module, name), value in parse_group(group).items():
        by_file.setdefault(MODULE_FILES[module], []).append((name, value))
    for rel, settings in sorted(by_file.items()):
        with open(os.path.join(ROOT, rel), encoding="utf-8") as fh:
            before = fh.read()
        after = before
        for name, value in settings:
            after = with_default(after, name, value)
        with open(os.path.join(dest, rel), "w", encoding="utf-8") as fh:
            fh.write(after)
        diff += difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
        )
    return "".join(diff)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the folder of the variants' run (its bench_ensemble_gpu.json)")
    parser.add_argument("--margin", type=float, default=1.03, help="float32 rate over the default's to promote")
    parser.add_argument("--quick", action="store_true", help="the headline rows at the benchmark's --quick sizes")
    args = parser.parse_args(argv)
    with open(os.path.join(args.out, "bench_ensemble_gpu.json"), encoding="utf-8") as fh:
        results = json.load(fh)
    group, ratio = best_variant(results, args.margin)
    if group is None:
        print(f"promote: no variant at {args.margin}x the float32 default or faster (fastest x{ratio:.3f})")
        return 0
    out = os.path.abspath(os.path.join(args.out, "promoted"))  # the timing runs in another folder
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        diff = patched_tree(group, tmp)
        with open(os.path.join(out, "variant.diff"), "w", encoding="utf-8") as fh:
            fh.write(diff)
        print(f"promote: {group} at x{ratio:.3f} of the float32 default; timing its default call ({out})", flush=True)
        cmd = [sys.executable, "benchmarks/bench_ensemble_gpu.py", "--no-check", "--rows", HEADLINE_ROWS, "--out", out]
        env = dict(os.environ, PYTHONPATH=tmp)
        rc = subprocess.run(cmd + (["--quick"] if args.quick else []), cwd=tmp, env=env).returncode
    print(f"promote: rc {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
