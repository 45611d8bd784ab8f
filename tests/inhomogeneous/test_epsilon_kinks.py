"""The ε bound E_G[D(τ_S, τ(δ))] of the approximate second laws for d ≥ 3, where middle populations
are not monotonic in δ and |q_j(δ) − q_j(0)| has kinks besides δ = 0 (docs/inhomogeneous.md §8).

Independent route: SciPy's adaptive quadrature split at the kinks found by SciPy's ``brentq`` on
q_j(δ) − q_j(0) (bracketed from a fine scan), at δ = 0 and at the turn δ = −1."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize

import jaxthermo as jt
from jaxthermo.inhomogeneous._analytics import population_returns


def _populations(d, beta_g0, delta):
    """q_j(δ) of τ(δ) for a scalar or an array of δ (..., d), as a stabilised softmax."""
    m = np.arange(d) - (d - 1) / 2
    z = -beta_g0 * (1 + np.asarray(delta, float))[..., None] * m
    w = np.exp(z - z.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def _scipy_returns(d, beta_g0, lo=-60.0, hi=60.0):
    """Every δ ≠ 0 in [lo, hi] with q_j(δ) = q_j(0) for some j, by brentq on sign changes of a scan."""
    q0 = _populations(d, beta_g0, 0.0)
    grid = np.linspace(lo, hi, 240001) + 1e-4 * np.pi  # no grid point on a root
    values = _populations(d, beta_g0, grid) - q0
    roots = []
    for j in range(d):
        g = values[:, j]
        for k in np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)[0]:
            r = optimize.brentq(lambda x: _populations(d, beta_g0, x)[j] - q0[j], grid[k], grid[k + 1], xtol=1e-15)
            if abs(r) > 1e-6:
                roots.append(r)
    return np.sort(roots)


def _scipy_bound(d, beta_g0, sigma, law="gaussian"):
    q0 = _populations(d, beta_g0, 0.0)
    if law == "gaussian":
        pdf = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
        lo, hi = -12 * sigma, 12 * sigma
    else:  # uniform of width sigma
        pdf = lambda x: 1.0 / sigma
        lo, hi = -sigma / 2, sigma / 2
    cuts = [c for c in (*_scipy_returns(d, beta_g0), -1.0, 0.0) if lo < c < hi]
    ends = sorted({lo, hi, *cuts})
    f = lambda x: pdf(x) * 0.5 * np.abs(_populations(d, beta_g0, x) - q0).sum()
    return sum(integrate.quad(f, a, b, limit=2000, epsabs=1e-18, epsrel=1e-14)[0] for a, b in zip(ends, ends[1:]))


pytestmark = pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # SciPy's own tolerance note


def _bound(d, beta_g0, distribution, **kw):
    model = jt.InhomogeneousReservoir(d, beta=beta_g0, g0=1.0, theta=0.1, distribution=distribution, **kw)
    return jt.inhomogeneous.approximate_second_law_epsilon(model).upper_bound


@pytest.mark.parametrize(("d", "beta_g0"), [(3, 5.0), (4, 5.0), (5, 2.0), (4, -3.0)])
@pytest.mark.filterwarnings("ignore:beta=-3.0:UserWarning")  # a negative temperature: legal, warned
def test_returns_are_the_roots_scipy_finds(d, beta_g0):
    """One return per middle level (d − 2 of them), and no other root of any q_j(δ) = q_j(0)."""
    ours = np.sort(np.asarray(population_returns(jt.InhomogeneousReservoir(d, beta=beta_g0, g0=1.0, theta=0.1))))
    np.testing.assert_allclose(ours, _scipy_returns(d, beta_g0), atol=1e-11)


@pytest.mark.parametrize(("d", "beta_g0", "sigma"), [(3, 5.0, 1.0), (3, 10.0, 1.0), (4, 5.0, 1.0), (5, 2.0, 0.8)])
def test_bound_for_middle_levels_within_1e_14_of_adaptive_quadrature(d, beta_g0, sigma):
    """Split only at δ = 0 the rule was 8·10⁻⁹ (d = 3) and 1.3·10⁻⁷ (d = 4) off at βg0 = 5, σ = 1."""
    got = float(_bound(d, beta_g0, jt.Gaussian(sigma)))
    assert abs(got - _scipy_bound(d, beta_g0, sigma)) < 1e-14


def test_uniform_law_and_the_temperature_kind():
    """A uniform law reaching past δ = −2 (d = 3), and the temperature kind (same τ(δ), same bound)."""
    ref = _scipy_bound(3, 5.0, 5.0, law="uniform")
    assert abs(float(_bound(3, 5.0, jt.Uniform(5.0))) - ref) < 1e-14
    with pytest.warns(UserWarning):  # the temperature kind warns when δ < −1 is reachable
        temperature = float(_bound(3, 5.0, jt.Uniform(5.0), kind="temperature"))
    assert abs(temperature - ref) < 1e-14


def test_gradient_jit_and_precision():
    """∂/∂σ and ∂/∂β against central differences (the split points carry no derivative: the integrand
    vanishes there); jit gives the same value; a float32 model stays float32."""

    def bound(sigma, beta):
        return _bound(4, beta, jt.Gaussian(sigma))

    g_sigma, g_beta = jax.grad(bound, argnums=(0, 1))(1.0, 5.0)
    h = 1e-5
    np.testing.assert_allclose(g_sigma, (bound(1.0 + h, 5.0) - bound(1.0 - h, 5.0)) / (2 * h), rtol=1e-7)
    np.testing.assert_allclose(g_beta, (bound(1.0, 5.0 + h) - bound(1.0, 5.0 - h)) / (2 * h), rtol=1e-7)
    assert float(jax.jit(bound)(1.0, 5.0)) == pytest.approx(float(bound(1.0, 5.0)), abs=1e-15)
    b32 = _bound(3, jnp.float32(5.0), jt.Gaussian(jnp.float32(1.0)))
    assert b32.dtype == jnp.float32
    assert abs(float(b32) - _scipy_bound(3, 5.0, 1.0)) < 1e-6
