"""Model B at the edges of a parameter study: cold ancillae (βΔE_A ≫ 1, populations below 1e-12 but ρ_A
full rank) and Hamiltonians H_A whose eigenbasis moves with the parameter (docs/coherent.md §1, §7;
docs/information.md §5), against independent NumPy routes and central finite differences."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo.coherent as jc
from tests.coherent.helpers import reference_collision

RHO = jnp.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
OMEGA, G, TAU = 1.0, 0.9, 0.01


def _model(beta, lam):
    return jc.qubit_example(omega=OMEGA, g=G, beta=beta, lam=lam, tau=TAU)


def _lam_max(beta):
    """λ_max = √(p0 p1)/√τ for χ = σ_x (docs/coherent.md §1: K = χ/√(p0 p1), k_min = −1/√(p0 p1))."""
    return np.exp(-beta * OMEGA / 2) / (1 + np.exp(-beta * OMEGA)) / np.sqrt(TAU)


def _qubit_relative_entropy(rho, sigma):
    """S(ρ‖σ) for 2×2 states, σ's spectrum by the stable quadratic formula (small root = det/large root)
    and its spectral projectors ``P± = (σ − w∓)/(w± − w∓)``: relative accuracy however small det σ is."""
    a, b, c = sigma[0, 0].real, sigma[1, 1].real, abs(sigma[0, 1]) ** 2
    big = 0.5 * (a + b + np.sqrt((a - b) ** 2 + 4 * c))
    small = (a * b - c) / big
    eye = np.eye(2)
    log_sigma = np.log(big) * (sigma - small * eye) / (big - small) + np.log(small) * (sigma - big * eye) / (
        small - big
    )
    w = np.linalg.eigvalsh(rho)
    return float(np.sum(w * np.log(w)) - np.trace(rho @ log_sigma).real)


def _reference(beta, lam):
    m = _model(beta, lam)
    p = {k: np.asarray(getattr(m, k)) for k in ("H_S", "H_A", "V", "chi")}
    p.update(beta=beta, lam=lam, tau=TAU)
    # ρ_th of (Ω/2)σ_z from the populations directly (p1/p0 = e^{−βΩ}), not from a matrix exponential
    p1 = 1.0 / (1.0 + np.exp(beta * OMEGA))
    rho_a = np.diag([1.0 - p1, p1]) + np.sqrt(TAU) * lam * p["chi"]
    _, rho_a_out, _ = reference_collision(p, np.asarray(RHO))
    return _qubit_relative_entropy(rho_a_out, rho_a)


@pytest.mark.parametrize(("beta", "fraction"), [(30.0, 0.0), (40.0, 0.0), (30.0, 0.5)])
def test_ancilla_relative_entropy_is_finite_for_a_cold_full_rank_ancilla(beta, fraction):
    """p1 = e^{−βΩ} ≈ 1e-13 … 4e-18: ρ_A is full rank and S(ρ_A'‖ρ_A) ≈ p1'·βΩ is finite (was +∞, the
    eigenvalue p1 taken for 0), and so is Σ."""
    lam = fraction * _lam_max(beta)
    t = jc.collision_thermodynamics(_model(beta, lam), RHO)
    expected = _reference(beta, lam)
    assert expected > 0.05  # ≈ 3e-3 (excited population of ρ_A') × βΩ
    np.testing.assert_allclose(float(t.ancilla_relative_entropy), expected, rtol=1e-9)
    np.testing.assert_allclose(float(t.entropy_production), float(t.mutual_information) + expected, rtol=1e-9)


def test_entropy_production_of_a_cold_ancilla_has_finite_derivatives():
    """∂Σ/∂β and ∂Σ/∂λ at βΩ = 30 (λ = 0 and λ = λ_max/2) against central differences (were NaN)."""
    sigma = lambda x: jc.collision_thermodynamics(_model(x[0], x[1]), RHO).entropy_production
    value, grad = jax.jit(sigma), jax.jit(jax.grad(sigma))
    for lam in (0.0, 0.5 * _lam_max(30.0)):
        x = jnp.array([30.0, lam])
        g = np.asarray(grad(x))
        steps = np.array([1e-4, 1e-3 * _lam_max(30.0)])
        fd = [(float(value(x.at[i].add(h))) - float(value(x.at[i].add(-h)))) / (2 * h) for i, h in enumerate(steps)]
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g[0], fd[0], rtol=1e-6)
        # the λ step is ~3e-9 (λ_max ≈ √p1/√τ): rounding of Σ ≈ 0.1 limits the difference quotient to ~1e-3
        np.testing.assert_allclose(g[1], fd[1], rtol=3e-3)


def test_ancilla_relative_entropy_derivatives_in_lambda_at_zero_coherence():
    """At λ = 0 the value is taken from the exact thermal formula; ∂/∂λ and ∂²/∂λ² (the λ² coefficient
    of S(ρ_A'‖ρ_A), cross terms ∂ρ_A'/∂λ · ∂log ρ_A/∂λ included) are those of the full divergence:
    central first and second differences of the NumPy route across λ = 0."""
    beta = 0.8
    f = lambda lam: jc.collision_thermodynamics(_model(beta, lam), RHO).ancilla_relative_entropy
    grad, hess = jax.jit(jax.jacfwd(jax.value_and_grad(f)))(0.0)
    h = 3e-3  # truncation O(h²) ~1e-7 relative, rounding ~1e-16/h² of S ≈ 1e-4
    up, mid, down = _reference(beta, h), _reference(beta, 0.0), _reference(beta, -h)
    assert abs((up - down) / (2 * h)) > 1e-5 and (up - 2 * mid + down) / h**2 > 1e-5
    np.testing.assert_allclose(float(f(0.0)), mid, rtol=1e-12)
    np.testing.assert_allclose(float(grad), (up - down) / (2 * h), rtol=1e-5)
    np.testing.assert_allclose(float(hess), (up - 2 * mid + down) / h**2, rtol=1e-5)


def _rotation(phi):
    c, s = jnp.cos(phi), jnp.sin(phi)
    return jnp.array([[c, -s], [s, c]])


def test_energy_coherence_differentiates_the_eigenbasis_of_h():
    """C(ρ) in the eigenbasis of h(φ) = R(φ) diag(0, 1) R(φ)ᵀ: ∂C/∂φ ≠ 0 (was 0: the basis was held fixed)."""

    def coherence(phi):
        u = _rotation(phi)
        return jc.energy_coherence(RHO, u @ jnp.diag(jnp.array([0.0, 1.0])) @ u.T)

    fd = (float(coherence(0.3 + 1e-6)) - float(coherence(0.3 - 1e-6))) / 2e-6
    assert abs(fd) > 0.1
    np.testing.assert_allclose(float(jax.grad(coherence)(0.3)), fd, rtol=1e-7)


def test_energy_coherence_of_a_real_state_in_a_complex_eigenbasis():
    """A real (float) ρ and a complex Hermitian h: the coherence in h's eigenbasis (NumPy: populations of
    U†ρU). Was 0: h was cast to ρ's real dtype, its imaginary part dropped."""
    rho = jnp.diag(jnp.array([0.7, 0.3]))
    h = jnp.array([[0.0, 1j], [-1j, 1.0]])
    _, u = np.linalg.eigh(np.asarray(h))
    p = np.real(np.diag(u.conj().T @ np.asarray(rho) @ u))
    expected = -np.sum(p * np.log(p)) + np.sum(np.array([0.7, 0.3]) * np.log([0.7, 0.3]))
    assert expected > 0.05
    np.testing.assert_allclose(float(jc.energy_coherence(rho, h)), expected, rtol=1e-12)
    assert jc.energy_coherence(rho.astype(jnp.float32), h).dtype == jnp.float32  # ρ's precision kept


def test_coherence_change_differentiates_a_rotating_ancilla_hamiltonian():
    """ΔC_A of one collision with H_A(φ) = R(φ)(Ω/2)σ_z R(φ)ᵀ and χ(φ) = R(φ)σ_x R(φ)ᵀ co-rotated (zero
    diagonal in the moving eigenbasis, docs/coherent.md §1) while V stays fixed."""
    base = _model(0.8, 0.3)

    def change(phi):
        u = _rotation(phi)
        m = base.replace(H_A=u @ base.H_A @ u.T, chi=u @ base.chi @ u.T)
        return jc.collision_thermodynamics(m, RHO).coherence_change

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # V no longer commutes with H_S + H_A (a UserWarning)
        fd = (float(change(0.2 + 1e-6)) - float(change(0.2 - 1e-6))) / 2e-6
        grad = float(jax.jit(jax.grad(change))(0.2))
    assert abs(fd) > 1e-4
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


@pytest.mark.parametrize("beta", [50.0, 760.0, 1000.0, 1500.0])
def test_allowed_lambda_range_of_a_cold_ancilla(beta):
    """λ_max = √(p0 p1)/√τ = e^{−βΩ/2}/((1 + e^{−βΩ})√τ) for χ = σ_x, also where p1 = e^{−βΩ}/Z underflows
    (βΩ ≳ 745: the range was NaN and every λ passed the positivity check, ρ_A with eigenvalue −√τλ)."""
    lam_max = np.exp(-beta * OMEGA / 2) / (1 + np.exp(-beta * OMEGA)) / np.sqrt(TAU)
    lo, hi = jc.allowed_lambda_range(_model(beta, 0.0))
    np.testing.assert_allclose([float(lo), float(hi)], [-lam_max, lam_max], rtol=1e-12, atol=0)
    assert np.isfinite(float(hi))
    rho_a = np.diag([1.0, 0.0]) + np.sqrt(TAU) * 0.1 * np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.linalg.eigvalsh(rho_a)[0] < 0  # λ = 0.1 is far outside: ρ_A is not a state
    with pytest.raises(ValueError, match="lam: the ancilla state"):
        _model(beta, 0.1)
