"""Quantum Rényi divergences D_α(ρ‖σ), α ≠ 1, to a cold full-rank σ given as a matrix (docs/information.md §4).

σ thermal for a unit-gap ladder at βΔE = 30…60 (populations e^{−βΔE k}/Z far below 1e-12), in its energy basis,
diagonal or with coherence: the powers σ^γ run over the resolved eigenvalues of σ (certified full rank from its
diagonal), not over those above a fixed 1e-12, which made D_α = +∞ for α > 1 and dropped the small populations'
σ^{1−α} for α < 1. References: NumPy by the textbook formulas with the analytic log-eigenvalues,
``quantum_divergence_to_diagonal`` (σ given by its log-populations) and, for diagonal ρ, the classical D_α.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, quantum_divergence_to_diagonal, renyi_divergence_log
from tests.helpers import cold_coherent_qubit, numpy_log_thermal, random_state

PETZ_ALPHAS = [0.5, 2.0, 3.0]
SANDWICHED_ALPHAS = [0.5, 2.0, 3.0, np.inf]


def _petz_reference(rho, u, log_mu, a):
    """log Tr(ρ^α σ^{1−α})/(α − 1) with σ = U diag(e^{log μ}) U†: Σ_k e^{(1−α) log μ_k} ⟨u_k|ρ^α|u_k⟩, the largest
    exponential factored out."""
    lam, v = np.linalg.eigh(rho)
    rho_a = (v * lam**a) @ v.conj().T
    weights = np.real(np.einsum("ji,jk,ki->i", u.conj(), rho_a, u))
    e = (1 - a) * log_mu
    m = e.max()
    return (np.log(np.sum(weights * np.exp(e - m))) + m) / (a - 1)


def _sandwiched_reference(rho, u, log_mu, a):
    """log Tr[(σ^γ ρ σ^γ)^α]/(α − 1), γ = (1 − α)/2α (α = ∞: log λ_max(σ^{−1/2} ρ σ^{−1/2})), with
    σ^γ = e^m U diag(e^{γ log μ − m}) U†."""
    gamma = -0.5 if np.isinf(a) else (1 - a) / (2 * a)
    c = gamma * log_mu
    m = c.max()
    s = (u * np.exp(c - m)) @ u.conj().T
    mu = np.clip(np.linalg.eigvalsh(s @ rho @ s), 0.0, None)
    if np.isinf(a):
        return np.log(mu.max()) + 2 * m
    return (np.log(np.sum(mu**a)) + 2 * a * m) / (a - 1)


def _rho(d, kind):
    rho = random_state(d, np.random.default_rng(10 + d))
    return rho if kind == "coherent" else np.diag(np.diag(rho)).astype(complex)


@pytest.mark.parametrize("kind", ["coherent", "diagonal"])
@pytest.mark.parametrize("beta", [30.0, 45.0, 60.0])
@pytest.mark.parametrize("d", [2, 3])
def test_divergences_to_a_cold_diagonal_sigma(d, beta, kind):
    """σ = diag(e^{log p}), p thermal at βΔE = 30…60 (down to e^{−120}): Petz at α = ½, 2, 3 and sandwiched at
    α = ½, 2, 3, ∞ against NumPy with the analytic log p, against ``quantum_divergence_to_diagonal`` where it
    evaluates the same divergence, and, for diagonal ρ, against the classical D_α. They were +∞ for α > 1 and, at
    α = ½, off by ~1e-6 relative at βΔE = 30 (the populations below 1e-12 dropped)."""
    rho = _rho(d, kind)
    log_p = numpy_log_thermal(d, beta)
    sigma = np.diag(np.exp(log_p)).astype(complex)
    eye = np.eye(d)
    for a in PETZ_ALPHAS:
        got = float(jt.petz_renyi_divergence(rho, sigma, a))
        np.testing.assert_allclose(got, _petz_reference(rho, eye, log_p, a), rtol=1e-12, err_msg=f"Petz {a}")
        if a < 1:  # the library's Petz branch
            np.testing.assert_allclose(got, float(quantum_divergence_to_diagonal(rho, log_p, a)), rtol=1e-12)
        if kind == "diagonal":
            classical = float(renyi_divergence_log(np.real(np.diag(rho)), log_p, a))
            np.testing.assert_allclose(got, classical, rtol=1e-12)
    for a in SANDWICHED_ALPHAS:
        got = float(jt.sandwiched_renyi_divergence(rho, sigma, a))
        np.testing.assert_allclose(got, _sandwiched_reference(rho, eye, log_p, a), rtol=1e-12, err_msg=f"sw {a}")
        if a > 1:  # the library's sandwiched branch
            np.testing.assert_allclose(got, float(quantum_divergence_to_diagonal(rho, log_p, a)), rtol=1e-12)
            np.testing.assert_allclose(got, float(jt.quantum_renyi_divergence(rho, sigma, a)), rtol=0)
        if kind == "diagonal":
            classical = float(renyi_divergence_log(np.real(np.diag(rho)), log_p, a))
            np.testing.assert_allclose(got, classical, rtol=1e-12)


@pytest.mark.parametrize("kind", ["coherent", "diagonal"])
@pytest.mark.parametrize("beta", [30.0, 45.0, 60.0])
def test_divergences_to_a_cold_coherent_sigma(beta, kind):
    """A coherent qubit σ in its energy basis, smallest eigenvalue ≈ 0.91·e^{−β} (≤ 1e-13): Petz and sandwiched
    against NumPy with σ's eigenvalues and eigenvectors in closed form (a generic σ, not diagonal). The eigensolver
    gives the small eigenvalue to ~1e-10 relative here (docs/information.md §4), hence rtol 1e-9."""
    rho = _rho(2, kind)
    sigma, u, log_mu = cold_coherent_qubit(beta, 0.3)
    for a in PETZ_ALPHAS:
        got = float(jt.petz_renyi_divergence(rho, sigma, a))
        np.testing.assert_allclose(got, _petz_reference(rho, u, log_mu, a), rtol=1e-9, err_msg=f"Petz {a}")
    for a in SANDWICHED_ALPHAS:
        got = float(jt.sandwiched_renyi_divergence(rho, sigma, a))
        np.testing.assert_allclose(got, _sandwiched_reference(rho, u, log_mu, a), rtol=1e-9, err_msg=f"sw {a}")


def _thermal_sigma(d, beta, dtype=jnp.complex128):
    return jnp.diag(jnp.exp(log_thermal_populations(d, beta, 1.0))).astype(dtype)


@pytest.mark.parametrize("divergence, a", [("petz", a) for a in PETZ_ALPHAS] + [("sw", a) for a in SANDWICHED_ALPHAS])
@pytest.mark.parametrize("d, beta", [(2, 40.0), (3, 30.0)])
def test_beta_derivative_matches_central_differences(d, beta, divergence, a):
    """∂D_α(ρ‖τ_β)/∂β of a coherent ρ, τ_β built as a matrix from β: the derivative through the resolved σ^γ
    (Daleckii–Krein, the clip and the factored-out e^m held fixed) against central differences, whose rounding
    error ~ε|D|/h is allowed for (at α = ½ the derivative is ~e^{−β/2}, below 1e-7), and, where the library's
    branch is the same divergence, against the derivative through τ's log-populations."""
    rho = jnp.asarray(_rho(d, "coherent"))
    fn = jt.petz_renyi_divergence if divergence == "petz" else jt.sandwiched_renyi_divergence

    def f(b):
        return fn(rho, _thermal_sigma(d, b), a)

    h = 1e-4 * beta
    fd = (float(f(beta + h)) - float(f(beta - h))) / (2 * h)
    grad = float(jax.grad(f)(beta))
    assert np.isfinite(grad)
    rounding = 8 * np.finfo(float).eps * abs(float(f(beta))) / h
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=rounding)
    if (divergence == "petz") == (a < 1):

        def g(b):
            return quantum_divergence_to_diagonal(rho, log_thermal_populations(d, b, 1.0), a)

        # ∂_β log τ_j = −(E_j − ⟨E⟩_τ) has terms of size g0 = 1 that cancel to ~e^{−β g0}: each route keeps an
        # absolute rounding ~ε g0 (d = 2, β = 40, Petz α = ½: 5.6e-17 apart on a derivative of 1.6e-9, 3.5e-8
        # relative, on one machine; 1e-9 alone passed on another)
        np.testing.assert_allclose(grad, float(jax.grad(g)(beta)), rtol=1e-9, atol=4 * np.finfo(float).eps)


