"""Helper-55 trials: the ensemble engine's front door (arguments, chunks, devices, seeds, checkpoints)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
RHO0 = jnp.array([[0.7, 0.2], [0.2, 0.3]])
N, N_CONFIGS, SEED = 3, 37, 4


def _reference_mean_work():
    """⟨W_N⟩ of configurations 0…n−1, one trajectory each, δ_N(i) = σ·normal(fold_in(key(seed), i)) with JAX's
    default threefry key (docs/ensemble.md §1), averaged in NumPy float64."""
    key = jax.random.key(SEED, impl="threefry2x32")
    with jax.threefry_partitionable(True):
        works = [
            float(
                jnp.sum(
                    jt.trajectory(
                        MODEL, RHO0, 0.2 * jax.random.normal(jax.random.fold_in(key, i), (N,), jnp.float64)
                    ).work
                )
            )
            for i in range(N_CONFIGS)
        ]
    return np.mean(works)


@pytest.mark.parametrize(
    "setting",
    [("jax_default_prng_impl", "rbg"), ("jax_default_prng_impl", "unsafe_rbg"), ("jax_threefry_partitionable", False)],
)
def test_configurations_do_not_depend_on_jaxs_random_settings(setting):
    """With jax_default_prng_impl = "rbg" (a common GPU speed setting) the vmapped draws of a chunk depended on
    the chunk's size and the device count: ⟨W_N⟩ of 37 configurations was 2.55e-3, 2.02e-3, 2.28e-3, 2.26e-3 for
    chunks of 1, 5, 64 and 4 devices (1.81e-3 for the configurations (seed, i) of the docs); under
    jax_threefry_partitionable = False another stream (2.37e-3), so a checkpoint resumed under the other setting
    mixed two streams. Now the engine and ensemble_mean draw from threefry keys with partitionable counters."""
    name, value = setting
    reference = _reference_mean_work()
    old = getattr(jax.config, name)
    jax.config.update(name, value)
    try:
        for chunk_size, n_dev in ((1, 1), (5, 1), (64, 1), (8, 4)):
            res = jt.ensemble(
                MODEL, RHO0, N, N_CONFIGS, SEED, alphas=(), chunk_size=chunk_size, devices=jax.devices()[:n_dev]
            )
            np.testing.assert_allclose(res.mean_total_work, reference, rtol=1e-12)
        np.testing.assert_allclose(jt.ensemble_mean(MODEL, RHO0, N, N_CONFIGS, SEED), reference, rtol=1e-12)
    finally:
        jax.config.update(name, old)


def test_a_slow_callback_is_not_reported_as_a_stalled_chunk(monkeypatch):
    """A callback that took 1.5 s after chunk 3 (a plot, a copy of the results) made the watchdog report chunk 4
    as "has taken 2 s so far, 653× the average … a stall of the XLA runtime?" (chunk 4 had long finished)."""
    import time
    import warnings
    from functools import partial

    from jaxthermo.ensemble import _engine, _watchdog

    monkeypatch.setattr(_engine, "ChunkWatch", partial(_watchdog.ChunkWatch, factor=3.0, min_s=0.5))
    run = partial(jt.ensemble, MODEL, RHO0, N, 64, alphas=(), chunk_size=8, devices=jax.devices()[:1])
    run()  # compiled
    with warnings.catch_warnings(record=True) as caught:  # the watchdog warns from its timer's thread
        warnings.simplefilter("always")
        res = run(callback=lambda i, n: time.sleep(1.5 if i == 3 else 0.0))
    assert not [str(w.message) for w in caught if issubclass(w.category, _watchdog.SlowChunkWarning)]
    assert res.n_configs == 64
