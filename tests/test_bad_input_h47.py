"""Refusals that name the parameter where JAX failed with its own words (the bad-input audit's
UNCLEAR findings), and the inputs next to them that must keep working."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt


def test_partial_swap_update_takes_an_integer_state_like_every_state_function():
    q = jnp.array([0.7, 0.3])
    theta = 0.2
    got = jt.inhomogeneous.partial_swap_update(jnp.array([[1, 0], [0, 0]]), q, theta)
    # ρ' = c²ρ + s²τ for diagonal ρ (docs/inhomogeneous.md §2), written out
    c2, s2 = np.cos(theta) ** 2, np.sin(theta) ** 2
    np.testing.assert_allclose(np.asarray(got), c2 * np.diag([1.0, 0.0]) + s2 * np.diag([0.7, 0.3]), atol=1e-15)
    assert got.dtype == jnp.complex128
    f32 = jt.inhomogeneous.partial_swap_update(jnp.eye(2, dtype=jnp.float32) / 2, q.astype(jnp.float32), theta)
    assert f32.dtype == jnp.complex64


@pytest.mark.parametrize("shape", [(0, 0), (2, 3), (3,), (4, 0, 0)])
def test_inverse_condition_refuses_a_matrix_that_is_not_square_or_is_empty(shape):
    with pytest.raises(ValueError, match=r"matrix must be \(\.\.\., n, n\) with n >= 1; got shape"):
        jt.assignment.inverse_condition(jnp.ones(shape))


def test_inverse_condition_of_square_matrices_against_numpy_singular_values():
    m = np.random.default_rng(0).normal(size=(3, 4, 4))
    s = np.linalg.svd(m, compute_uv=False)
    np.testing.assert_allclose(np.asarray(jt.assignment.inverse_condition(jnp.asarray(m))), s[:, -1] / s[:, 0], 1e-12)
    assert float(jt.assignment.inverse_condition(jnp.zeros((2, 2)))) == 0.0


@pytest.mark.parametrize(
    "law", [jt.Gaussian(0.1), jt.Uniform(0.2), jt.TwoPoint(0.1), jt.Empirical(jnp.array([-0.1, 0.0, 0.2]))]
)
def test_expectation_names_f_when_it_is_not_callable(law):
    with pytest.raises(TypeError, match=r"^f must be a function of the \(n,\) nodes of δ .*; got int"):
        law.expectation(3)
    # the second moment still integrates: E[δ²] = the law's variance
    np.testing.assert_allclose(float(law.expectation(lambda x: x**2)), float(law.variance), rtol=1e-12)


def test_expectation_with_step_names_f_when_it_is_not_callable():
    with pytest.raises(TypeError, match=r"^f must be a function"):
        jt.Gaussian(0.1).expectation_with_step(3, center=-1.0, reach=0.1, n_panels=4)
