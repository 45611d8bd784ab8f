"""Gradients through the Petz branch (α < 1) of the quantum free energy under ``vmap`` inside ``grad``.

Before: ``jax.grad`` of ``ensemble_mean(..., observable="free_energy", alpha=0.5)`` of a coherent ρ0
raised ``UnexpectedTracerError`` (α = 0, 0.5, 0.9; α ≥ 1 worked): the matrix power's ``custom_jvp``
closed over the traced cut-offs of the spectrum. Checked against central finite differences of the
same seeded ensemble.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

RHO = jnp.array([[0.7, 0.2j], [-0.2j, 0.3]])


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_free_energy_gradient_below_one(alpha):
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))

    def mean(theta, beta):
        m = model.replace(theta=theta, beta=beta)
        return jt.ensemble_mean(m, RHO, 3, 16, observable="free_energy", alpha=alpha)

    g = jax.grad(mean, argnums=(0, 1))(0.3, 1.0)
    h = 1e-5
    fd = ((mean(0.3 + h, 1.0) - mean(0.3 - h, 1.0)) / (2 * h), (mean(0.3, 1.0 + h) - mean(0.3, 1.0 - h)) / (2 * h))
    np.testing.assert_allclose(np.asarray(g), np.asarray(fd), rtol=1e-6, atol=1e-9)


def test_petz_divergence_gradient_under_vmap():
    """d/dt of D̄_½(ρ(t)‖σ) for a batch of t, against finite differences."""
    sigma = jnp.array([[0.6, 0.1], [0.1, 0.4]])

    def d_half(t):
        rho = jnp.array([[0.5 + t, 0.2 * t], [0.2 * t, 0.5 - t]], dtype=complex)
        return jt.petz_renyi_divergence(rho, sigma, 0.5)

    ts = jnp.array([0.05, 0.1, 0.2])
    g = jax.vmap(jax.grad(d_half))(ts)
    fd = [(d_half(t + 1e-6) - d_half(t - 1e-6)) / 2e-6 for t in np.asarray(ts)]
    np.testing.assert_allclose(np.asarray(g), np.asarray(fd), rtol=1e-6)
