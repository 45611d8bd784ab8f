"""One model-A ensemble route: the differentiable frozen-configuration mean is built from the
engine's sampler and model A's single-configuration trajectory, and agrees with the engine."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import EnsembleMean, Histogram, frozen_ensemble_mean, sample_configurations
from jaxthermo.ensemble._sampling import sample_chunk


def _model(**kw):
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1), **kw)


def _rho():
    return jnp.array([[0.7, 0.1 - 0.05j], [0.1 + 0.05j, 0.3]])


def _one_by_one(model, rho0, key, n_configs, n_steps, observable):
    """An independent route: a Python loop over configurations (fold_in(key, i), draw, trajectory)
    and NumPy's mean and standard deviation."""
    values = []
    for i in range(n_configs):
        deltas = model.distribution.sample(jax.random.fold_in(key, i), (n_steps,), jnp.float64)
        values.append(observable(jt.trajectory(model, rho0, deltas)))
    values = np.stack(values)
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n_configs)


def test_same_numbers_as_a_loop_over_configurations():
    model, rho0, key = _model(), _rho(), jax.random.PRNGKey(7)
    res = frozen_ensemble_mean(model, rho0, key, 40, 6, lambda t: t.work, chunk_size=16)
    assert isinstance(res, EnsembleMean) and res.n_configs == 40
    mean, se = _one_by_one(model, rho0, key, 40, 6, lambda t: np.asarray(t.work))
    np.testing.assert_allclose(res.mean, mean, rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(res.stderr, se, rtol=1e-8)
    assert jt.frozen_ensemble_mean is frozen_ensemble_mean


@pytest.mark.parametrize("coupling", [jt.PartialSwap(), jt.ExactUnitary(20.0)])
def test_same_configurations_as_the_engine(coupling):
    model, rho0 = _model(coupling=coupling), _rho()
    res = jt.ensemble(model, rho0, 5, 300, seed=11, alphas=(1.0,), chunk_size=128)
    obs = lambda t: (t.work, jnp.cumsum(t.work)[-1], jnp.real(t.states[1:, 0, 0]))
    frozen = frozen_ensemble_mean(model, rho0, jax.random.key(11), 300, 5, obs, chunk_size=100)
    np.testing.assert_allclose(frozen.mean[0], res.mean_work, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(frozen.mean[1], res.mean_total_work, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(frozen.mean[2], np.real(res.mean_state[1:, 0, 0]), rtol=1e-12)
    np.testing.assert_allclose(frozen.stderr[0], res.standard_error("work"), rtol=1e-6)


def test_gradient_flows_through_the_engine_sampler():
    rho0 = jnp.diag(jnp.array([0.8, 0.2])).astype(jnp.complex128)

    def mean_work(sigma):
        model = _model().replace(distribution=jt.Gaussian(sigma))
        return frozen_ensemble_mean(model, rho0, jax.random.PRNGKey(0), 2000, 4, lambda t: jnp.sum(t.work)).mean

    g = jax.grad(mean_work)(0.1)
    eps = 1e-6
    np.testing.assert_allclose(g, (mean_work(0.1 + eps) - mean_work(0.1 - eps)) / (2 * eps), rtol=1e-5)


def test_sample_configurations_is_a_deprecated_alias():
    dist, key, idx = jt.Gaussian(0.2), jax.random.PRNGKey(1), jnp.arange(5)
    with pytest.warns(DeprecationWarning, match="sample_configurations"):
        old = sample_configurations(dist, key, idx, 7)
    expected = jnp.stack([dist.sample(jax.random.fold_in(key, i), (7,)) for i in range(5)])
    np.testing.assert_array_equal(old, expected)
    np.testing.assert_array_equal(old, sample_chunk(dist, key, idx, 7, jnp.float64))


def test_frozen_vs_averaged_lives_in_the_engine():
    import importlib

    engine = importlib.import_module("jaxthermo.ensemble")  # the attribute jt.ensemble is the function
    model_a = importlib.import_module("jaxthermo.inhomogeneous")

    assert jt.frozen_vs_averaged_divergence is engine.frozen_vs_averaged_divergence
    for name in ("frozen_ensemble_mean", "frozen_vs_averaged_divergence", "sample_configurations"):
        assert not hasattr(model_a, name)  # a model does not import the engine


def test_result_histograms_are_the_package_histogram():
    res = jt.ensemble(_model(), _rho(), 4, 500, seed=2, alphas=())
    h = res.work_histogram
    assert isinstance(h, Histogram) and h is not None and type(h) is jt.Histogram
    assert h.total == 500
    np.testing.assert_allclose(h.density, h.counts / (500 * np.diff(h.edges)), rtol=1e-14)
    p = h.counts / 500
    np.testing.assert_allclose(h.stderr, np.sqrt(p * (1 - p) / 500) / np.diff(h.edges), rtol=1e-14)


def test_integer_arguments_use_the_one_rule():
    model, rho0 = _model(), _rho()
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="chunk_size"):
            frozen_ensemble_mean(model, rho0, jax.random.PRNGKey(0), 10, 3, lambda t: t.work, chunk_size=bad)
        with pytest.raises(ValueError, match="chunk_size"):
            jt.ensemble(model, rho0, 3, 10, chunk_size=bad)
    with pytest.raises(ValueError, match="bins"):
        jt.ensemble(model, rho0, 3, 10, work_bins=0)


def test_frozen_vs_averaged_divergence_of_a_coherent_state_is_the_quantum_one():
    """A coherent ρ0: the frozen-configuration mean is the engine's mean_divergence (quantum, same
    configurations from the same key), and the averaged one is the quantum D_α of the exact ρ̄_r
    (it used to be D_α of the populations: 0.035 for 0.140 at r = 0). Diagonal ρ0:
    tests/inhomogeneous/test_second_laws.py."""
    model, rho0, alphas = _model(), _rho(), (1.0, 2.0)
    fv = jt.frozen_vs_averaged_divergence(model, rho0, jax.random.key(1), 200, 4, alphas)
    res = jt.ensemble(model, rho0, 4, 200, seed=1, alphas=alphas)
    np.testing.assert_allclose(fv.frozen_mean, res.mean_divergence, rtol=1e-10)
    exact = jt.averaged_trajectory(model, rho0, 4).states
    quantum = [[jt.quantum_renyi_divergence(s, jt.thermal_state(2, 1.0, 1.0), a) for a in alphas] for s in exact]
    np.testing.assert_allclose(fv.averaged, quantum, rtol=1e-10)


def test_rbg_keys_refused_and_threefry_layout_fixed():
    """With an rbg key the vmapped draws depended on chunk_size (mean W_N of 37 configurations 1.648e-3,
    2.160e-3, 2.266e-3 for chunks of 1, 5, 64): now a ValueError naming key. Under
    jax_threefry_partitionable=False the configurations are still the engine's (a loop over fold_in(key, i)
    under JAX's default layout)."""
    model, rho0 = _model(), _rho()
    obs = lambda t: jnp.sum(t.work)
    with pytest.raises(ValueError, match="key: a rbg key"):
        frozen_ensemble_mean(model, rho0, jax.random.key(4, impl="rbg"), 37, 3, obs, chunk_size=5)
    key = jax.random.key(4)
    with jax.threefry_partitionable(True):
        mean, _ = _one_by_one(model, rho0, key, 37, 3, lambda t: np.sum(np.asarray(t.work)))
    with jax.threefry_partitionable(False):
        for chunk in (1, 5, 64):
            res = frozen_ensemble_mean(model, rho0, key, 37, 3, obs, chunk_size=chunk)
            np.testing.assert_allclose(res.mean, mean, rtol=1e-12, atol=1e-17)
