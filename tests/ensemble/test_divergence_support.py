"""The engine's D_α(ρ‖τ_S) of a cold ρ: ρ's small eigenvalues enter ρ^α as in the library (docs/information.md §4).

The qubit closed form (fused path, also the body of the GPU tile kernel) cut λ− = (1 − r)/2 at 1e-12 (float32: 1e-6)
and the any-d path's Petz branch went through the library's same cut, so a cold ρ (smallest population e^{−30}) had
D_½ off by ~4e-7 (float32 at βΔE = 14: ~1e-3). Now λ− = det ρ/λ+ (no cancellation) enters when resolved: always for
a ρ certified full rank from its diagonal, else above the rounding floor. References: Tr(ρ^α τ^{1−α}) from ρ's
eigen-decomposition in closed form (tests/helpers.py, log-sum-exp of positive terms) for α < 1, NumPy's eigenvalues
of τ^γρτ^γ (:func:`tests.helpers.numpy_divergence_to_diagonal`) for α ≥ 1, central differences for the derivative.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._divergences import (
    classical_divergences,
    quantum_divergences_thermal,
    qubit_quantum_divergences,
)
from tests.helpers import cold_coherent_block, log_petz_trace, numpy_divergence_to_diagonal, numpy_log_thermal

ALPHAS = (0.5, 0.9, 1.0, 2.0, float("inf"))
TOL = {np.float64: 1e-13, np.float32: 2e-6}


def _carried_qubit(beta_s, c, dtype):
    """A cold qubit as the fused path carries it, (p0, x) with p1 = 1 − p0 (exact: p0 ≥ ½), in ``dtype``, and its
    closed-form eigen-decomposition in float64 from those very numbers: ``(p0, x, ρ, u, log μ)``."""
    p0 = dtype(1.0 / (1.0 + np.exp(-beta_s)))
    p0_64 = float(p0)
    log_p = np.array([np.log(p0_64), np.log(1.0 - p0_64)])
    x = dtype(c * np.exp(0.5 * (log_p[0] + log_p[1])))
    c_carried = float(x) / np.exp(0.5 * (log_p[0] + log_p[1]))  # the coherence the rounded x represents
    rho, u, log_mu = cold_coherent_block(log_p, c_carried, 0, 1)
    return p0, x, rho, u, log_mu


def _reference(rho, u, log_mu, log_t, a):
    if a < 1.0:
        return log_petz_trace(u, log_mu, log_t, a) / (a - 1)
    return numpy_divergence_to_diagonal(rho, log_t, a)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("c", [0.0, 0.3])
@pytest.mark.parametrize("beta_t", [1.0, 50.0])
def test_qubit_closed_form_of_a_cold_state(beta_t, c, dtype):
    """Fused qubit closed form, ρ thermal at βΔE = 30 and 33 (float64: p1 = 9e-14, and 5e-15 below the rounding floor
    7e-15 but certified; colder p1 = 1 − p0 is not representable) or 14 (float32: 8e-7 below its 1e-6), diagonal or
    coherent (c = 0.3), τ_S at β = 1 and 50."""
    for beta_s in (30.0, 33.0) if dtype is np.float64 else (14.0,):
        p0, x, rho, u, log_mu = _carried_qubit(beta_s, c, dtype)
        got = qubit_quantum_divergences(jnp.asarray([p0]), jnp.asarray([x]), jnp.zeros(1, dtype), beta_t, 1.0, ALPHAS)
        assert got.dtype == dtype
        log_t = numpy_log_thermal(2, beta_t)
        ref = [_reference(rho, u, log_mu, log_t, a) for a in ALPHAS]
        np.testing.assert_allclose(np.asarray(got)[0], ref, rtol=TOL[dtype], atol=TOL[dtype], err_msg=f"β_s={beta_s}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["diagonal", "coherent"])
def test_qutrit_of_a_cold_state(kind, dtype):
    """Any-d path (eigenvalues only for α ≥ 1, the library's Petz below) and, for diagonal ρ, the classical path:
    a qutrit thermal at βΔE = 30 and 40 (float32: 14) with a coherence c = 0.3 between its two tiny levels."""
    cdt = np.complex128 if dtype is np.float64 else np.complex64
    for beta_s in (30.0, 40.0) if dtype is np.float64 else (14.0,):
        log_p = numpy_log_thermal(3, beta_s)
        if kind == "diagonal":
            rho, u, log_mu = np.diag(np.exp(log_p)).astype(complex), np.eye(3), log_p
        else:
            rho, u, log_mu = cold_coherent_block(log_p, 0.3, 1, 2)
        rho_c = rho.astype(cdt)
        if dtype is np.float32:  # the reference is that of the float32 numbers (levels 1, 2 have no cancellation)
            log_p = np.log(np.real(np.diag(rho_c)).astype(float))
            c = float(np.real(rho_c[1, 2])) / np.exp(0.5 * (log_p[1] + log_p[2])) if kind == "coherent" else 0.0
            rho, u, log_mu = cold_coherent_block(log_p, c, 1, 2)
        log_t = numpy_log_thermal(3, 1.0)
        ref = [_reference(rho, u, log_mu, log_t, a) for a in ALPHAS]
        got = quantum_divergences_thermal(jnp.asarray(rho_c), 1.0, 1.0, ALPHAS)
        assert got.dtype == dtype
        np.testing.assert_allclose(np.asarray(got), ref, rtol=TOL[dtype], atol=TOL[dtype], err_msg=f"β_s={beta_s}")
        if kind == "diagonal":
            got = classical_divergences(jnp.asarray(np.real(np.diag(rho_c))), 1.0, 1.0, ALPHAS)
            np.testing.assert_allclose(np.asarray(got), ref, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("d", [2, 3])
def test_ensemble_reports_the_cold_divergence(d):
    """End to end: θ = 0 (each collision the identity), so every ρ_{S|r} is the cold coherent ρ0 (βΔE = 30, c = 0.3
    between the two lowest levels): ⟨D_α⟩ at r = 0 (library) and r = 1, 2 (kernel: the fused qubit closed form, the
    any-d path) equal the closed form, α = ½, 0.9, 2, ∞."""
    alphas = (0.5, 0.9, 2.0, float("inf"))
    if d == 2:  # p1 as the fused path carries it, 1 − p0 (known to ~1e-16 absolute, ~1e-3 relative here)
        rho0, u, log_mu = _carried_qubit(30.0, 0.3, np.float64)[2:]
    else:
        rho0, u, log_mu = cold_coherent_block(numpy_log_thermal(d, 30.0), 0.3, 0, 1)
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.0, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, jnp.asarray(rho0), 2, 16, seed=0, alphas=alphas, divergence_every=1)
    log_t = numpy_log_thermal(d, 1.0)
    ref = [_reference(rho0, u, log_mu, log_t, a) for a in alphas]
    got = np.asarray(res.mean_divergence)
    np.testing.assert_allclose(got, np.broadcast_to(ref, got.shape), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_derivative_at_a_cold_state(d):
    """∂D_½(ρ_c‖τ_S)/∂c for ρ thermal at βΔE = 30 with the coherence c√(p0 p1) between its two lowest levels, built
    from c = 0.3 in JAX, through the fused qubit closed form (d = 2, p1 = 1 − p0 as carried) and the any-d path
    (d = 3); against central differences in c (the populations stay fixed, so no rounding of 1 − p0 enters the
    difference). The derivative comes from λ− ∝ 1 − c², which the cut dropped."""
    log_p = numpy_log_thermal(d, 30.0)
    if d == 2:
        log_p = np.log(_carried_qubit(30.0, 0.0, np.float64)[2].diagonal().real)
    scale = np.exp(0.5 * (log_p[0] + log_p[1]))

    def f(c):
        if d == 2:
            return qubit_quantum_divergences(np.exp(log_p[0]), c * scale, 0.0 * c, 1.0, 1.0, (0.5,))[0]
        rho = jnp.diag(jnp.exp(jnp.asarray(log_p))).astype(jnp.complex128)
        return quantum_divergences_thermal(rho.at[0, 1].set(c * scale).at[1, 0].set(c * scale), 1.0, 1.0, (0.5,))[0]

    c, h = 0.3, 1e-3
    fd = (float(f(c + h)) - float(f(c - h))) / (2 * h)
    grad = float(jax.grad(f)(c))
    assert abs(fd) > 1e-8
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_numpy_reference_resolves_a_cold_state():
    """The shared NumPy reference (tests/helpers.py) agrees with the closed form on cold states, qubit and qutrit,
    diagonal and coherent, for α = 0, ½, 0.9 (it cut at 1e-12 as the library did)."""
    for d in (2, 3):
        for c in (0.0, 0.3):
            for beta_s in (30.0, 40.0, 60.0):
                rho, u, log_mu = cold_coherent_block(numpy_log_thermal(d, beta_s), c, d - 2, d - 1)
                log_t = numpy_log_thermal(d, 1.0)
                for a in (0.0, 0.5, 0.9):
                    ref = log_petz_trace(u, log_mu, log_t, a) / (a - 1)
                    np.testing.assert_allclose(numpy_divergence_to_diagonal(rho, log_t, a), ref, rtol=0, atol=1e-13)
