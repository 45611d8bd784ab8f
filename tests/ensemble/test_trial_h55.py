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


@pytest.mark.parametrize(
    "dtype, name, value",
    [
        (jnp.float32, "work_range", (0.0, 1e300)),  # edges [0, inf, inf, …]
        (jnp.float32, "work_range", (-3e38, 3e38)),  # finite edges, hi − lo = inf in float32: every W_N in bin 0
        (jnp.float32, "collision_work_range", (-1e39, 1e39)),
        (jnp.float64, "work_range", (-1e308, 1e308)),  # NaN edges, every W_N in bin 0
    ],
)
def test_a_histogram_range_the_run_precision_cannot_hold_is_refused(dtype, name, value):
    """A float32 run with work_range=(−3e38, 3e38) counted all 20 W_N (|W_N| < 0.01) in bin 0 of 64 (the bin
    index divides by hi − lo, inf in float32); (0, 1e300) had infinite edges. Now a ValueError naming the range."""
    with pytest.raises(ValueError, match=f"{name}=.*overflow {jnp.dtype(dtype).name}"):
        jt.ensemble(MODEL, RHO0, N, 20, alphas=(), dtype=dtype, **{name: value})


def test_the_widest_float32_range_still_bins_correctly():
    """(−1.7e38, 1.7e38): hi − lo = 3.4e38 < float32's largest 3.40282e38; every W_N (|W_N| < 1) lies in the two
    middle bins, split at 0 as with a range (−1, 1) of two bins."""
    wide = jt.ensemble(MODEL, RHO0, N, 20, alphas=(), dtype=jnp.float32, work_range=(-1.7e38, 1.7e38))
    split = jt.ensemble(MODEL, RHO0, N, 20, alphas=(), dtype=jnp.float32, work_range=(-1.0, 1.0), work_bins=2)
    counts = np.asarray(wide.work_histogram.counts)
    assert counts[31] == split.work_histogram.counts[0] and counts[32] == split.work_histogram.counts[1]
    assert counts.sum() == 20 and counts[31] > 0 and counts[32] > 0


def _x64_off_reference(key_data, n):
    """⟨W_N⟩ over configurations 0…n−1 of the key with this (high, low) data, δ drawn in float32 (the draw dtype
    with x64 off), one float32 trajectory each."""
    key = jax.random.wrap_key_data(jnp.asarray(key_data, jnp.uint32), impl="threefry2x32")
    rho0 = RHO0.astype(jnp.float32)
    works = [
        float(
            jnp.sum(
                jt.trajectory(
                    MODEL, rho0, 0.2 * jax.random.normal(jax.random.fold_in(key, i), (N,)), store_states=False
                ).work
            )
        )
        for i in range(n)
    ]
    return np.mean(works)


def test_seeds_beyond_32_bits_are_their_own_configurations_with_x64_off():
    """With jax_enable_x64 turned off after import, jax.random.key kept a seed's low 32 bits: seeds 0 and 2³²,
    −1 and 2³² − 1, 5 and 2⁴⁰ + 5 ran the same configurations (⟨W_N⟩ 1.8381057e-3 for both of the first pair).
    Now every seed in [−2⁶³, 2⁶³) has the key data (high, low 32 bits) it has with x64 on."""
    jax.config.update("jax_enable_x64", False)
    try:
        rho0 = RHO0.astype(jnp.float32)
        for seed, data in ((2**32, (1, 0)), (-1, (2**32 - 1, 2**32 - 1)), (2**40 + 5, (2**8, 5))):
            res = jt.ensemble(MODEL, rho0, N, 20, seed, alphas=())
            np.testing.assert_allclose(res.mean_total_work, _x64_off_reference(data, 20), rtol=2e-5)
        # ensemble_mean's traced int32 seed: the engine's configurations (its key sign-extended)
        reference = _x64_off_reference((2**32 - 1, 2**32 - 5), 20)
        np.testing.assert_allclose(jt.ensemble_mean(MODEL, rho0, N, 20, -5), reference, rtol=2e-5)
    finally:
        jax.config.update("jax_enable_x64", True)


