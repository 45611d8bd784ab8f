"""D_0(ρ‖τ_S) = −log Tr Π_ρ τ_S (docs/information.md §2, §4): exactly 0 for a ρ of full support, ≥ 0 always.

The reference and the engine returned −6.7·10⁻¹⁶ (classical and quantum) in 8 of 16 (d, β) cases and −5.6·10⁻¹⁷
in the ensemble of a coherent qubit (helper-91): τ_S's log-populations summed to 1 ± ε, so a sign test of D_0 ≥ 0
(ΔF_0 ≤ 0 "saturated, never violated", docs/inhomogeneous.md §7) failed on rounding alone. The independent route
for a rank-deficient ρ: −log of the exact rational sum of the supported Boltzmann weights (Python's fractions).
"""

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import inhomogeneous as A

CASES = [(d, beta) for d in (2, 3, 4, 5) for beta in (1e-3, 0.7, 5.0, 40.0)]


@pytest.mark.parametrize("d, beta", CASES)
def test_d0_of_a_full_support_state_is_exactly_zero(d, beta):
    model = A.InhomogeneousReservoir(d=d, beta=beta, g0=1.3, theta=0.3, kind="hamiltonian")
    rng = np.random.default_rng(d)
    p = rng.dirichlet(np.ones(d))
    psi = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    coherent = psi @ psi.conj().T
    coherent /= np.trace(coherent).real
    for rho, quantum in ((np.diag(np.full(d, 1.0 / d)), False), (np.diag(p), False), (np.diag(p), True)):
        got = float(A.divergences_to_thermal(model, jnp.asarray(rho), jnp.asarray([0.0]), quantum=quantum)[0])
        assert got == 0.0 and math.copysign(1.0, got) == 1.0, (rho, quantum, got)
    assert float(jt.divergences_to_thermal(coherent, beta, 1.3, [0.0], quantum=True)[0]) == 0.0


def _exact_d0(support, d, beta, g):
    """−log Σ_{j ∈ support} q_j = −log1p(−Σ_{j ∉ support} q_j), q_j ∝ e^{−βg j}, the sums exact (the weights
    rounded once, the missing mass rounded once)."""
    weights = [Fraction(math.exp(-beta * g * j)) for j in range(d)]
    missing = sum(w for j, w in enumerate(weights) if j not in support) / sum(weights)
    return -math.log1p(-float(missing))


@pytest.mark.parametrize("d, beta", CASES)
def test_d0_of_a_rank_deficient_state_is_minus_log_its_thermal_weight(d, beta):
    p = np.zeros(d)
    p[: d - 1] = 1.0 / (d - 1)  # the top level empty
    expected = _exact_d0(set(range(d - 1)), d, beta, 1.0)
    for quantum in (False, True):
        got = float(jt.divergences_to_thermal(np.diag(p), beta, 1.0, [0.0], quantum=quantum)[0])
        assert got >= 0.0
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    small = _exact_d0(set(range(d - 1)), d, 40.0, 1.0)  # a missing mass e^{−40(d−1)}/Z: kept (was rounded to 0)
    got = float(jt.divergences_to_thermal(np.diag(p), 40.0, 1.0, [0.0])[0])
    np.testing.assert_allclose(got, small, rtol=1e-12)


@pytest.mark.parametrize("quantum", [False, True])
def test_d0_gradient_of_a_rank_deficient_state_matches_finite_differences(quantum):
    psi = np.array([0.6, 0.48 + 0.64j]) / np.linalg.norm([0.6, 0.48 + 0.64j])  # a coherent pure qubit (quantum)
    rho = np.outer(psi, psi.conj()) if quantum else np.diag([0.5, 0.5, 0.0])

    def d0(beta, state=None):
        state = jnp.asarray(rho) if state is None else state
        return jt.divergences_to_thermal(state, beta, 1.0, [0.0], quantum=quantum)[0]

    h = 1e-5
    fd = (float(d0(0.7 + h)) - float(d0(0.7 - h))) / (2 * h)
    np.testing.assert_allclose(float(jax.grad(d0)(0.7)), fd, rtol=1e-8)
    if quantum:  # along a rotation of the state (the projector's derivative)
        gen = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, -0.4]])

        def along(s):
            u = jax.scipy.linalg.expm(-1j * s * jnp.asarray(gen))
            return d0(0.7, u @ jnp.asarray(rho) @ u.conj().T)

        fd = (float(along(h)) - float(along(-h))) / (2 * h)
        np.testing.assert_allclose(float(jax.grad(along)(0.0)), fd, rtol=1e-7)
    assert float(jax.grad(lambda b: jt.divergences_to_thermal(jnp.eye(3) / 3, b, 1.0, [0.0])[0])(0.7)) == 0.0


@pytest.mark.parametrize("rho0", [[[0.6, 0.2], [0.2, 0.4]], [[0.6, 0.0], [0.0, 0.4]]])
def test_the_ensembles_d0_of_full_rank_states_is_exactly_zero(rho0):
    model = A.InhomogeneousReservoir(d=2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, np.asarray(rho0), 5, 64, alphas=(0.0, 2.0))
    assert np.all(np.asarray(res.mean_divergence)[:, 0] == 0.0)
    assert np.all(np.asarray(res.mean_divergence)[1:, 1] > 0.0)


def test_the_ensembles_d0_of_a_pure_state_is_minus_log_its_thermal_weight():
    """A pure ρ0 = |ψ⟩⟨ψ| has D_0 = −log ⟨ψ|τ_S|ψ⟩ > 0 at r = 0 (the closed form's rank-one branch)."""
    psi = np.array([np.sqrt(0.7), np.sqrt(0.3)])
    model = A.InhomogeneousReservoir(d=2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, np.outer(psi, psi), 3, 16, alphas=(0.0,))
    q = np.exp([0.5, -0.5]) / (np.exp(0.5) + np.exp(-0.5))
    np.testing.assert_allclose(np.asarray(res.mean_divergence)[0, 0], -np.log(0.7 * q[0] + 0.3 * q[1]), rtol=1e-13)


def test_petz_d0_of_a_full_rank_state_against_any_state_is_exactly_zero():
    rng = np.random.default_rng(7)
    for d in (2, 3, 4):
        a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        b = rng.normal(size=(d, d - 1)) + 1j * rng.normal(size=(d, d - 1))  # σ of rank d − 1: Tr Π_ρ σ = Tr σ = 1
        rho, sigma = a @ a.conj().T, b @ b.conj().T
        rho, sigma = rho / np.trace(rho).real, sigma / np.trace(sigma).real
        assert float(jt.petz_renyi_divergence(rho, sigma, 0.0)) == 0.0
        p, q = rng.dirichlet(np.ones(d)), rng.dirichlet(np.ones(d))
        assert float(jt.petz_renyi_divergence(np.diag(p), np.diag(q), 0.0)) == 0.0
        assert float(jt.renyi_divergence(p, q, 0.0)) == 0.0
