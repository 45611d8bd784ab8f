"""D_{±∞} where ratios tie for the largest (p = q = τ_S: all d tie; docs/information.md §2, docs/ensemble.md §5):
the derivative is the slope ±(E_j − Tr τ_S H_S) of one tied level j, taken from one entry, between the right and the
left difference quotients (jnp.max had split the tangent evenly over the exact ties: 0.078 for slopes −0.472, 0.628,
1.728, which is no level's)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._divergences import _maximum

D, BETA, G0 = 3, 0.9, 1.1


def _tied_slopes(sign):
    """±(E_j − Tr τ_S H_S): the slope in β of ±log(p_j/τ_j(β)) at p = τ_S(β), level by level (NumPy)."""
    e = G0 * (np.arange(D) - (D - 1) / 2)
    w = np.exp(-BETA * e)
    return sign * (e - np.sum(w * e) / np.sum(w))


@pytest.mark.parametrize("alpha, sign", [(np.inf, 1.0), (-np.inf, -1.0)])
def test_reference_divergence_takes_one_tied_slope(alpha, sign):
    p = jt.thermal_populations(D, BETA, G0)
    f = lambda b: jt.renyi_divergence(p, jt.thermal_populations(D, b, G0), alpha)
    slopes = _tied_slopes(sign)
    h = 1e-7
    right, left = (float(f(BETA + h)) - float(f(BETA))) / h, (float(f(BETA)) - float(f(BETA - h))) / h
    np.testing.assert_allclose(sorted([right, left]), [slopes.min(), slopes.max()], atol=1e-6)
    for grad in (jax.grad(f), jax.jit(jax.grad(f)), lambda b: jax.jvp(f, (b,), (jnp.ones_like(b),))[1]):
        g = float(grad(jnp.asarray(BETA)))
        assert np.min(np.abs(slopes - g)) < 1e-12, (g, slopes)
        assert min(right, left) - 1e-6 <= g <= max(right, left) + 1e-6


def test_ensemble_diagonal_route_takes_one_tied_slope():
    tau = np.asarray(jt.thermal_state(D, BETA, G0)).astype(complex)
    model = jt.InhomogeneousReservoir(D, beta=BETA, g0=G0, theta=0.3, distribution=jt.Gaussian(0.1))
    res = jt.ensemble(model, tau, 2, 16, seed=0, alphas=(np.inf, -np.inf), wrt=("beta",), coherent=False, chunk_size=16)
    first = np.asarray(res.sensitivity["beta"].mean_divergence)[0]
    for g, sign in zip(first, (1.0, -1.0)):
        assert np.min(np.abs(_tied_slopes(sign) - g)) < 1e-10, (g, _tied_slopes(sign))


def test_running_maximum_keeps_the_first_tied_tangent_and_propagates_nan():
    xs = [jnp.asarray(1.0), jnp.asarray(1.0), jnp.asarray(0.5)]
    grads = jax.grad(lambda v: _maximum([v[0], v[1], v[2]]))(jnp.stack(xs))
    np.testing.assert_array_equal(np.asarray(grads), [1.0, 0.0, 0.0])
    assert np.isnan(float(_maximum([jnp.asarray(1.0), jnp.asarray(np.nan), jnp.asarray(0.5)])))
