"""Ensemble analytics of model A against independent routes (docs/inhomogeneous.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous import (
    averaged_reservoir_populations,
    population_derivatives,
    population_derivatives_closed_form,
    small_delta_mean_work,
)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("beta_g0", [0.3, 1.0, 2.5])
def test_closed_form_derivative_matches_finite_differences(d, beta_g0):
    model = jt.InhomogeneousReservoir(d, beta=beta_g0, g0=1.0, theta=0.1)
    h = 1e-5
    q = lambda x: np.asarray(jt.thermal_populations(d, beta_g0 * (1 + x), 1.0))
    fd = (q(h) - q(-h)) / (2 * h)
    fd2 = (q(h) - 2 * q(0.0) + q(-h)) / h**2
    np.testing.assert_allclose(population_derivatives_closed_form(model), fd, atol=1e-9)
    dq, ddq = population_derivatives(model)
    np.testing.assert_allclose(dq, fd, atol=1e-9)
    np.testing.assert_allclose(ddq, fd2, atol=1e-4)


def test_qubit_derivatives_match_seed_formulas():
    bg = 1.0
    a = np.exp(-bg)
    dq, ddq = population_derivatives(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1))
    np.testing.assert_allclose(dq[0], bg * a / (1 + a) ** 2, rtol=1e-13)
    np.testing.assert_allclose(ddq[0], bg**2 * a * (a - 1) / (1 + a) ** 3, rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_averaged_state_against_monte_carlo(d):
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.1)
    dist = jt.Gaussian(0.2)
    deltas = dist.sample(jax.random.PRNGKey(0), (400_000,))
    mc = jnp.mean(jt.thermal_populations(d, 1.0, 1.0 + deltas), axis=0)
    np.testing.assert_allclose(averaged_reservoir_populations(model, dist), mc, atol=3e-4)


@pytest.mark.parametrize("d", [2, 3])
def test_small_delta_mean_work_against_exact_average(d):
    """The σ² prediction against the exact ∫G W(δ) for a small σ: agreement to O(σ⁴)."""
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.3)
    sigma = 0.01
    rho = jt.thermal_state(d, 1.0, 1.0)

    def work(deltas):
        return jax.vmap(lambda x: jt.collide(model, rho, x)[1].work)(deltas)

    exact = jt.Gaussian(sigma).expectation(work)
    predicted = small_delta_mean_work(model, sigma**2)
    assert predicted > 0
    np.testing.assert_allclose(predicted, exact, rtol=1e-3)
