"""Model C speed: energetics of two quadratic reservoirs with hundreds of modes (docs/assignment.md).

Measured in ONE run on ONE machine, all jit-compiled, median of repeats after a warm-up:
* the library path (eigenbasis of M once, O(N_S N² + N_S² N) per time) against the reference
  path inside the library (full propagator e^{−iMt} per time, O(N³)), same outputs;
* for small sizes, the single-particle minimal dissipation against the many-body construction
  (full Fock space of fermions, exact reduced map and canonical form, O(16^{N1} 4^{N2})).

    python benchmarks/bench_assignment.py [--repeats 3]     → prints a table for RESULTS_assignment.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt
from jaxthermo._quadrature import composite_gauss_legendre
from jaxthermo.assignment._propagator import spectral_decomposition
from jaxthermo.assignment._quadratic import step_reference

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.assignment import fock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import median_time

TIMES = jnp.linspace(0.0, 10.0, 101)


def _model(n):
    return jt.QuadraticReservoirs.from_regime(n, n, 0.3, 1.0, 2.0, 0.005, beta1=2.0, beta2=0.5, statistics="boson")


@jax.jit
def _reference_heat(model):
    m, r0 = model.single_particle_matrix(), model.initial_correlations()
    r0_dot = -1j * (m @ r0 - r0 @ m)
    w, v = spectral_decomposition(m)
    n_s = model.sizes[0]
    nodes, weights = composite_gauss_legendre(TIMES, 4)
    energies = jax.lax.map(lambda t: step_reference(m, r0, r0_dot, w, v, n_s, t).energies, TIMES)
    rates = jax.lax.map(lambda t: step_reference(m, r0, r0_dot, w, v, n_s, t).md_heat_rate, nodes.reshape(-1))
    return energies, jnp.sum(rates.reshape(nodes.shape) * weights)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__}, {jax.devices()[0].platform}"
    )
    print(f"{len(TIMES)} times + {4 * (len(TIMES) - 1)} quadrature nodes per run\n")
    print(
        "| N1 = N2 | library default s (with quadrature_error) | library, estimate_error=False s "
        "| reference (propagator) s | reference / library without estimate | max abs Δ heat |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    default = jax.jit(lambda mdl: jt.quadratic_energetics(mdl, TIMES))
    fast = jax.jit(lambda mdl: jt.quadratic_energetics(mdl, TIMES, estimate_error=False))
    for n in (10, 50, 100, 200):
        model = _model(n)
        t_default = median_time(lambda: default(model).minimal_dissipation.heat, args.repeats)
        t_fast = median_time(lambda: fast(model).minimal_dissipation.heat, args.repeats)
        t_ref = median_time(lambda: _reference_heat(model)[1], args.repeats)
        diff = abs(float(default(model).minimal_dissipation.heat[-1] - _reference_heat(model)[1]))
        print(f"| {n} | {t_default:.3f} | {t_fast:.3f} | {t_ref:.3f} | {t_ref / t_fast:.1f}× | {diff:.1e} |")
    print("\n| N1, N2 (fermions) | single-particle s | many-body Fock s | ratio | max abs Δ Q^md |")
    print("| --- | --- | --- | --- | --- |")
    rng = np.random.default_rng(0)
    times = jnp.linspace(0.0, 2.0, 11)
    for n1, n2 in ((1, 2), (2, 2), (3, 2)):
        a = rng.normal(size=(n1, n1)) + 1j * rng.normal(size=(n1, n1))
        b = rng.normal(size=(n2, n2)) + 1j * rng.normal(size=(n2, n2))
        h1, h2 = (a + a.conj().T) / 4 + np.eye(n1), (b + b.conj().T) / 4
        g = 0.3 * rng.normal(size=(n1, n2))
        model = jt.QuadraticReservoirs(h1, h2, g, 0.8, 1.7, 0.3, -0.2)
        h_s, h_i, h_e, sys_ops, env_ops = fock.fermionic_global_model(h1, h2, g)
        rho_s = fock.gibbs(h_s, fock.quadratic(np.eye(n1), sys_ops), 0.8, 0.3)
        rho_e = fock.gibbs(h_e, fock.quadratic(np.eye(n2), env_ops), 1.7, -0.2)
        glob = jt.GlobalModel(h_s, h_i, h_e)
        t_sp = median_time(lambda: model.energetics(times).minimal_dissipation.heat, args.repeats)
        t_mb = median_time(lambda: jt.minimal_dissipation(glob, rho_s, rho_e, times).assignment.heat, args.repeats)
        diff = float(
            np.max(
                np.abs(
                    model.energetics(times).minimal_dissipation.heat
                    - jt.minimal_dissipation(glob, rho_s, rho_e, times).assignment.heat
                )
            )
        )
        print(f"| {n1}, {n2} | {t_sp:.4f} | {t_mb:.4f} | {t_mb / t_sp:.0f}× | {diff:.1e} |")


if __name__ == "__main__":
    main()
