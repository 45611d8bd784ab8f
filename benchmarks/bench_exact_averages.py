"""Exact ensemble averages of model A (quadrature over G, no sampling): compiled
``averaged_trajectory`` (N = 1000) and ``averaged_reservoir_state`` for d = 2, 3, 8, Gaussian σ = 0.1,
best of 5 after a warm-up call. Usage: ``python benchmarks/bench_exact_averages.py``.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

import jaxthermo as jt


def best_time(fn, *args, repeats=5):
    """Best-of-``repeats`` wall time of a compiled call (after one warm-up call)."""
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


def main():
    for d in (2, 3, 8):
        model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.4, distribution=jt.Gaussian(0.1))
        rho0 = jnp.eye(d) / d
        trajectory = jax.jit(lambda m, r: jt.averaged_trajectory(m, r, 1000).work)
        tau_bar = jax.jit(jt.averaged_reservoir_state)
        print(
            f"d = {d}: averaged_trajectory N = 1000 {best_time(trajectory, model, rho0) * 1e3:.2f} ms, "
            f"averaged_reservoir_state {best_time(tau_bar, model) * 1e6:.0f} µs"
        )


if __name__ == "__main__":
    main()
