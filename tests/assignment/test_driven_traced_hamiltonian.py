"""A driven GlobalModel differentiated or vmapped over an entry of its Hamiltonians (helper-89): the RK4 step
check read ``np.asarray(model.hamiltonian())`` of a traced H and failed (TracerArrayConversionError) in eager
``jax.grad`` and ``jax.vmap``; under ``jax.jit`` the same gradient was right."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxthermo as jt

SX = jnp.array([[0, 1], [1, 0]], complex)
SZ = jnp.diag(jnp.array([1.0, -1.0])).astype(complex)
RHO0 = jnp.kron(jnp.diag(jnp.array([0.7, 0.3])), jt.thermal_state(2, 1.0, 1.0)).astype(complex)
TIMES = jnp.linspace(0.0, 3.0, 31)


def _heat(w):
    m = jt.GlobalModel(
        0.5 * w * SZ, 0.3 * jnp.kron(SX, SX), 0.6 * SZ, drive=lambda t, p: p * jnp.sin(2 * t) * SX, drive_params=0.2
    )
    return jt.energy_assignment(m, RHO0, TIMES, substeps=32).bare.heat[-1]


def test_eager_grad_and_vmap_over_a_hamiltonian_entry_of_a_driven_model():
    h = 1e-5
    fd = (float(_heat(1.0 + h)) - float(_heat(1.0 - h))) / (2 * h)
    grad = float(jax.grad(_heat)(1.0))
    np.testing.assert_allclose(grad, fd, rtol=1e-8)
    np.testing.assert_allclose(grad, float(jax.jit(jax.grad(_heat))(1.0)), rtol=1e-12)
    batch = jax.vmap(_heat)(jnp.array([1.0, 1.1]))
    np.testing.assert_allclose(np.asarray(batch), [float(_heat(1.0)), float(_heat(1.1))], rtol=1e-12)
