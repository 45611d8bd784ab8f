"""A model with the exact unitary built inside a jitted function (helper-89): its check of the matrix
exponential's range computed expm of a constant, which ``jax.jit`` staged, so every jitted loss or optax step
with ``ExactUnitary`` failed with TracerArrayConversionError (eager grad worked)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

RHO = jnp.diag(jnp.array([0.2, 0.8]))


def _loss(sigma):
    m = jt.InhomogeneousReservoir(
        2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(sigma), coupling=jt.ExactUnitary(2.0)
    )
    return jt.mean_work(m, RHO)


def test_jitted_gradient_with_the_exact_unitary_equals_eager_and_finite_differences():
    eager = float(jax.grad(_loss)(0.1))
    assert float(jax.jit(jax.grad(_loss))(0.1)) == pytest.approx(eager, rel=1e-12)
    h = 1e-5
    np.testing.assert_allclose(eager, (float(_loss(0.1 + h)) - float(_loss(0.1 - h))) / (2 * h), rtol=1e-7)


def test_an_exponent_beyond_expm_is_still_refused_under_jit():
    build = jax.jit(lambda x: jt.InhomogeneousReservoir(2, 1.0, 1.0, 1e6, coupling=jt.ExactUnitary(1e-9)).theta * x)
    with pytest.raises(ValueError, match="exponent of the exact unitary"):
        build(1.0)