def test_resolved_eigenvalue_above_the_rounding_floor():
    """σ with eigenvalues (1 − 1e-13, 1e-13) in a rotated basis: its diagonal does not certify full rank, but 1e-13
    lies above the rounding floor 16·d·ε ≈ 7e-15 and enters with its power (D_2 was +∞ with the fixed 1e-12);
    reference: NumPy with the exact eigen-decomposition. An eigenvalue of 1e-17 lies below the floor: a kernel."""
    rng = np.random.default_rng(4)
    u = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))[0]
    rho = random_state(2, rng)
    small = 1e-13
    sigma = u @ np.diag([1 - small, small]) @ u.conj().T
    log_mu = np.log([1 - small, small])
    # the stored σ carries its small eigenvalue to ~ε/1e-13 ≈ 1e-3 relative; D_2 ≈ log(⟨u_1|ρ²|u_1⟩/1e-13)
    np.testing.assert_allclose(
        float(jt.petz_renyi_divergence(rho, sigma, 2.0)), _petz_reference(rho, u, log_mu, 2.0), rtol=1e-4
    )
    np.testing.assert_allclose(
        float(jt.sandwiched_renyi_divergence(rho, sigma, 2.0)), _sandwiched_reference(rho, u, log_mu, 2.0), rtol=1e-4
    )
    kernel = u @ np.diag([1 - 1e-17, 1e-17]) @ u.conj().T
    assert np.isposinf(float(jt.petz_renyi_divergence(rho, kernel, 2.0)))
    assert np.isposinf(float(jt.sandwiched_renyi_divergence(rho, kernel, np.inf)))


