"""Sensitivity throughput and memory, one run, one machine (docs/ensemble.md §5).

Workload: model A, qubit, thermal initial state (diagonal), partial swap θ = 0.3, Hamiltonian kind,
Gaussian δ (σ = 0.1), N collisions per configuration, one CPU device, float64, no divergences.

* throughput: ``jt.ensemble`` plain vs with ``wrt=("theta",)`` and ``wrt=("theta", "beta", "sigma")``
  (second call, compiled), reported as configuration-collisions per second and as the ratio to the
  plain forward run per parameter (target ≥ 1/3 on CPU); and ``jax.grad(jt.ensemble_mean)``
  (all model parameters at once, reverse mode);
* peak memory (``--memory``; RSS from ``resource.getrusage``, one fresh subprocess per case, compile
  included): ``jt.ensemble(..., wrt=("theta", "sigma"))`` and ``jax.grad(jt.ensemble_mean)`` at 10⁵, 10⁶
  and 10⁷ configurations of N = ``--memory-steps`` collisions (default 20: at N = 100 the 10⁷ reverse-mode
  case alone takes ≈ 8.5 min on the shared 2-core CPU) — the claim to check is "flat in n_configs".

Run:  python benchmarks/bench_sensitivity.py [--quick] [--json out.json]          (throughput)
      python benchmarks/bench_sensitivity.py --memory [--memory-steps N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

MEMORY_WRT = ("theta", "sigma")
MEMORY_SIZES = (10**5, 10**6, 10**7)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _setup():
    sys.path.insert(0, ROOT)
    import jaxthermo as jt

    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    return jt, model, jt.thermal_state(2, 0.5, 1.0)


def _timed(fn, repeat=2):
    fn()  # compile
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def throughput(n_steps, n_configs):
    import jax

    jt, model, rho0 = _setup()
    run = lambda wrt: jt.ensemble(model, rho0, n_steps, n_configs, seed=0, alphas=(), wrt=wrt)
    out = {}
    plain = _timed(lambda: run(None))
    out["plain"] = plain
    for wrt in (("theta",), ("theta", "beta", "sigma")):
        t = _timed(lambda wrt=wrt: run(wrt))
        out["wrt=" + ",".join(wrt)] = t
    grad = jax.jit(jax.grad(lambda m: jt.ensemble_mean(m, rho0, n_steps, n_configs, seed=0)))
    out["grad(ensemble_mean)"] = _timed(lambda: jax.block_until_ready(grad(model)))
    pairs = n_steps * n_configs
    rows = []
    for name, t in out.items():
        n_par = 0 if name == "plain" else (4 if name.startswith("grad") else len(name.split("=")[1].split(",")))
        ratio_per_par = (plain / t) if n_par == 0 else (plain / t) * n_par
        rows.append(
            dict(case=name, seconds=t, pairs_per_s=pairs / t, params=n_par, throughput_ratio_per_param=ratio_per_par)
        )
    return rows


def _child(kind, n_configs, n_steps):
    import jax

    jt, model, rho0 = _setup()
    t = time.perf_counter()
    if kind == "wrt":
        res = jt.ensemble(model, rho0, n_steps, n_configs, seed=0, alphas=(), wrt=MEMORY_WRT)
        value = float(res.sensitivity["theta"].mean_total_work)
    else:
        value = float(jax.grad(lambda m: jt.ensemble_mean(m, rho0, n_steps, n_configs, seed=0))(model).theta)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GiB (Linux: KiB)
    print(
        json.dumps(dict(kind=kind, n_configs=n_configs, n_steps=n_steps, peak_rss_gib=peak, wall_s=wall, value=value))
    )


def memory(sizes, n_steps):
    rows = []
    for kind in ("wrt", "grad"):
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(n), str(n_steps)],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--memory", action="store_true", help="peak RSS at 10⁵, 10⁶, 10⁷ configurations (only)")
    p.add_argument("--memory-steps", type=int, default=20)
    p.add_argument("--json")
    p.add_argument("--child", nargs=3)
    args = p.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    if args.memory:
        sizes = MEMORY_SIZES if not args.quick else (10**4, 10**5)
        out = dict(memory=memory(sizes, args.memory_steps), n_steps=args.memory_steps, wrt=MEMORY_WRT)
    else:
        n_steps = 20 if args.quick else 100
        n_configs = 2000 if args.quick else 20000
        rows = throughput(n_steps, n_configs)
        for r in rows:
            print(r, flush=True)
        out = dict(throughput=rows, n_steps=n_steps, n_configs=n_configs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
