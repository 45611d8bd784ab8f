"""Coherent qudits (d ≥ 3): the default ``jt.ensemble`` call (D_α for α = 1, ∞) against ``alphas=()``
and a hand-written batched JAX closed form, optionally against another checkout (``--before``).

Workload of ``bench_ensemble.py`` (Gaussian σ = 0.05, θ = 0.1, β = g0 = 1, N = 100, float64, one CPU
device per core); best of ``--repeats`` compiled calls. Each (d, variant) runs in its own process:
``--before PATH`` runs the same variant with ``PATH`` first on ``sys.path`` (e.g. a worktree of
the previous commit), so one run gives before and after side by side (benchmarks/RESULTS_ensemble.md).

    python benchmarks/bench_qudit_divergences.py --dims 3,4 --configs 200000 --before /path/to/main
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VARIANTS = {"none": {"alphas": ()}, "default": {}}  # and "every<k>": divergence_every=k


def _child(d, variant, n_configs, repeats):
    sys.path.insert(0, HERE)
    import bench_ensemble as be

    if variant == "closed":
        return be.bench_jax_closed_form(d, n_configs, repeats=repeats)
    kwargs = VARIANTS[variant] if variant in VARIANTS else {"divergence_every": int(variant.removeprefix("every"))}
    return be.bench_jaxthermo(d, n_configs, repeats=repeats, **kwargs)[0]


def _run(root, d, variant, n_configs, repeats):
    env = dict(os.environ, PYTHONPATH=root)
    code = f"import sys; sys.path.insert(0, {HERE!r}); import bench_qudit_divergences as b; "
    code += f"print(b._child({d}, {variant!r}, {n_configs}, {repeats}))"
    # cwd=root: `python -c` puts the working directory first on sys.path, ahead of PYTHONPATH
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dims", default="3,4,6,8")
    parser.add_argument("--configs", type=float, default=2e5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default="none,default,closed")
    parser.add_argument("--before", default=None, help="checkout whose default call is measured too")
    args = parser.parse_args()
    n = int(args.configs)
    print(f"load average {os.getloadavg()}", flush=True)
    results = {}
    for d in (int(x) for x in args.dims.split(",")):
        row = {v: _run(ROOT, d, v, n, args.repeats) for v in args.variants.split(",")}
        if args.before:
            row["before_default"] = _run(args.before, d, "default", n, args.repeats)
        if "none" in row:
            row["ratios_to_none"] = {k: row[k] / row["none"] for k in row if k not in ("none", "closed")}
        if "closed" in row and "default" in row:
            row["closed_over_default"] = row["closed"] / row["default"]
        results[d] = row
        print(d, json.dumps(row), flush=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
