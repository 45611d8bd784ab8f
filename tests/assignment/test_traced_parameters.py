"""Model C with traced physical parameters outside ``jit`` (docs/assignment.md §1): derivatives with
respect to a drive amplitude against central finite differences."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxthermo import GlobalModel, energy_assignment

SM = jnp.array([[0.0, 1.0], [0.0, 0.0]])
N = jnp.diag(jnp.array([0.0, 1.0]))
SX = jnp.array([[0.0, 1.0], [1.0, 0.0]])
H_I = 0.4 * (jnp.kron(SM.T, SM) + jnp.kron(SM, SM.T)) + 0.12 * jnp.kron(N, jnp.eye(2))
RHO0 = jnp.kron(jnp.array([[0.3, 0.1], [0.1, 0.7]]), jnp.diag(jnp.array([0.8, 0.2]))).astype(complex)
TIMES = jnp.linspace(0.0, 2.0, 3)


def _driven(amplitude):
    """W̃_S, Q̃_X and the bare work of H_S(t) = n + a sin(2t) σ_x (the drive closes over a)."""
    model = GlobalModel(N, H_I, 1.3 * N, drive=lambda t: amplitude * jnp.sin(2.0 * t) * SX)
    out = energy_assignment(model, RHO0, TIMES, substeps=4)
    return jnp.concatenate([out.works[0], out.heats.ravel(), out.bare.work])


def test_derivative_with_respect_to_a_traced_drive_amplitude():
    """jax.grad/jacfwd through a drive whose amplitude is a tracer (was TracerArrayConversionError: the
    Hermiticity check of V(t) converted the traced values to NumPy)."""
    a = 0.3
    jac = np.asarray(jax.jacfwd(_driven)(a))  # outside jit: each closure is a new static drive
    value = jax.jit(_driven)  # one compilation for both difference points
    h = 1e-6
    fd = (np.asarray(value(a + h)) - np.asarray(value(a - h))) / (2 * h)
    assert np.max(np.abs(fd)) > 1e-2
    np.testing.assert_allclose(jac, fd, rtol=1e-7, atol=1e-9)
