"""Verification checks of model B (docs/coherent.md, [WCCM]), registered in :mod:`jaxthermo.apps.verify`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...coherent import (
    coherent_drive,
    coherent_work_rate,
    collide,
    collision_thermodynamics,
    energy_rate,
    incoherent_heat_rate,
    propagate,
    qubit_example,
    stroboscopic_trajectory,
)
from ._check import Check, CheckOutcome


def _qubit_drive():
    m = qubit_example(g=0.8)
    err = float(jnp.max(jnp.abs(coherent_drive(m) - 0.8 * jnp.array([[0, 1], [1, 0]]))))
    return CheckOutcome(err < 1e-14, f"max |G − gσ_x| = {err:.1e}")


def _modified_first_law():
    """Two routes: Tr[H_S ρ̇] of the master equation, and −Q_A/τ of one collision (τ → 0)."""
    rho = jnp.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    m = qubit_example(lam=0.4, tau=1e-4)
    rates = float(coherent_work_rate(m, rho) + incoherent_heat_rate(m, rho))
    err_me = abs(float(energy_rate(m, rho)) - rates)
    err_coll = abs(float(-collide(m, rho).ancilla_heat / m.tau) - rates)
    ok = err_me < 1e-14 and err_coll < 1e-3 * abs(rates)
    return CheckOutcome(
        ok,
        f"Ẇ_C + Q̇_inc = {rates:.6f}; |Tr H_S ρ̇ − ·| = {err_me:.1e}; |−Q_A/τ − ·| = {err_coll:.1e} at τ = 1e-4",
    )


def _leading_order_identities():
    rho = jnp.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    ratios = []
    for tau in (4e-3, 2e-3):
        t = collision_thermodynamics(qubit_example(lam=0.3, tau=tau), rho)
        ratios.append(
            max(
                abs(float(t.residual_information / t.mutual_information)),
                abs(float(t.residual_relative_entropy / t.ancilla_relative_entropy)),
            )
        )
    ok = ratios[1] < 0.6 * ratios[0] and ratios[1] < 0.05 and float(t.bound_margin) >= 0
    return CheckOutcome(
        ok,
        f"max relative residual of [WCCM] eqs. (14)–(15): {ratios[0]:.2e} (τ=4e-3) → {ratios[1]:.2e} (τ=2e-3); βW_C + ΔC_A = "
        f"{float(t.bound_margin):.2e} ≥ 0",
    )


def _stroboscopic_limit():
    rho0 = jnp.array([[0.2, 0.1], [0.1, 0.8]], dtype=complex)
    errs = []
    for n in (40, 80):
        m = qubit_example(lam=0.3, tau=1.0 / n)
        s = stroboscopic_trajectory(m, rho0, n).states[-1]
        errs.append(float(jnp.max(jnp.abs(s - propagate(m, rho0, jnp.array([1.0]))[-1]))))
    order = np.log2(errs[0] / errs[1])
    return CheckOutcome(
        0.85 < order < 1.15,
        f"stroboscopic → master equation at t = 1: errors {errs[0]:.2e}, {errs[1]:.2e}, order {order:.2f} (expected 1)",
    )


CHECKS = [
    Check("qubit example: G = g σ_x", "[WCCM], qubit example after eq. (11)", _qubit_drive),
    Check("modified first law −Q̇_A = d⟨H_S⟩/dt = Ẇ_C + Q̇_inc", "[WCCM] eqs. (12)–(13)", _modified_first_law),
    Check(
        "I = −βΔF − ΔC_A and S(ρ_A'‖ρ_A) = βW_C + ΔC_A to leading order; bound βW_C ≥ −ΔC_A",
        "[WCCM] eqs. (14)–(16)",
        _leading_order_identities,
    ),
    Check("stroboscopic map → master equation, linear in τ", "[WCCM] eq. (6); docs/coherent.md", _stroboscopic_limit),
]
