"""Verification checks of the foundation: thermal states, the first law of a collision and the closed-form
homogeneous relaxation (docs/conventions.md, [ATO-preprint], [ATO19])."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..._qudit import thermal_populations
from ...inhomogeneous import InhomogeneousReservoir, collide_generic, trajectory
from ._check import Check, CheckOutcome
from ._random import random_density_matrix


def _thermal_ground_population():
    q0 = float(thermal_populations(2, 1.0, 1.0)[0])
    expected = 1.0 / (1.0 + np.exp(-1.0))
    return CheckOutcome(abs(q0 - expected) < 1e-14 and abs(q0 - 0.73) < 0.005, f"q0 = 1/(1+a) = {q0:.6f} (≈ 0.73)")


def _first_law_generic():
    """W + Q = ΔU of the full density matrix, and each term against the population formulas of
    docs/inhomogeneous.md §2 (the identity alone holds for any unitary: it only tests the partial traces)."""
    rng = np.random.default_rng(1)
    worst = worst_terms = 0.0
    theta, delta = 0.4, 0.13
    s2 = np.sin(theta) ** 2
    for kind in ("hamiltonian", "temperature"):
        g_r, beta_r = (1.0 + delta, 1.0) if kind == "hamiltonian" else (1.0, 1.0 + delta)
        for d in (2, 3, 4):
            rho = random_density_matrix(d, rng)
            model = InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind)
            e = collide_generic(model, rho, delta).energetics
            worst = max(worst, abs(float(e.work + e.heat - e.energy_change)))
            m = np.arange(d) - (d - 1) / 2
            q = np.exp(-beta_r * g_r * m)
            shift = s2 * np.sum(m * (q / q.sum() - np.real(np.diag(rho))))  # s² Σ_j m_j (q_j − p_j)
            formulas = ((e.work, (1.0 - g_r) * shift), (e.heat, g_r * shift), (e.energy_change, shift))
            worst_terms = max(worst_terms, *(abs(float(x) - y) for x, y in formulas))
    return CheckOutcome(
        bool(worst < 1e-13 and worst_terms < 1e-13),
        f"max |W + Q − ΔU| = {worst:.1e}; max |W, Q, ΔU − (g0 − g_r, g_r, g0) s² Σ m_j (q_j − p_j)| = "
        f"{worst_terms:.1e} over d = 2, 3, 4, both kinds, random coherent states",
    )


def _homogeneous_relaxation():
    model = InhomogeneousReservoir(2, 1.0, 1.0, 0.3)
    rho0 = jnp.diag(jnp.array([0.2, 0.8]))
    n = 25
    states = trajectory(model, rho0, jnp.zeros(n)).states
    tau = jnp.diag(thermal_populations(2, 1.0, 1.0))
    predicted = tau - (tau - rho0) * np.cos(0.3) ** (2 * np.arange(n + 1))[:, None, None]
    err = float(jnp.max(jnp.abs(states - predicted)))
    return CheckOutcome(err < 1e-13, f"max |ρ_r − [τ_S − (τ_S − ρ_0) cos^2r θ]| = {err:.1e}")


CHECKS = [
    Check(
        "thermal ground population 1/(1+a) for βg0 = 1",
        "[ATO-preprint] Sec. III.A, Fig. 1 caption: 1/(1+a) ≈ 0.73",
        _thermal_ground_population,
    ),
    Check(
        "first law W + Q = ΔU, full density matrix",
        "[ATO19] Sec. III: ΔU = Q + W, eqs. (12), (23), (27); docs/conventions.md (energetics); docs/inhomogeneous.md §2",
        _first_law_generic,
    ),
    Check("homogeneous relaxation ρ_r = τ_S − (τ_S − ρ_0)cos^{2r}θ", "[ATO-preprint] eq. (8)", _homogeneous_relaxation),
]
