"""Derivatives through functions of Hermitian matrices whose f' is steeper than the quadrature's nodes resolve.

The Daleckii–Krein derivative (jaxthermo._linalg.divided_differences) integrates f' between two eigenvalues by
Gauss–Legendre. For a cold Gibbs weight e^{−βλ}, a cold Fermi edge or λ⁰ on a support, f' vanishes or underflows at
every node while f(λ_i) ≠ f(λ_j): the 8- and 16-node rules agreed on 0, the integral was taken as converged, and the
derivative along a rotation of the eigenbasis was 0 (gibbs_state at β·gap ≳ 5·10³, the Petz D_0 of a pure state at
any β, model C's fermionic reservoirs 50 % off at β = 1000). Each case here has a closed form or smooth finite
differences as its independent route.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._linalg import divided_differences


@pytest.mark.parametrize("gap", [1e2, 1e4, 1e6])
def test_the_quotient_of_a_cold_exponential_pair(gap):
    """Γ_01 of e^x at (−gap, 0) is (1 − e^{−gap})/gap; its f' = e^x underflows at every node for gap ≳ 10⁴."""
    g = np.asarray(divided_differences(jnp.exp, jnp.array([-gap, 0.0])))
    np.testing.assert_allclose(g[0, 1], -np.expm1(-gap) / gap, rtol=1e-15)
    np.testing.assert_allclose(np.diag(g), np.exp([-gap, 0.0]), rtol=1e-15)  # f'(λ) where the pair coincides


@pytest.mark.parametrize("beta", [1e2, 1e4, 1e6])
def test_cold_gibbs_state_rotates_with_its_ground_state(beta):
    """H = −σ_z/2 + vσ_x: ρ_β → the ground projector P = ½(1 − n·σ), n = (v, 0, −½)/√(v² + ¼), so
    ∂P_01/∂v = −⅛ (v² + ¼)^{−3/2} (−0.9429 at v = 0.1; e^{−β·gap} corrections below 10⁻⁴⁴ here)."""
    v = 0.1
    d_rho01 = jax.grad(lambda x: jnp.real(jt.gibbs_state(jnp.array([[-0.5, x], [x, 0.5]]), beta)[0, 1]))(v)
    np.testing.assert_allclose(d_rho01, -0.125 * (v * v + 0.25) ** -1.5, rtol=1e-11)  # β = 10⁶: 1.5e-12


def test_cold_thermal_ancilla_of_model_b_rotates_with_its_ground_state():
    """Model B's thermal ancilla (χ = 0) for H_A = ½(−σ_z + vσ_x) = a·σ at β = 10⁴ is its ground projector
    ½(1 − a·σ/r), r = |a| = √(v²/4 + ¼): (ρ_A)_01 = −v/(4r), ∂/∂v = −¼(1/r − v²/(4r³)) (−0.4926 at v = 0.1)."""
    v = 0.1
    model = jt.qubit_example(omega=1.0, g=1.0, beta=1e4, lam=0.0, tau=0.01)

    def off_diagonal(x):
        h_a = 0.5 * jnp.array([[-1.0, x], [x, 1.0]])
        return jnp.real(jt.coherent.thermal_ancilla(model.replace(H_A=h_a, chi=jnp.zeros((2, 2))))[0, 1])

    r = np.sqrt(v * v / 4 + 0.25)
    np.testing.assert_allclose(jax.grad(off_diagonal)(v), -0.25 * (1 / r - v * v / 4 / r**3), rtol=1e-12)


@pytest.mark.parametrize("beta", [10.0, 2000.0])
def test_fermi_function_of_a_matrix_follows_its_negative_eigenspace(beta):
    """f(h) = 1/(1 + e^{βh}) for h = −σ_z + vσ_x: at v = 0 the derivative of f(h)_01 along σ_x is the
    divided difference (f(−1) − f(1))/(−1 − 1) = −½ tanh(β/2), finite differences of a smooth function."""
    fermi = lambda x: jax.nn.sigmoid(-beta * x)
    entry = lambda v: jnp.real(jt.hermitian_function(fermi, jnp.array([[-1.0, v], [v, 1.0]]))[0, 1])
    np.testing.assert_allclose(jax.grad(entry)(0.0), -0.5 * np.tanh(beta / 2), rtol=1e-13)


@pytest.mark.parametrize("x", [0.3, 1.1])
def test_petz_d0_of_a_rotated_pure_state(x):
    """D_0(ψψ†‖τ) = −log⟨ψ|τ|ψ⟩ for a pure ψ = (cos x, sin x): ∂/∂x = −sin 2x (t1 − t0)/(cos²x t0 + sin²x t1).
    The rotation keeps the rank, so the derivative is exact (docs/information.md §6); it was 0."""
    tau = jt.thermal_state(2, 1.0, 1.0)
    t0, t1 = np.real(np.diag(np.asarray(tau)))

    def d0(y):
        psi = jnp.array([jnp.cos(y), jnp.sin(y)]).astype(complex)
        return jt.quantum_renyi_divergence(jnp.outer(psi, psi.conj()), tau, 0.0)

    want = -np.sin(2 * x) * (t1 - t0) / (np.cos(x) ** 2 * t0 + np.sin(x) ** 2 * t1)
    np.testing.assert_allclose(jax.grad(d0)(x), want, rtol=1e-12)
    np.testing.assert_allclose(jax.jacfwd(d0)(x), want, rtol=1e-12)


def test_cold_fermionic_reservoir_heat_against_finite_differences():
    """Model C, two fermionic modes at β1 = 1000 with their Fermi level between the levels ±√(1 + v²): the bare
    heat's ∂/∂v against Richardson-extrapolated central differences (steps 1e-4, 2e-4; the heat is smooth in v)."""
    times = jnp.linspace(0.0, 2.0, 11)

    def heat(v):
        h1 = jnp.array([[-1.0, v], [v, 1.0]])
        res = jt.QuadraticReservoirs(
            h1, jnp.array([[0.5]]), jnp.array([[0.3], [0.2]]), beta1=1000.0, beta2=1.0, statistics="fermion"
        )
        return res.energetics(times, estimate_error=False).bare.heat[-1]

    v = 0.2
    central = lambda h: (float(heat(v + h)) - float(heat(v - h))) / (2 * h)
    fd = (4 * central(1e-4) - central(2e-4)) / 3
    np.testing.assert_allclose(jax.grad(heat)(v), fd, rtol=1e-8)
