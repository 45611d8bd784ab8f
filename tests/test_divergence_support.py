"""Which eigenvalues of ρ enter its own powers in the Petz divergences (docs/information.md §4).

ρ^α runs over ρ's resolved eigenvalues, as σ's powers do: all of them when ρ is certified full rank from its
diagonal (a cold thermal or cold coherent state in its energy basis), else those above the rounding floor
min(16dε, t)·‖ρ‖. A fixed cut at t = 1e-12 (1e-6 in float32) dropped a cold ρ's small populations: ρ thermal at
βΔE = 30 against I/2 gave D_½ = log 2 = 0.69314718056 instead of 0.69314656876 (the dropped 2√(p_small·½)), and
D_0 = log 2 instead of 0. References: the textbook formulas with ρ's eigenvalues and eigenvectors in closed form
(log-sum-exp of positive terms, no eigensolver), the classical D_α of the analytic log-populations, and central
differences for the derivative.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, quantum_divergence_to_diagonal, renyi_divergence_log
from tests.helpers import cold_coherent_block, log_petz_trace, numpy_divergence_to_diagonal, numpy_log_thermal

ALPHAS_BELOW_ONE = [0.0, 0.5, 0.9]


def _cold_state(d, beta, kind):
    """(ρ, u, log μ): thermal at β for the unit-gap ladder, diagonal or with a coherence c = 0.3 between the two
    lowest levels (qubit) or the two highest, both tiny (qutrit), eigenvalues and eigenvectors in closed form."""
    log_p = numpy_log_thermal(d, beta)
    if kind == "diagonal":
        return np.diag(np.exp(log_p)).astype(complex), np.eye(d, dtype=complex), log_p
    return cold_coherent_block(log_p, 0.3, d - 2, d - 1)


def _reference(u, log_mu, log_s, a):
    """D_α(ρ‖σ) = log Tr(ρ^α σ^{1−α})/(α − 1), σ = diag(e^{log s}), from ρ's closed-form eigen-decomposition (at
    α = 0, −log Tr σ: every μ_k of the closed form is positive, so ρ^0 = 1)."""
    return log_petz_trace(u, log_mu, log_s, a) / (a - 1)


@pytest.mark.parametrize("kind", ["diagonal", "coherent"])
@pytest.mark.parametrize("beta", [30.0, 40.0, 60.0])
@pytest.mark.parametrize("d", [2, 3])
def test_petz_divergence_of_a_cold_state(d, beta, kind):
    """ρ cold (smallest eigenvalue e^{−30} ≈ 9e-14 above the rounding floor, e^{−40}, e^{−120}·… below it but
    certified) against σ = I/d given as a matrix and against a warm τ_S (β = 1) given by its log-populations:
    Petz D_α, α = 0, ½, 0.9, equal to the closed form to 1e-13 (the fixed cut was off by up to 7e-7, and by log 2
    at α = 0); for diagonal ρ also the classical D_α of the populations (which counts every p_j > 0)."""
    rho, u, log_mu = _cold_state(d, beta, kind)
    log_flat, log_warm = np.full(d, -np.log(d)), numpy_log_thermal(d, 1.0)
    sigma = np.eye(d, dtype=complex) / d
    for a in ALPHAS_BELOW_ONE:
        ref_flat, ref_warm = _reference(u, log_mu, log_flat, a), _reference(u, log_mu, log_warm, a)
        got = {
            "petz": float(jt.petz_renyi_divergence(rho, sigma, a)),
            "quantum_renyi": float(jt.quantum_renyi_divergence(rho, sigma, a)),
            "to_diagonal": float(quantum_divergence_to_diagonal(rho, log_flat, a)),
        }
        for name, value in got.items():
            np.testing.assert_allclose(value, ref_flat, rtol=0, atol=1e-13, err_msg=f"{name} α={a}")
        thermal = float(jt.divergences_to_thermal(rho, 1.0, 1.0, [a], quantum=True)[0])
        np.testing.assert_allclose(thermal, ref_warm, rtol=0, atol=1e-13, err_msg=f"to τ_S α={a}")
        if kind == "diagonal":
            classical = float(renyi_divergence_log(np.exp(log_mu), log_warm, a))
            np.testing.assert_allclose(classical, ref_warm, rtol=0, atol=1e-13, err_msg=f"classical α={a}")


def test_reported_case():
    """The defect as reported: ρ thermal at βΔE = 30, σ = I/2, α = ½ — closed form −2 log Σ_j √(p_j/2)."""
    b = 30.0
    p = np.array([1.0, np.exp(-b)]) / (1.0 + np.exp(-b))
    rho = np.diag(p).astype(complex)
    truth = -2.0 * np.log(np.sum(np.sqrt(0.5 * p)))
    assert abs(truth - np.log(2.0)) > 5e-7  # what dropping p_1 = 9.4e-14 costs
    np.testing.assert_allclose(float(jt.petz_renyi_divergence(rho, np.eye(2) / 2, 0.5)), truth, rtol=0, atol=1e-15)
    got = float(quantum_divergence_to_diagonal(rho, np.log([0.5, 0.5]), 0.5))
    np.testing.assert_allclose(got, truth, rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", ["diagonal", "coherent"])
@pytest.mark.parametrize("d", [2, 3])
def test_float32_keeps_populations_below_its_tolerance(d, kind):
    """complex64 ρ thermal at βΔE = 14 (smallest population 8e-7, below float32's fixed 1e-6, certified full rank):
    float32 result, within 3e-6 of the float64 closed form; the fixed cut was off by ~1e-3."""
    rho, u, log_mu = _cold_state(d, 14.0, kind)
    log_flat = np.full(d, -np.log(d))
    for a in (0.5, 0.9):
        ref = _reference(u, log_mu, log_flat, a)
        for value in (
            jt.petz_renyi_divergence(jnp.asarray(rho, jnp.complex64), jnp.eye(d, dtype=jnp.complex64) / d, a),
            quantum_divergence_to_diagonal(jnp.asarray(rho, jnp.complex64), log_flat.astype(np.float32), a),
        ):
            assert value.dtype == jnp.float32
            np.testing.assert_allclose(float(value), ref, rtol=3e-6, err_msg=f"α={a}")


def test_rounding_noise_stays_out():
    """What stays cut: a pure state's computed eigenvalues other than 1 are rounding noise (~1e-17, below the floor
    16dε) and must not enter ρ^½ (they would add ~√1e-17 ≈ 3e-9): ρ^½ = ρ, so D_½(ρ‖I/d) = −2 log(Tr ρ/√d) = log d."""
    rng = np.random.default_rng(3)
    for d in (2, 3, 5):
        psi = rng.normal(size=d) + 1j * rng.normal(size=d)
        psi /= np.linalg.norm(psi)
        rho = np.outer(psi, psi.conj())
        np.testing.assert_allclose(float(jt.petz_renyi_divergence(rho, np.eye(d) / d, 0.5)), np.log(d), atol=1e-14)
        ref = numpy_divergence_to_diagonal(rho, np.full(d, -np.log(d)), 0.5)
        np.testing.assert_allclose(ref, np.log(d), atol=1e-14)


@pytest.mark.parametrize("kind", ["diagonal", "coherent"])
def test_derivative_at_a_cold_state(kind):
    """∂D_½(ρ_b‖I/2)/∂b with ρ_b thermal at b = 30 (coherent: c = 0.3 as a fixed fraction of √(p0 p1)), built from b
    in JAX: the derivative comes from the small population (−½√p_1-sized), which the fixed cut dropped (it gave
    ~1e-13); against central differences."""
    c = 0.0 if kind == "diagonal" else 0.3

    def rho_of(b):
        lp = log_thermal_populations(2, b, 1.0)
        off = c * jnp.exp(0.5 * (lp[0] + lp[1]))
        return jnp.array([[jnp.exp(lp[0]), off], [off, jnp.exp(lp[1])]], dtype=jnp.complex128)

    def f(b):
        return jt.petz_renyi_divergence(rho_of(b), jnp.eye(2) / 2, 0.5)

    b, h = 30.0, 0.05
    fd = (float(f(b + h)) - float(f(b - h))) / (2 * h)
    grad = float(jax.grad(f)(b))
    assert abs(fd) > 1e-7
    np.testing.assert_allclose(grad, fd, rtol=1e-3)