def test_true_support_mismatch_is_kept():
    """σ = diag(0.7, 0.3, 0) (not certified: a zero on the diagonal), ρ full rank: +∞ for α > 1 (Petz and sandwiched,
    α = ∞ included), finite for α < 1 and equal to the classical D_α over the support for diagonal ρ."""
    sigma = np.diag([0.7, 0.3, 0.0]).astype(complex)
    for kind in ("coherent", "diagonal"):
        rho = _rho(3, kind)
        for a in (2.0, 3.0):
            assert np.isposinf(float(jt.petz_renyi_divergence(rho, sigma, a)))
        for a in (2.0, 3.0, np.inf):
            assert np.isposinf(float(jt.sandwiched_renyi_divergence(rho, sigma, a)))
        for a in (0.5,):
            assert np.isfinite(float(jt.petz_renyi_divergence(rho, sigma, a)))
            assert np.isfinite(float(jt.sandwiched_renyi_divergence(rho, sigma, a)))
    p = np.real(np.diag(_rho(3, "diagonal")))
    ref = -2 * np.log(np.sum(np.sqrt(p[:2] * np.array([0.7, 0.3]))))  # D_½ = −2 log Σ_j √(p_j q_j)
    for fn in (jt.petz_renyi_divergence, jt.sandwiched_renyi_divergence):  # commuting: both classical
        np.testing.assert_allclose(float(fn(np.diag(p).astype(complex), sigma, 0.5)), ref, rtol=1e-12)


@pytest.mark.parametrize("beta", [30.0, 60.0])
def test_float32_stays_float32_and_finite(beta):
    """complex64 inputs, σ thermal at βΔE = 30, 60 (e^{−60} ≈ 9e-27, far below the float32 tolerance 1e-6 but a normal
    float32): float32 results, finite (they were +∞ for α > 1), within float32 rounding of the float64 values."""
    rho64 = _rho(2, "coherent")
    sigma32 = _thermal_sigma(2, jnp.float32(beta), jnp.complex64)
    assert sigma32.dtype == jnp.complex64
    sigma64 = _thermal_sigma(2, beta)
    rho32 = jnp.asarray(rho64, dtype=jnp.complex64)
    for fn, alphas in ((jt.petz_renyi_divergence, PETZ_ALPHAS), (jt.sandwiched_renyi_divergence, SANDWICHED_ALPHAS)):
        for a in alphas:
            got = fn(rho32, sigma32, a)
            assert got.dtype == jnp.float32, (fn.__name__, a)
            ref = float(fn(jnp.asarray(rho64), sigma64, a))
            assert np.isfinite(float(got)), (fn.__name__, a)
            np.testing.assert_allclose(float(got), ref, rtol=1e-5, err_msg=f"{fn.__name__} {a}")
