"""Sandwiched (α > 1) and Petz (α < 1) D_α(ρ‖τ_S) where ρ has its weight on the levels whose power of
τ_S is small: the ground state, a state near it, the excited state, against a cold τ_S (jaxthermo/
_information.py ``about_largest_term``; the ensemble's qubit closed form and any-d path, jaxthermo/
ensemble/_divergences.py). Reference: the definition in 200-digit decimals (states block-diagonal in
the energy basis: a 2×2 block and diagonal levels, whose eigenvalues are closed-form).

Before: the powers t_j^{2γ} were scaled by their largest value, which sits on the coldest level; for
the ground state that left s_0² p_0 = e^{−βg} to underflow: reference D_2 = D_∞ = −∞ at βg = 800 (qutrit
from βg = 400), the ensemble's qubit closed form D_∞ −0.69 at βg = 500, 91.6 at 800 (true 0).
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._divergences import quantum_divergences_thermal, qubit_quantum_divergences

getcontext().prec = 200
INF = float("inf")


def _log_t(d, bg):
    ex = [-Decimal(bg) * (Decimal(j) - Decimal(d - 1) / 2) for j in range(d)]
    top = max(ex)
    z = sum((e - top).exp() for e in ex)
    return [e - top - z.ln() for e in ex]


def _reference(p, c, bg, alpha):
    """D_α of ρ = diag(p) + c|0⟩⟨1| + c*|1⟩⟨0| against τ_S (g = 1, β = bg), in decimals: sandwiched for
    α > 1 (eigenvalues of T^γ ρ T^γ), Petz for α < 1 (ρ^α's diagonal from its 2×2 block)."""
    d = len(p)
    lt = _log_t(d, bg)
    p = [Decimal(repr(float(x))) for x in p]
    c2 = Decimal(repr(float(abs(c)))) ** 2
    if alpha > 1:
        g = Decimal(-1) / 2 if math.isinf(alpha) else (1 - Decimal(alpha)) / (2 * Decimal(alpha))
        s2 = [(2 * g * x).exp() for x in lt]
        a, b = p[0] * s2[0], p[1] * s2[1]
        disc = (((a - b) / 2) ** 2 + s2[0] * s2[1] * c2).sqrt()
        mus = [(a + b) / 2 + disc, (a + b) / 2 - disc] + [p[k] * s2[k] for k in range(2, d)]
        if math.isinf(alpha):
            return float(max(mus).ln())
        return float(sum(m ** Decimal(alpha) for m in mus if m > 0).ln() / (Decimal(alpha) - 1))
    # Petz: the block's eigenvalues λ± and the diagonal of its α-th power
    a, b = p[0], p[1]
    disc = (((a - b) / 2) ** 2 + c2).sqrt()
    lp, lm = (a + b) / 2 + disc, (a + b) / 2 - disc
    fp, fm = lp ** Decimal(alpha), (lm ** Decimal(alpha) if lm > 0 else Decimal(0))
    z = (a - b) / (2 * disc) if disc > 0 else Decimal(0)
    k = [(fp + fm) / 2 + (fp - fm) / 2 * z, (fp + fm) / 2 - (fp - fm) / 2 * z] + [
        p[j] ** Decimal(alpha) for j in range(2, d)
    ]
    tr = sum(kj * ((1 - Decimal(alpha)) * lt[j]).exp() for j, kj in enumerate(k) if kj > 0)
    return float(tr.ln() / (Decimal(alpha) - 1))


STATES = {  # (populations of levels 0, 1, coherence between them)
    "ground": ((1.0, 0.0), 0.0),
    "near ground, coherent": ((1 - 1e-9, 1e-9), 2e-5),
    "excited": ((0.0, 1.0), 0.0),
    "plus": ((0.5, 0.5), 0.45),
}
BG = [1.0, 50.0, 400.0, 800.0, 1000.0]


def _matrix(pops, c, d):
    rho = np.zeros((d, d), complex)
    rho[0, 0], rho[1, 1] = pops[:2]
    rho[0, 1], rho[1, 0] = c, np.conj(c)
    return rho


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("bg", BG)
def test_qubit_closed_form_and_reference(state, bg):
    pops, c = STATES[state]
    alphas = (0.5, 2.0, 3.0, INF)
    want = np.array([_reference(pops, c, bg, a) for a in alphas])
    fast = np.asarray(qubit_quantum_divergences(jnp.array(pops[0]), jnp.array(c), jnp.array(0.0), bg, 1.0, alphas))
    ref = np.asarray(jt.divergences_to_thermal(_matrix(pops, c, 2), bg, 1.0, alphas, quantum=True))
    scale = np.maximum(1.0, np.abs(want))
    np.testing.assert_allclose(fast / scale, want / scale, atol=1e-12, err_msg=f"closed form {alphas}")
    np.testing.assert_allclose(ref / scale, want / scale, atol=1e-12, err_msg=f"reference {alphas}")


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("bg", BG)
def test_qutrit_any_d_path_and_reference(state, bg):
    """Level 2 empty (the coldest one: its power of τ_S is the largest, the old scale)."""
    pops, c = STATES[state]
    alphas = (2.0, INF)
    want = np.array([_reference(pops + (0.0,), c, bg, a) for a in alphas])
    rho = _matrix(pops + (0.0,), c, 3)
    fast = np.asarray(quantum_divergences_thermal(jnp.asarray(rho), bg, 1.0, alphas))
    ref = np.asarray(jt.divergences_to_thermal(rho, bg, 1.0, alphas, quantum=True))
    scale = np.maximum(1.0, np.abs(want))
    np.testing.assert_allclose(fast / scale, want / scale, atol=1e-12)
    np.testing.assert_allclose(ref / scale, want / scale, atol=1e-12)


def test_derivatives_stay_finite_and_match_finite_differences():
    """d/dβ of the qubit closed form's D_2 and D_∞ for a coherent state near the ground state, in the
    regime where the scale factor overflowed (βg = 800) and an ordinary one (βg = 3)."""
    p0, c = 1 - 1e-6, 5e-4
    for bg in (3.0, 800.0):
        f = lambda b: jnp.sum(
            qubit_quantum_divergences(jnp.array(p0), jnp.array(c), jnp.array(0.0), b, 1.0, (2.0, INF))
        )
        h = 1e-6 * bg
        fd = (f(bg + h) - f(bg - h)) / (2 * h)
        g = jax.grad(f)(bg)
        assert np.isfinite(g)
        np.testing.assert_allclose(g, fd, rtol=1e-6)


@pytest.mark.parametrize("bg", [500.0, 800.0])
def test_ensemble_of_the_ground_state_against_a_cold_reservoir(bg):
    """jt.ensemble from the ground state with homogeneous reservoir qudits (σ = 0) at βg0 = 500, 800: every
    state stays within e^{−βg0} of the ground state, so D_2 and D_∞ are 0 to rounding at every step (they
    were −0.69 and 91.6 after the first collision). A cold coherent qubit's p1 below ε is lost by the
    fused (p0, x, y) representation (p1 = 1 − p0), which this case does not depend on."""
    model = jt.InhomogeneousReservoir(2, bg, 1.0, 0.2, distribution=jt.Gaussian(0.0))
    rho0 = jnp.asarray(_matrix((1.0, 0.0), 0.0, 2))
    res = jt.ensemble(model, rho0, 4, 64, seed=2, alphas=(0.5, 2.0, INF), coherent=True)
    np.testing.assert_allclose(np.asarray(res.mean_divergence), 0.0, atol=1e-14)
