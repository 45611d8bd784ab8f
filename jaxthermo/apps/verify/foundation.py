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
    rng = np.random.default_rng(1)
    worst = 0.0
    for kind in ("hamiltonian", "temperature"):
        for d in (2, 3, 4):
            rho = random_density_matrix(d, rng)
            model = InhomogeneousReservoir(d, 1.0, 1.0, 0.4, kind=kind)
            e = collide_generic(model, rho, 0.13).energetics
            worst = max(worst, abs(float(e.work + e.heat - e.energy_change)))
    return CheckOutcome(worst < 1e-13, f"max |W + Q − ΔU| = {worst:.1e} over d = 2, 3, 4, both kinds")


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
        "[ATO19] Sec. III: ΔU = Q + W; docs/conventions.md (energetics)",
        _first_law_generic,
    ),
    Check("homogeneous relaxation ρ_r = τ_S − (τ_S − ρ_0)cos^{2r}θ", "[ATO-preprint] eq. (8)", _homogeneous_relaxation),
]
