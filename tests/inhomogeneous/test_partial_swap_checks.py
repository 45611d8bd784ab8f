"""``partial_swap_update`` (public) checks its concrete inputs and equals the full collision it stands for."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxthermo.inhomogeneous import partial_swap_update


def _full_partial_swap(rho, q, theta):
    """Tr_R[U (ρ ⊗ diag q) U†] with U = cos θ I + i sin θ S (docs/conventions.md), S the swap, in NumPy."""
    d = len(q)
    swap = np.zeros((d * d, d * d))
    for i in range(d):
        for j in range(d):
            swap[i * d + j, j * d + i] = 1.0
    u = np.cos(theta) * np.eye(d * d) + 1j * np.sin(theta) * swap
    joint = u @ np.kron(rho, np.diag(q)) @ u.conj().T
    return np.einsum("iaja->ij", joint.reshape(d, d, d, d))


@pytest.mark.parametrize("d", [2, 3])
def test_equals_full_density_matrix(d):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    q = rng.uniform(0.1, 1.0, d)
    q /= q.sum()
    out = partial_swap_update(jnp.asarray(rho), jnp.asarray(q), 0.37)
    np.testing.assert_allclose(np.asarray(out), _full_partial_swap(rho, q, 0.37), atol=1e-14)


GOOD_RHO = np.array([[0.6, 0.1j], [-0.1j, 0.4]])
GOOD_Q = np.array([0.8, 0.2])


@pytest.mark.parametrize(
    "rho, q, theta, match",
    [
        (np.array([[0.5, 0.7], [0.7, 0.5]]), GOOD_Q, 0.3, "rho is not positive"),  # eigenvalue −0.2
        (np.diag([0.7, 0.5]), GOOD_Q, 0.3, "rho must have unit trace"),
        (np.array([[0.6, 0.3], [0.1, 0.4]]), GOOD_Q, 0.3, "rho"),  # not Hermitian
        (GOOD_RHO, np.array([0.7, 0.2, 0.1]), 0.3, "rho has dimension 2"),
        (GOOD_RHO, np.array([0.9, 0.2]), 0.3, "q must sum to one"),
        (GOOD_RHO, np.array([1.2, -0.2]), 0.3, "q must be non-negative"),
        (GOOD_RHO, GOOD_Q, float("nan"), "theta must be finite"),
        (GOOD_RHO, GOOD_Q, float("inf"), "theta must be finite"),
    ],
)
def test_bad_input_refused(rho, q, theta, match):
    with pytest.raises(ValueError, match=match):
        partial_swap_update(jnp.asarray(rho), jnp.asarray(q), theta)


def test_string_theta_refused():
    with pytest.raises(TypeError, match="theta"):
        partial_swap_update(jnp.asarray(GOOD_RHO), jnp.asarray(GOOD_Q), "0.3")
