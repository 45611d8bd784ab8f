"""Distributions G(δ): sampling, quadrature/exact sums, densities and reparameterised gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxthermo as jt

N_SE = 5.0  # Monte-Carlo tolerance in standard errors

SMOOTH = [jt.Gaussian(0.3), jt.Uniform(0.8)]
ALL = SMOOTH + [jt.TwoPoint(0.25), jt.Empirical(jnp.array([-0.3, 0.1, 0.2, 0.05]))]


@pytest.mark.parametrize("dist", ALL, ids=lambda d: type(d).__name__)
def test_sampled_moments_match_expectation(dist):
    x = np.asarray(dist.sample(jax.random.PRNGKey(1), (200_000,)))
    for f in (lambda t: t, lambda t: t**2, lambda t: np.cos(3 * t)):
        exact = float(dist.expectation(lambda t: f(t)))
        se = np.std(f(x)) / np.sqrt(x.size) + 1e-15
        assert abs(np.mean(f(x)) - exact) < N_SE * se + 1e-12
    np.testing.assert_allclose(dist.expectation(lambda t: t**2), dist.variance, rtol=1e-12)


def test_quadrature_matches_closed_form_moments():
    s, w = 0.3, 0.8
    np.testing.assert_allclose(jt.Gaussian(s).expectation(lambda t: t**4), 3 * s**4, rtol=1e-12)
    np.testing.assert_allclose(jt.Gaussian(s).expectation(lambda t: jnp.cos(t)), np.exp(-(s**2) / 2), rtol=1e-12)
    np.testing.assert_allclose(jt.Uniform(w).expectation(lambda t: t**4), w**4 / 80, rtol=1e-12)
    np.testing.assert_allclose(jt.TwoPoint(0.25).expectation(lambda t: jnp.exp(t)), np.cosh(0.25), rtol=1e-14)
    emp = jnp.array([-0.3, 0.1, 0.2])
    np.testing.assert_allclose(jt.Empirical(emp).expectation(lambda t: t**3), np.mean(np.asarray(emp) ** 3), rtol=1e-14)


def test_expectation_of_pytrees():
    out = jt.Gaussian(0.2).expectation(lambda t: (t**2, {"c": jnp.stack([t, t**4], -1)}))
    np.testing.assert_allclose(out[0], 0.04, rtol=1e-12)
    np.testing.assert_allclose(out[1]["c"], [0.0, 3 * 0.2**4], atol=1e-15)


@pytest.mark.parametrize("dist", SMOOTH, ids=lambda d: type(d).__name__)
def test_pdf_integrates_to_one_and_matches_histogram(dist):
    half = 6 * 0.3 if isinstance(dist, jt.Gaussian) else 0.4
    total, _ = integrate.quad(lambda t: float(dist.pdf(t)), -half, half, points=[-0.4, 0.4] if half == 0.4 else None)
    np.testing.assert_allclose(total, 1.0, atol=1e-8)
    x = np.asarray(dist.sample(jax.random.PRNGKey(2), (100_000,)))
    counts, edges = np.histogram(x, bins=20, range=(-half * 0.9, half * 0.9))
    prob = np.array([integrate.quad(lambda t: float(dist.pdf(t)), a, b)[0] for a, b in zip(edges[:-1], edges[1:])])
    se = np.sqrt(x.size * prob * (1 - prob)) + 1.0
    assert np.all(np.abs(counts - x.size * prob) < N_SE * se)


def test_gradients_flow_to_sigma_and_width():
    """Reparameterised sampling: d/dσ of a Monte-Carlo mean equals d/dσ of the quadrature."""
    key = jax.random.PRNGKey(3)
    f = lambda t: jnp.exp(-1.0 * (1 + t)) / (1 + jnp.exp(-1.0 * (1 + t)))
    for make, value in ((jt.Gaussian, 0.2), (jt.Uniform, 0.6)):
        mc = jax.grad(lambda s: jnp.mean(f(make(s).sample(key, (400_000,)))))(value)
        quad = jax.grad(lambda s: make(s).expectation(f))(value)
        fd = (make(value + 1e-5).expectation(f) - make(value - 1e-5).expectation(f)) / 2e-5
        np.testing.assert_allclose(quad, fd, rtol=1e-6)
        # per-sample gradient spread gives the MC standard error of the gradient estimate
        eps = make(1.0).sample(key, (400_000,))
        per = jax.vmap(jax.grad(lambda s, e: f(s * e)))(jnp.full_like(eps, value), eps)
        assert abs(mc - quad) < N_SE * float(jnp.std(per)) / np.sqrt(eps.size)
    g = jax.grad(lambda d: jt.TwoPoint(d).expectation(f))(0.1)
    np.testing.assert_allclose(g, 0.5 * (jax.grad(f)(0.1) - jax.grad(f)(-0.1)), rtol=1e-12)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="sigma"):
        jt.Gaussian(-0.1)
    with pytest.raises(ValueError, match="width"):
        jt.Uniform(float("nan"))
    with pytest.raises(ValueError, match="samples"):
        jt.Empirical(jnp.zeros((2, 2)))
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="distribution"):
        jt.averaged_reservoir_state(model)
    with pytest.raises(ValueError, match="no density"):
        jt.work_density(model.replace(distribution=jt.TwoPoint(0.1)), jnp.eye(2) / 2, 0.0)


def test_kinked_integrands_split_at_zero():
    np.testing.assert_allclose(
        jt.Gaussian(0.3).expectation(jnp.abs, kink_at_zero=True), 0.3 * np.sqrt(2 / np.pi), rtol=1e-13
    )
    np.testing.assert_allclose(jt.Uniform(0.8).expectation(jnp.abs, kink_at_zero=True), 0.2, rtol=1e-13)
    np.testing.assert_allclose(jt.TwoPoint(0.3).expectation(jnp.abs, kink_at_zero=True), 0.3, rtol=1e-14)