def test_a_directory_as_checkpoint_is_named_before_the_pilot(tmp_path, monkeypatch):
    """checkpoint=<a directory> failed with a bare "[Errno 21] Is a directory" after the pilot had run (2 s here,
    minutes for long N); now IsADirectoryError naming checkpoint before any computation."""
    from jaxthermo.ensemble import _engine

    def no_pilot(*args, **kwargs):
        raise AssertionError("the pilot ran")

    monkeypatch.setattr(_engine, "_compiled_pilot", no_pilot)
    with pytest.raises(IsADirectoryError, match="checkpoint=.* is a directory"):
        jt.ensemble(MODEL, RHO0, N, 16, checkpoint=tmp_path)


def test_a_chunk_that_fails_at_dispatch_keeps_the_finished_one_before_it(tmp_path, monkeypatch):
    """Chunk j is dispatched before chunk j − 1 is collected; an error at dispatch (a device out of memory) ended
    the run with chunk j − 1 computed but never saved: 8 of 16 finished configurations in the checkpoint. Now the
    finished chunk is saved before the error propagates, and the resumed run equals an uninterrupted one exactly."""
    from jaxthermo.ensemble import _engine

    real = _engine._compiled_chunk

    def failing(*args, **kwargs):
        fn = real(*args, **kwargs)
        calls = []

        def run(*a):
            if not isinstance(a[3], jax.core.Tracer):  # a dispatch, not the engine's eval_shape of the chunk
                calls.append(1)
            if len(calls) == 3:  # chunk 2
                raise RuntimeError("RESOURCE_EXHAUSTED: out of memory while trying to allocate")
            return fn(*a)

        return run

    path = tmp_path / "c.npz"
    kwargs = dict(alphas=(1.0,), chunk_size=8, devices=jax.devices()[:1])
    monkeypatch.setattr(_engine, "_compiled_chunk", failing)
    with pytest.raises(RuntimeError, match="RESOURCE_EXHAUSTED"):
        jt.ensemble(MODEL, RHO0, N, 40, checkpoint=path, **kwargs)
    with np.load(path) as z:
        assert int(z["configs_done"]) == 16  # chunks 0 and 1
    monkeypatch.setattr(_engine, "_compiled_chunk", real)
    resumed = jt.ensemble(MODEL, RHO0, N, 40, checkpoint=path, **kwargs)
    assert resumed.info["chunks_resumed"] == 2
    whole = jt.ensemble(MODEL, RHO0, N, 40, **kwargs)
    for name in ("mean_work", "var_work", "mean_state", "mean_divergence", "var_cumulative_work"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(whole, name))
    np.testing.assert_array_equal(resumed.work_histogram.counts, whole.work_histogram.counts)


def test_a_two_dimensional_alphas_is_refused():
    """alphas=[[1, 2], [3, 0.5]] ran as the four orders (1, 2, 3, 0.5) with mean_divergence of shape (N+1, 4):
    a grid of orders taken apart without a word; now a ValueError naming alphas."""
    with pytest.raises(ValueError, match="alphas: .*1-d"):
        jt.ensemble(MODEL, RHO0, N, 8, alphas=[[1.0, 2.0], [3.0, 0.5]])
    assert jt.ensemble(MODEL, RHO0, N, 8, alphas=2.0).mean_divergence.shape == (N + 1, 1)  # one order: fine


def test_more_configurations_than_int32_indices_hold_with_x64_off_are_refused_first(monkeypatch):
    """With x64 off the indices are int32: n_configs = 2³¹ − 1 in chunks of 64 ran (a last chunk reaching 2³¹
    wraps its padding to negative indices, which pass the mask idx < n_configs and are counted), 2³¹ failed
    only after the pilot. Now a ValueError naming n_configs before any computation."""
    from jaxthermo.ensemble import _engine

    def no_pilot(*args, **kwargs):
        raise AssertionError("the pilot ran")

    monkeypatch.setattr(_engine, "_compiled_pilot", no_pilot)
    jax.config.update("jax_enable_x64", False)
    try:
        rho0 = RHO0.astype(jnp.float32)
        for n in (2**31 - 1, 2**31):
            with pytest.raises(ValueError, match=f"n_configs={n}: with jax_enable_x64 off"):
                jt.ensemble(MODEL, rho0, N, n, chunk_size=64, devices=jax.devices()[:1])
    finally:
        jax.config.update("jax_enable_x64", True)
