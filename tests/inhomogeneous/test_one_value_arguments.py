"""Arguments that stand for one value refuse an array (helper-106's trial): a (2,) variance in
``small_delta_mean_heat`` was broadcast against the levels and returned one number, the mean of the two laws' heats
(−5.36·10⁻⁴); a (3,) θ in ``partial_swap_update`` was applied per level and returned a state of trace 0.912. Several
values go through ``jax.vmap``, checked against the one-value calls."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.inhomogeneous as A


@pytest.mark.parametrize("fn", [A.small_delta_mean_heat, A.small_delta_mean_energy_change])
@pytest.mark.parametrize("d", [2, 3])
def test_small_delta_means_take_one_variance(fn, d):
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3)
    rho = np.diag(np.linspace(2.0, 1.0, d) / np.linspace(2.0, 1.0, d).sum()).astype(complex)
    with pytest.raises(ValueError, match=r"variance: one σ² \(a scalar\); got shape \(2,\)"):
        fn(model, rho, jnp.array([0.01, 0.04]))
    batched = jax.vmap(lambda v: fn(model, rho, v))(jnp.array([0.01, 0.04]))
    np.testing.assert_allclose(batched, [fn(model, rho, 0.01), fn(model, rho, 0.04)], rtol=1e-14)
    assert batched[0] != batched[1]  # σ² enters: two laws, two numbers


def test_partial_swap_update_takes_one_angle():
    q = jnp.array([0.5, 0.3, 0.2])
    rho = jnp.eye(3, dtype=complex) / 3
    with pytest.raises(ValueError, match=r"theta: one angle \(a scalar\); got shape \(3,\)"):
        A.partial_swap_update(rho, q, jnp.array([0.1, 0.5, 0.9]))
    thetas = jnp.array([0.1, 0.5, 0.9])
    batched = jax.vmap(lambda t: A.partial_swap_update(rho, q, t))(thetas)
    for t, out in zip(thetas, batched, strict=True):
        np.testing.assert_allclose(out, A.partial_swap_update(rho, q, t), rtol=1e-14, atol=1e-16)
        # independent route: ρ' = cos²θ ρ + sin²θ τ for commuting ρ, τ
        expected = np.cos(t) ** 2 * np.asarray(rho) + np.sin(t) ** 2 * np.diag(np.asarray(q))
        np.testing.assert_allclose(out, expected, atol=1e-15)
        assert abs(np.trace(out) - 1) < 1e-15
