"""Model-A API contract: public names, gradients (docs/ensemble.md), float32, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

N_SE = 5.0


def _model(d=2, theta=0.3, sigma=0.1, **kw):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, distribution=jt.Gaussian(sigma), **kw)


def test_fixed_public_names():
    for name in (
        "Gaussian",
        "Uniform",
        "TwoPoint",
        "Empirical",
        "InhomogeneousReservoir",
        "averaged_reservoir_state",
        "mean_work",
        "work_density",
        "entropy_production",
    ):
        assert hasattr(jt, name), name
    model = _model()
    assert jt.averaged_reservoir_state(model).shape == (2, 2)
    assert jnp.ndim(jt.mean_work(model, jnp.eye(2) / 2)) == 0
    assert jt.work_density(model, jnp.eye(2) / 2, jnp.zeros(5)).shape == (5,)
    assert jnp.ndim(jt.entropy_production(model, jnp.eye(2) / 2, 0.1)) == 0


def test_free_energy_changes_along_a_trajectory():
    model = _model(3)
    rho0 = jnp.diag(jnp.array([0.2, 0.3, 0.5]))
    deltas = jnp.array([0.1, -0.2, 0.05, 0.3])
    traj = jt.trajectory(model, rho0, deltas)
    alphas = [-1.0, 0.0, 1.0, 2.0, jnp.inf]
    changes = jt.free_energy_changes(model, traj.states, alphas)
    assert changes.shape == (4, 5)
    for r, delta in enumerate(deltas):
        one = jt.collision_second_laws(model, traj.states[r], delta, alphas)
        np.testing.assert_allclose(changes[r], one.free_energy_change, atol=1e-14)
        np.testing.assert_allclose(traj.work[r], one.work, atol=1e-16)


def test_gradient_of_frozen_monte_carlo_flows_to_sigma():
    """d/dσ of the MC accumulated work (reparameterised δ = σ ε) vs d/dσ of the exact quadrature."""
    rho0 = jnp.diag(jnp.array([0.3, 0.7]))
    key = jax.random.PRNGKey(5)

    def mc(sigma):
        return jt.frozen_ensemble_mean(
            _model(sigma=sigma), rho0, key, 20_000, 5, lambda t: jnp.sum(t.work), chunk_size=20_000
        ).mean

    exact = jax.grad(lambda s: jt.accumulated_mean_work(_model(sigma=s), rho0, 5))(0.1)
    g = jax.grad(mc)(0.1)

    # per-configuration gradient spread → standard error of the MC gradient
    def per_config(sigma, i):
        deltas = jt.Gaussian(sigma).sample(jax.random.fold_in(key, i), (5,))
        return jnp.sum(jt.trajectory(_model(sigma=sigma), rho0, deltas).work)

    per = jax.vmap(jax.grad(per_config), in_axes=(None, 0))(0.1, jnp.arange(20_000))
    assert abs(g - exact) < N_SE * float(jnp.std(per)) / np.sqrt(20_000)
    np.testing.assert_allclose(g, jnp.mean(per), rtol=1e-10)


def test_gradients_of_densities_and_entropy_production_match_finite_differences():
    model = _model(theta=0.4)
    rho = jnp.diag(jnp.array([0.6, 0.4]))
    f = lambda s: jt.work_density(model.replace(distribution=jt.Gaussian(s)), rho, 0.003)
    np.testing.assert_allclose(jax.grad(f)(0.02), (f(0.02 + 1e-7) - f(0.02 - 1e-7)) / 2e-7, rtol=1e-5)
    h = lambda x: jt.entropy_production(model, rho, x)
    np.testing.assert_allclose(jax.grad(h)(0.2), (h(0.2 + 1e-6) - h(0.2 - 1e-6)) / 2e-6, rtol=1e-5)
    e = lambda th: jt.approximate_second_law_epsilon(model.replace(distribution=jt.Gaussian(th))).epsilon
    np.testing.assert_allclose(jax.grad(e)(0.1), (e(0.1 + 1e-6) - e(0.1 - 1e-6)) / 2e-6, rtol=1e-5)


def test_float32_is_kept():
    model = _model()
    rho = jnp.diag(jnp.array([0.6, 0.4], jnp.float32))
    avg = jt.averaged_trajectory(model, rho, 5)
    assert avg.states.dtype == jnp.complex64 and avg.work.dtype == jnp.float32
    mc = jt.frozen_ensemble_mean(model, rho, jax.random.PRNGKey(0), 100, 5, lambda t: t.work)
    assert mc.mean.dtype == jnp.float32
    _, e = jt.single_collision_samples(model, rho, jax.random.PRNGKey(0), 100)
    assert e.work.dtype == jnp.float32
    np.testing.assert_allclose(
        avg.work, jt.averaged_trajectory(model, jnp.diag(jnp.array([0.6, 0.4])), 5).work, rtol=1e-4
    )


def test_bad_input_raises_named_errors():
    model = _model()
    rho = jnp.eye(2) / 2
    with pytest.raises(ValueError, match="n_steps"):
        jt.averaged_trajectory(model, rho, 0)
    with pytest.raises(ValueError, match="theta"):
        jt.averaged_trajectory(model.replace(theta=jnp.zeros(3)), rho, 5)
    with pytest.raises(ValueError, match="n_configs"):
        jt.frozen_ensemble_mean(model, rho, jax.random.PRNGKey(0), 0, 5, lambda t: t.work)
    with pytest.raises(ValueError, match="c="):
        jt.collision_number_scaling(model, rho, [1, 10], c=2.0)
    with pytest.raises(ValueError, match="n_values"):
        jt.collision_number_scaling(model, rho, [0, 10], c=0.5)
    with pytest.raises(ValueError, match="rho"):
        jt.mean_work(model, jnp.eye(2))
    with pytest.raises(ValueError, match="theta"):
        jt.mean_work(model.replace(theta=jnp.zeros(3)), rho)
    with pytest.raises(ValueError, match="beta, g0"):
        jt.work_density(jt.InhomogeneousReservoir(2, 0.0, 1.0, 0.1, distribution=jt.Gaussian(0.1)), rho, 0.0)
    with pytest.raises(ValueError, match="delta"):
        jt.entropy_production(model, rho, float("nan"))
