"""Ensemble throughput on a GPU: qubit collisions/s in float32 and float64, and
10⁸ configurations × 10³ collisions streamed within device memory.

Workload as in ``bench_ensemble.py`` (qubit, coherent state, partial swap θ = 0.1, Gaussian δ
σ = 0.05, every statistic streamed), N = 1000. Matmul precision is forced to "highest" (the
engine does this itself; set here globally as well). Writes JSON to ``--json``.

Run:  python benchmarks/bench_ensemble_gpu.py [--quick] [--big-configs 100000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import jax

jax.config.update("jax_default_matmul_precision", "highest")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxthermo as jt  # noqa: E402


def _model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))


RHO0 = np.array([[0.6, 0.2 + 0.1j], [0.2 - 0.1j, 0.4]])


def _peak_bytes():
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use"), stats.get("bytes_limit")


def _gib(x):
    return "n/a" if x is None else f"{x / 2**30:.2f} GiB"


def run(n_configs, n_steps, chunk, dtype, draw_dtype, progress=False, alphas=()):
    t = time.perf_counter()
    res = jt.ensemble(
        _model(),
        RHO0,
        n_steps,
        n_configs,
        seed=0,
        chunk_size=chunk,
        dtype=dtype,
        draw_dtype=draw_dtype,
        alphas=alphas,
        progress=progress,
    )
    wall = time.perf_counter() - t
    return res, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=2**20)
    parser.add_argument("--configs", type=int, default=2**24, help="configurations of the throughput runs")
    parser.add_argument("--big-configs", type=int, default=10**8, help="the streamed run (0 to skip)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.chunk, args.configs, args.big_configs = 50, 4096, 20_000, 40_000
    dev = jax.devices()[0]
    out = {
        "device": f"{dev.device_kind} ({dev.platform}), {len(jax.devices())} device(s)",
        "jax": jax.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "n_steps": args.steps,
        "chunk": args.chunk,
        "throughput": {},
    }
    print(out, flush=True)
    n, steps = args.configs, args.steps
    for label, dtype, draw in (
        ("float32, float32 draws", jnp.float32, jnp.float32),
        ("float32, float64 draws", jnp.float32, jnp.float64),
        ("float64, float64 draws", jnp.float64, jnp.float64),
    ):
        run(min(n, args.chunk), steps, args.chunk, dtype, draw)  # compile
        res, wall = run(n, steps, args.chunk, dtype, draw)
        rate = n * steps / wall
        out["throughput"][label] = dict(
            configs=n, wall_s=wall, collisions_per_s=rate, mean_total_work=float(res.mean_total_work)
        )
        print(
            f"{label}: {n} configs × {steps}: {wall:.2f} s, {rate:.3g} collisions/s, <W_N> = {res.mean_total_work:.6e}",
            flush=True,
        )
    r32 = out["throughput"]["float32, float64 draws"]["mean_total_work"]
    r64 = out["throughput"]["float64, float64 draws"]["mean_total_work"]
    out["float32_vs_float64_rel_W_N"] = abs(r32 - r64) / abs(r64)
    print(
        f"float32 vs float64 <W_N> (same configurations): relative {out['float32_vs_float64_rel_W_N']:.2e}", flush=True
    )
    if args.big_configs:
        res, wall = run(args.big_configs, steps, args.chunk, jnp.float32, jnp.float32, progress=False)
        peak, limit = _peak_bytes()
        rate = args.big_configs * steps / wall
        out["streamed"] = dict(
            configs=args.big_configs,
            n_steps=steps,
            wall_s=wall,
            collisions_per_s=rate,
            peak_device_bytes=peak,
            device_bytes_limit=limit,
            mean_total_work=float(res.mean_total_work),
            var_total_work=float(res.var_total_work),
            histogram_total=res.work_histogram.total,
        )
        print(
            f"streamed {args.big_configs:.0e} × {steps} (float32): {wall:.1f} s, {rate:.3g} collisions/s, "
            f"peak device memory {_gib(peak)} of {_gib(limit)}; "
            f"histogram total {res.work_histogram.total}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
