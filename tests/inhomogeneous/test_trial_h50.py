"""Trial of model A's closed forms and their derivatives by a physicist doing a gradient-based study (helper-50)."""

import jax
import numpy as np
import pytest

import jaxthermo as jt


def _entropy_production_reference(d, beta, g0, theta, delta, rho):
    """S(X'‖ρ'_S ⊗ τ) from the definition in NumPy: X' = U(ρ ⊗ τ)U† as a full (d², d²) matrix (U the partial
    swap), log X' from its spectrum {λ_i(ρ) q_k} (a unitary image of ρ ⊗ τ), log(ρ'_S ⊗ τ) from the
    eigendecomposition of ρ'_S ⊗ 1 and log q_k = −βg_r m_k − log Z in closed form."""
    m = np.arange(d) - (d - 1) / 2
    x = beta * g0 * (1 + delta)
    log_q = -x * m - np.logaddexp.reduce(-x * m)
    q = np.exp(log_q)
    swap = np.zeros((d * d, d * d))
    for i in range(d):
        for k in range(d):
            swap[i * d + k, k * d + i] = 1
    u = np.cos(theta) * np.eye(d * d) + 1j * np.sin(theta) * swap
    joint = u @ np.kron(rho, np.diag(q)) @ u.conj().T
    rho_s = np.einsum("ikjk->ij", joint.reshape(d, d, d, d))
    lam = np.linalg.eigvalsh(rho)
    lam_q = np.outer(lam, q).ravel()
    x_log_x = np.sum(lam_q[lam_q > 0] * np.log(lam_q[lam_q > 0]))
    w, v = np.linalg.eigh(rho_s)
    log_w = np.log(np.clip(w, 1e-300, None))  # a near-null eigenvalue of ρ'_S carries X' weight of its own size
    log_ref = np.kron(v @ np.diag(log_w) @ v.conj().T, np.eye(d)) + np.kron(np.eye(d), np.diag(log_q))
    return x_log_x - np.real(np.trace(joint @ log_ref))


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("state", ["coherent", "plus"])
def test_entropy_production_of_a_coherent_state_with_a_cold_reservoir_qudit(d, state):
    """ΔS for coherent ρ and βg_r = 42 (β = 40, δ = 0.05): the matrix logarithm of ρ'_S ⊗ τ(δ) dropped its
    eigenvalues ~e^{−42} (qubit: 1.5008 for 1.4520, plus state 2.0595 for 1.9333; d/dβ 0.008 for 0.037)."""
    if state == "plus":
        rho = np.full((d, d), 1 / d, complex)
    else:
        p = np.arange(d, 0, -1) / (d * (d + 1) / 2)
        rho = np.diag(p).astype(complex)
        rho[0, 1], rho[1, 0] = 0.1j, -0.1j
    theta, delta = 0.3, 0.05
    for beta in (1.0, 20.0, 40.0):
        model = jt.InhomogeneousReservoir(d, beta, 1.0, theta, distribution=jt.Gaussian(0.1))
        ref = _entropy_production_reference(d, beta, 1.0, theta, delta, rho)
        np.testing.assert_allclose(float(jt.entropy_production(model, rho, delta)), ref, rtol=1e-10)
        h = 1e-4
        fd = (
            _entropy_production_reference(d, beta + h, 1.0, theta, delta, rho)
            - _entropy_production_reference(d, beta - h, 1.0, theta, delta, rho)
        ) / (2 * h)
        grad = jax.grad(lambda b, m=model: jt.entropy_production(m.replace(beta=b), rho, delta))(beta)
        np.testing.assert_allclose(float(grad), fd, rtol=1e-6)
