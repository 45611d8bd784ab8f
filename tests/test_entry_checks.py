"""Entry points that computed or crashed on input they cannot take: a model B or C given to the ensemble
functions (jt.sweep and frozen_ensemble_mean failed with an AttributeError, ensemble_mean asked for a
``model.distribution`` model B does not have), and a NaN Rényi order (D_α = NaN without a word)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import ensemble_mean

RHO = jnp.eye(2) / 2


@pytest.mark.parametrize(
    "call",
    [
        lambda m: jt.ensemble(m, RHO, 5, 10),
        lambda m: jt.sweep(m, RHO, 5, 10, grid={"theta": [0.1, 0.2]}),
        lambda m: ensemble_mean(m, RHO, 5, 10, lambda *a: 0.0),
        lambda m: jt.frozen_ensemble_mean(m, RHO, jax.random.key(0), 10, 5, lambda t: 0.0),
    ],
    ids=["ensemble", "sweep", "ensemble_mean", "frozen_ensemble_mean"],
)
def test_ensemble_functions_refuse_other_models(call):
    with pytest.raises(TypeError, match="model: .* runs model A, a jt.InhomogeneousReservoir"):
        call(jt.qubit_example())


def test_frozen_mean_still_takes_the_law_as_an_argument():
    """frozen_ensemble_mean needs model A but not model.distribution (``distribution=`` overrides): the same
    mean either way."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)
    key = jax.random.key(1)

    def obs(trajectory):
        return jnp.real(trajectory.states[-1, 0, 0])

    a = jt.frozen_ensemble_mean(model, RHO, key, 64, 4, obs, distribution=jt.Gaussian(0.1)).mean
    b = jt.frozen_ensemble_mean(model.replace(distribution=jt.Gaussian(0.1)), RHO, key, 64, 4, obs).mean
    np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: jt.renyi_divergence(jnp.array([0.5, 0.5]), jnp.array([0.6, 0.4]), a),
        lambda a: jt.renyi_divergence(jnp.array([0.5, 0.5]), jnp.array([0.6, 0.4]), jnp.array([2.0, a])),
        lambda a: jt.free_energy(jnp.array([0.5, 0.5]), 1.0, 1.0, a),
        lambda a: jt.divergences_to_thermal(jnp.diag(jnp.array([0.5, 0.5])), 1.0, 1.0, (1.0, a)),
    ],
)
def test_nan_order_is_refused(call):
    with pytest.raises(ValueError, match="alphas?=.*not NaN"):
        call(float("nan"))


def test_orders_still_traced_and_infinite():
    """The check leaves traced α (jit, grad) and ±∞ alone: dD_2/dα by jax.grad against central differences."""
    p, q = jnp.array([0.5, 0.5]), jnp.array([0.6, 0.4])

    def f(a):
        return jt.renyi_divergence(p, q, a)

    h = 1e-5
    assert float(jax.grad(f)(2.0)) == pytest.approx(float(f(2.0 + h) - f(2.0 - h)) / (2 * h), rel=1e-7)
    assert float(jax.jit(f)(2.0)) == pytest.approx(float(f(2.0)), rel=1e-15)
    both = f(jnp.array([np.inf, -np.inf]))
    np.testing.assert_allclose(both, [np.log(0.5 / 0.4), np.log(0.6 / 0.5)], rtol=1e-14)


LIST_STATE = [[0.5, 0.0], [0.0, 0.5]]


@pytest.mark.parametrize(
    "call",
    [
        lambda: jt.trajectory(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2), LIST_STATE, [0.1, 0.2]),
        lambda: jt.collide(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2), LIST_STATE, 0.1),
        lambda: jt.entropy_production(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2), LIST_STATE, 0.1),
        lambda: jt.stroboscopic_trajectory(jt.qubit_example(), LIST_STATE, 3),
        lambda: jt.energy_coherence([[0.5, 0.1], [0.1, 0.5]], [[1.0, 0.0], [0.0, -1.0]]),
    ],
    ids=["trajectory", "collide", "entropy_production", "stroboscopic_trajectory", "energy_coherence"],
)
def test_nested_lists_are_taken_without_jax_deprecation_warnings(call):
    """States, δ's and Hamiltonians as nested Python lists: the input checks called jnp.shape/jnp.ndim on the list,
    which JAX deprecates ("shape requires ndarray or scalar arguments ... a future JAX release" will make it an
    error), hidden under the default warning filters. As an error here, the calls still compute."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        out = call()
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree_util.tree_leaves(out))
