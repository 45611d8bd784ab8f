"""Small Hermitian eigenvalues on CPU: LAPACK ``jnp.linalg.eigvalsh`` against the LAPACK-free
batch-vectorised routine of jaxthermo/ensemble/_small_eigvalsh.py (and ``eigvalsh3`` for d = 3).

Batch of 10 485 random density matrices (the ensemble's default chunk for N = 100) of three kinds
— full rank (G G†/Tr), rank 1 (pure), degenerate (U diag(λ) U† with λ from {0, 0.1, 0.3}) —
for d = 3…8; per matrix, best of 5 jitted calls, wall and process time; maximal absolute error
against ``numpy.linalg.eigvalsh`` (both sorted). Usage: ``python benchmarks/bench_small_eigvalsh.py
[--batch B] [--dims 3 4 ...]``. The machine is shared: best-of-N timings only.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from jaxthermo.ensemble._divergences import eigvalsh3  # noqa: E402
from jaxthermo.ensemble._small_eigvalsh import eigvalsh_small  # noqa: E402


def density_matrices(rng, d, n, kind):
    g = rng.normal(size=(n, d, d)) + 1j * rng.normal(size=(n, d, d))
    if kind == "full":
        r = g @ np.conj(np.swapaxes(g, 1, 2))
    elif kind == "pure":
        v = g[:, :, :1]
        r = v @ np.conj(np.swapaxes(v, 1, 2))
    else:
        q, _ = np.linalg.qr(g)
        lam = rng.choice([0.0, 0.1, 0.3], size=(n, d))
        lam[:, 0] = 0.3
        r = q @ (lam[:, :, None] * np.conj(np.swapaxes(q, 1, 2)))
    r = r / np.trace(r, axis1=1, axis2=2).real[:, None, None]
    return 0.5 * (r + np.conj(np.swapaxes(r, 1, 2)))


def time_call(f, x, repeats=5):
    jax.block_until_ready(f(x))
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(f(x))
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10485)
    ap.add_argument("--dims", type=int, nargs="*", default=[3, 4, 5, 6, 7, 8])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.batch
    print(f"batch {n}, per matrix, best of 5 (wall / process time, µs); max |error| over full, pure, degenerate")
    for d in args.dims:
        mats = {k: density_matrices(rng, d, n, k) for k in ("full", "pure", "degenerate")}
        routes = [("lapack", jnp.linalg.eigvalsh), ("small", eigvalsh_small)]
        if d == 3:
            routes.append(("eigvalsh3", eigvalsh3))
        for name, fn in routes:
            f = jax.jit(fn)
            t0 = time.perf_counter()
            jax.block_until_ready(f(jnp.asarray(mats["full"])))
            compile_s = time.perf_counter() - t0
            wall, cpu = time_call(f, jnp.asarray(mats["full"]))
            err = max(
                np.max(np.abs(np.sort(np.asarray(f(jnp.asarray(m))), axis=-1) - np.linalg.eigvalsh(m)))
                for m in mats.values()
            )
            print(
                f"d={d} {name:9s} wall {wall / n * 1e6:6.2f}  cpu {cpu / n * 1e6:6.2f}  "
                f"first call {compile_s:5.1f} s  err {err:.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
