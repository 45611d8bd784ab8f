"""Model B with a cold bath (βΔE = 30…60): Ṡ, Π, Ḟ of a full-rank ρ_S whose populations lie far below
1e-12 are finite and match NumPy with the analytic log-populations (docs/coherent.md §7,
docs/information.md §4); a true support mismatch stays +∞."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.coherent as jc
from tests.coherent.helpers import lindblad_rhs, reference_lindblad
from tests.helpers import cold_coherent_qubit, numpy_log_thermal

SM2 = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0⟩⟨1| on the qubit ancilla


def _arrays(d_s, beta, lam_fraction=0.5, tau=0.01):
    """Resonant excitation exchange, unit gaps, all Hamiltonians diagonal: H_S = diag(0, 1, …), H_A = diag(0, 1),
    V = a ⊗ σ₊ + a† ⊗ σ₋ (a the ladder of the system), χ = σ_x, λ at ``lam_fraction`` of λ_max.
    λ_max by hand: K = χ/√(p0 p1) has k_min = −1/√(p0 p1), so λ_max = √(p0 p1)/√τ, p1/p0 = e^{−β}."""
    a = np.diag(np.sqrt(np.arange(1.0, d_s)), 1)
    v = np.kron(a, SM2.T) + np.kron(a.T, SM2)
    root_p0p1 = np.exp(-0.5 * beta - np.log1p(np.exp(-beta)))
    lam = lam_fraction * root_p0p1 / np.sqrt(tau)
    return dict(
        H_S=np.diag(np.arange(d_s, dtype=float)),
        H_A=np.diag([0.0, 1.0]),
        V=v,
        beta=beta,
        chi=SM2 + SM2.T,
        lam=lam,
        tau=tau,
    )


def _model(p):
    return jc.CoherentCollisionModel(p["H_S"], p["H_A"], p["V"], p["beta"], p["chi"], p["lam"], p["tau"])


def _reference(p, rho, log_rho):
    """Ṡ, Π, Ḟ by NumPy: ρ̇ from the Lindblad form built independently (tests/coherent/helpers.py),
    Ṡ = −Tr(ρ̇ log ρ) with the given log ρ, Q̇_inc = Tr[H_S D(ρ)], Π = Ṡ − βQ̇_inc, Ḟ = Tr(H_S ρ̇) − Ṡ/β."""
    h, jumps = reference_lindblad(p)
    rho_dot = lindblad_rhs(h, jumps, rho)
    s_dot = -np.real(np.trace(rho_dot @ log_rho))
    q = np.real(np.trace(p["H_S"] @ lindblad_rhs(0 * h, jumps, rho)))
    return s_dot, s_dot - p["beta"] * q, np.real(np.trace(p["H_S"] @ rho_dot)) - s_dot / p["beta"], p["beta"] * q


@pytest.mark.parametrize("d_s", [2, 3])
@pytest.mark.parametrize("beta", [30.0, 45.0, 60.0])
@pytest.mark.parametrize("factor", [1.2, 0.9])  # ρ_S colder (its excited levels fill) or hotter than the bath
def test_rates_at_a_cold_thermal_state_match_numpy_with_log_populations(d_s, beta, factor):
    """ρ_S thermal at β_S = factor·β, diagonal with populations e^{−β_S k}/Z down to 1e-47: full rank. The
    levels below 1e-12 used to count as a kernel: Ṡ = Π = +∞, Ḟ = −∞ when ρ̇ fed them (colder ρ_S), and their
    log dropped (Ṡ = 0 instead of ≈ −1e-16) when it drained them."""
    p = _arrays(d_s, beta)
    m = _model(p)
    log_p = numpy_log_thermal(d_s, factor * beta)
    rho = np.diag(np.exp(log_p)).astype(complex)
    s_ref, pi_ref, f_ref, bq = _reference(p, rho, np.diag(log_p))
    scale = abs(s_ref) + abs(bq)
    np.testing.assert_allclose(float(jc.entropy_rate(m, rho)), s_ref, rtol=1e-9)
    np.testing.assert_allclose(float(jt.entropy_production_rate(m, rho)), pi_ref, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(float(jc.free_energy_rate(m, rho)), f_ref, rtol=0, atol=1e-9 * scale / beta)
    assert float(jt.entropy_production_rate(m, rho)) >= -1e-9 * scale  # [WCCM] eq. (17): Π ≥ 0


def _coherent_qubit(beta_s, c):
    """A coherent cold qubit ρ (:func:`tests.helpers.cold_coherent_qubit`), its log by the closed form, and the
    log of its small eigenvalue."""
    rho, u, log_mu = cold_coherent_qubit(beta_s, c)
    return rho, np.real(u @ np.diag(log_mu) @ u.T), log_mu[1]


@pytest.mark.parametrize("beta", [30.0, 45.0, 60.0])
def test_rates_at_a_cold_coherent_state_match_the_closed_form_log(beta):
    """A coherent qubit state, colder than the bath, smallest eigenvalue ~e^{−1.2β} (≤ 1e-15): Ṡ, Π, Ḟ against
    NumPy with log ρ in closed form; S(ρ‖τ_S) against −S(ρ) − Σ_j ρ_jj log t_j (t_j the analytic thermal
    populations). All were ±∞ before (eigenvalues below 1e-12 counted as zero)."""
    p = _arrays(2, beta)
    m = _model(p)
    rho, log_rho, log_small = _coherent_qubit(1.2 * beta, 0.3)
    s_ref, pi_ref, f_ref, bq = _reference(p, rho, log_rho)
    scale = abs(s_ref) + abs(bq)
    np.testing.assert_allclose(float(jc.entropy_rate(m, rho)), s_ref, rtol=1e-9)
    np.testing.assert_allclose(float(jt.entropy_production_rate(m, rho)), pi_ref, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(float(jc.free_energy_rate(m, rho)), f_ref, rtol=0, atol=1e-9 * scale / beta)
    # S(ρ‖τ_S), τ_S thermal at β for H_S = diag(0, 1): its populations e^{−β}/Z ≪ 1e-12
    tau_s = np.diag(np.exp(numpy_log_thermal(2, beta))).astype(complex)
    mu = np.exp([np.log(np.real(np.trace(rho)) - np.exp(log_small)), log_small])
    s_rho = -np.sum(mu * np.log(mu))
    ref = -s_rho - np.sum(np.real(np.diag(rho)) * numpy_log_thermal(2, beta))
    np.testing.assert_allclose(float(jt.relative_entropy(rho, tau_s)), ref, rtol=1e-10)


def test_cold_bath_derivatives_match_central_differences():
    """∂Π/∂β, ∂Π/∂λ, ∂Ḟ/∂β at a fixed cold coherent ρ_S (βΔE = 40) and ∂Ṡ/∂β_S of the thermal state
    ρ_S(β_S) (through the Daleckii–Krein derivative of log ρ at an eigenvalue e^{−48}) against central differences."""
    beta0 = 40.0
    p = _arrays(2, beta0)
    rho, _, _ = _coherent_qubit(1.2 * beta0, 0.3)
    rho = jnp.asarray(rho)

    def model(beta, lam):
        return jc.CoherentCollisionModel(p["H_S"], p["H_A"], p["V"], beta, p["chi"], lam, p["tau"])

    def pi(beta, lam):
        return jt.entropy_production_rate(model(beta, lam), rho)

    def fdot(beta, lam):
        return jc.free_energy_rate(model(beta, lam), rho)

    lam0 = p["lam"]
    for fn in (pi, fdot):
        for arg, x0, h in ((0, beta0, 1e-4), (1, lam0, 1e-4 * lam0)):
            f = (lambda x: fn(x, lam0)) if arg == 0 else (lambda x: fn(beta0, x))
            grad = float(jax.grad(f)(jnp.asarray(x0)))
            fd = (float(f(x0 + h)) - float(f(x0 - h))) / (2 * h)
            assert np.isfinite(grad)
            np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9 * abs(float(f(x0))) / x0)

    m = model(beta0, lam0)

    def s_dot(beta_s):
        log_p = -beta_s * jnp.arange(2.0) - jnp.log1p(jnp.exp(-beta_s))
        return jc.entropy_rate(m, jnp.diag(jnp.exp(log_p)).astype(complex))

    b, h = 1.2 * beta0, 1e-4
    grad = float(jax.grad(s_dot)(b))
    fd = (float(s_dot(b + h)) - float(s_dot(b - h))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_true_support_mismatch_stays_infinite_with_nan_derivatives():
    """A pure ρ_S (exactly rank one, diagonal or coherent) whose kernel the cold bath populates: Ṡ = Π = +∞, Ḟ = −∞,
    NaN derivatives; S(ρ‖σ) = +∞ for σ pure and ρ mixed. The graded certificate cannot apply (zero diagonal entry
    or a singular M), and the eigenvalue 0 lies below the rounding floor."""
    p = _arrays(2, 40.0)
    m = _model(p)
    ground = np.diag([1.0, 0.0]).astype(complex)
    psi = np.array([np.sqrt(1 - 1e-20), 1e-10])
    coherent = np.outer(psi, psi).astype(complex)
    for rho in (ground, coherent):
        assert np.isposinf(float(jc.entropy_rate(m, rho)))
        assert np.isposinf(float(jt.entropy_production_rate(m, rho)))
        assert np.isneginf(float(jc.free_energy_rate(m, rho)))
        grad = jax.grad(lambda lam, r=rho: jt.entropy_production_rate(m.replace(lam=lam), r))(p["lam"])
        assert np.isnan(float(grad))
    mixed = np.diag(np.exp(numpy_log_thermal(2, 5.0))).astype(complex)  # weight ~e^{-5} on the kernels
    assert np.isposinf(float(jt.relative_entropy(mixed, coherent)))
    assert np.isposinf(float(jt.relative_entropy(mixed, ground)))


@pytest.mark.parametrize("beta", [25.0, 60.0])
def test_cold_bath_rates_in_float32(beta):
    """float32 model and state: Ṡ and Π finite, float32, and equal to the float64 values (the float32 support
    tolerance 1e-6 made them +∞ from βΔE ≈ 14)."""
    log_p = numpy_log_thermal(2, 1.2 * beta)
    rho = np.diag(np.exp(log_p))
    m32 = jc.qubit_example(beta=beta, lam=0.0, tau=0.01, dtype=jnp.float32)
    m64 = jc.qubit_example(beta=beta, lam=0.0, tau=0.01)
    # Ṡ against NumPy: ρ̇ = diag(γ⁺p0 − γ⁻p1)·(−1, 1) for amplitude damping with γ⁻ = p0_A, γ⁺ = p1_A (g = 1)
    log_a = numpy_log_thermal(2, beta)
    flow = np.exp(log_a[1] + log_p[0]) - np.exp(log_a[0] + log_p[1])
    np.testing.assert_allclose(
        float(jc.entropy_rate(m32, rho.astype(np.complex64))), -flow * (log_p[1] - log_p[0]), rtol=1e-4
    )
    for fn in (jc.entropy_rate, jt.entropy_production_rate):
        v32 = fn(m32, rho.astype(np.complex64))
        assert v32.dtype == jnp.float32 and np.isfinite(float(v32))
        np.testing.assert_allclose(float(v32), float(fn(m64, rho.astype(complex))), rtol=1e-4)
