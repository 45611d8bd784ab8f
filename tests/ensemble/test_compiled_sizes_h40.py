"""Studies over n_configs reuse compiled programs: ensemble_mean, frozen_vs_averaged_divergence and runs
of several chunks of jt.ensemble (docs/ensemble.md §1).

``ensemble_mean`` compiled a program per n_configs (n_configs was part of its program: the scan's
length, the mask, the standard error), its gradient two; ``frozen_vs_averaged_divergence`` one per
n_configs too; ``jt.ensemble`` made the chunks of a run of several chunks even, a size that depended on
n_configs, so each size compiled its own chunk program. Now n_configs is an argument of the objective's
program, the chunk of a one-chunk run the least power of 4 that holds it and the scan over chunks a power
of 4 long (chunks past the run skipped); the engine runs every chunk of a longer run at the default size,
the last one's padding masked. Compilations are counted with JAX's own events; the values are checked
against the same configurations computed one by one (``jaxthermo.trajectory``, NumPy float64 means),
gradients against that unpadded computation's gradient and central finite differences.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import divergences_to_thermal
from jaxthermo.ensemble._sampling import sample_chunk
from tests.helpers import counted_compilations, on_cpu_devices

MODEL = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.2))
RHO0 = jt.thermal_state(2, 0.5, 1.0)


def _deltas(model, seed, n, n_steps, key=None):
    key = jax.random.key(seed) if key is None else key
    return sample_chunk(model.distribution, key, jnp.arange(n, dtype=jnp.uint32), n_steps, jnp.float64)


def _total_work(model, n, n_steps, seed):
    """W_N of configurations 0…n−1, one trajectory each (no chunks, no padding)."""
    deltas = _deltas(model, seed, n, n_steps)
    return jax.vmap(lambda dl: jnp.sum(jt.trajectory(model, RHO0, dl, store_states=False).work))(deltas)


def test_ensemble_mean_sizes_in_one_power_of_four_share_one_program():
    """n_configs = 70…256 (N = 7) run in one chunk of 256: compiled once, by the first size; before,
    every size compiled its own program. Mean and standard error: NumPy's of W_N computed one by one."""
    n_steps, sizes = 7, (70, 100, 150, 200, 256)
    jt.ensemble_mean(MODEL, RHO0, n_steps, 65, stderr=True)
    with counted_compilations() as count:
        out = [jt.ensemble_mean(MODEL, RHO0, n_steps, n, seed=2, stderr=True) for n in sizes]
    assert count[0] == 0, f"{count[0]} compilations for n_configs in {sizes}"
    w = np.asarray(_total_work(MODEL, max(sizes), n_steps, 2), np.float64)
    for n, o in zip(sizes, out):
        assert o.n_configs == n
        np.testing.assert_allclose(o.mean, w[:n].mean(), rtol=1e-12)
        np.testing.assert_allclose(o.stderr, w[:n].std(ddof=1) / np.sqrt(n), rtol=1e-9)


def test_ensemble_mean_of_several_chunks_skips_the_chunks_past_the_run():
    """Chunks of 64: 300, 500 and 1000 configurations take 5, 8 and 16 of the scan's 16 chunks, one
    program (before: one per size); float32 stays float32; one configuration has a NaN standard error."""
    n_steps, sizes = 5, (300, 500, 1000)
    jt.ensemble_mean(MODEL, RHO0, n_steps, 257, chunk_size=64, stderr=True)  # 5 of 16 chunks too
    with counted_compilations() as count:
        out = [jt.ensemble_mean(MODEL, RHO0, n_steps, n, seed=1, chunk_size=64, stderr=True) for n in sizes]
    assert count[0] == 0, f"{count[0]} compilations for n_configs in {sizes}"
    w = np.asarray(_total_work(MODEL, max(sizes), n_steps, 1), np.float64)
    for n, o in zip(sizes, out):
        np.testing.assert_allclose(o.mean, w[:n].mean(), rtol=1e-12)
        np.testing.assert_allclose(o.stderr, w[:n].std(ddof=1) / np.sqrt(n), rtol=1e-9)
    one = jt.ensemble_mean(MODEL, RHO0, n_steps, 1, seed=1, stderr=True)
    np.testing.assert_allclose(one.mean, w[0], rtol=1e-13)
    assert np.isnan(one.stderr)
    f32 = jt.ensemble_mean(MODEL, jnp.asarray(RHO0, jnp.complex64), n_steps, 300, seed=1, chunk_size=64, stderr=True)
    assert f32.mean.dtype == jnp.float32 and f32.stderr.dtype == jnp.float32
    np.testing.assert_allclose(f32.mean, w[:300].mean(), rtol=1e-5)
    np.testing.assert_allclose(f32.stderr, w[:300].std(ddof=1) / np.sqrt(300), rtol=1e-4)


@pytest.mark.parametrize("n, chunk_size", [(150, None), (300, 64)])
def test_gradient_of_a_padded_run_is_the_unpadded_one_and_finite_differences(n, chunk_size):
    """150 configurations in a chunk of 256 (106 padding rows) and 300 in 5 chunks of 64 out of a scan of
    16: ∂⟨W_N⟩ with respect to θ, β, g0 and σ equals the gradient of the plain mean over the same
    configurations' trajectories, and central finite differences of ensemble_mean itself (the same
    configurations at θ ± h: common random numbers)."""
    n_steps, seed = 6, 4
    f = lambda m: jt.ensemble_mean(m, RHO0, n_steps, n, seed=seed, chunk_size=chunk_size)
    g = jax.grad(f)(MODEL)
    ref = jax.grad(lambda m: jnp.mean(_total_work(m, n, n_steps, seed)))(MODEL)
    for name, got, want in (
        ("theta", g.theta, ref.theta),
        ("beta", g.beta, ref.beta),
        ("g0", g.g0, ref.g0),
        ("sigma", g.distribution.sigma, ref.distribution.sigma),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15, err_msg=name)
    h = 1e-5
    for name, bump in (
        ("theta", lambda m, e: m.replace(theta=m.theta + e)),
        ("sigma", lambda m, e: m.replace(distribution=jt.Gaussian(m.distribution.sigma + e))),
    ):
        fd = (float(f(bump(MODEL, h))) - float(f(bump(MODEL, -h)))) / (2 * h)
        got = g.theta if name == "theta" else g.distribution.sigma
        np.testing.assert_allclose(got, fd, rtol=1e-6, err_msg=name)


def test_gradient_programs_are_shared_between_sizes():
    """jax.grad of ensemble_mean over n_configs = 80, 120, 250 (one chunk of 256): no compilation after
    the first size (before: two programs per size, ≈ 4.6 s on 2 cores)."""
    n_steps = 6
    grad = lambda n: jax.grad(lambda m: jt.ensemble_mean(m, RHO0, n_steps, n, seed=3))(MODEL)
    jax.block_until_ready(grad(70))
    with counted_compilations() as count:
        grads = [jax.block_until_ready(grad(n)) for n in (80, 120, 250)]
    assert count[0] == 0, f"{count[0]} compilations"
    ref = jax.grad(lambda m: jnp.mean(_total_work(m, 120, n_steps, 3)))(MODEL)
    np.testing.assert_allclose(grads[1].theta, ref.theta, rtol=1e-10)


def test_frozen_vs_averaged_divergence_sizes_share_one_program():
    """The library's own frozen mean (D_α of every step) compiled a program per n_configs; 100…256
    configurations now share the chunk of 256. Values: NumPy means of D_α over the same trajectories."""
    key, n_steps, alphas = jax.random.key(5), 5, (0.5, 1.0)
    run = lambda n: jt.frozen_vs_averaged_divergence(MODEL, RHO0, key, n, n_steps, alphas)
    jax.block_until_ready(run(65).frozen_mean)
    sizes = (100, 200, 256)
    with counted_compilations() as count:
        out = [jax.block_until_ready(run(n).frozen_mean) for n in sizes]
    assert count[0] == 0, f"{count[0]} compilations for n_configs in {sizes}"
    deltas = _deltas(MODEL, None, max(sizes), n_steps, key=key)
    states = jax.vmap(lambda dl: jt.trajectory(MODEL, RHO0, dl).states)(deltas)
    d = np.asarray(jax.vmap(lambda s: divergences_to_thermal(s, 1.0, 1.0, alphas, quantum=False))(states))
    for n, got in zip(sizes, out):
        np.testing.assert_allclose(got, d[:n].mean(axis=0), rtol=1e-11, atol=1e-15)


N_LONG = 2000  # the default chunk: 512 configurations per device on the tests' 4 CPU devices (2²⁰ pairs)


@on_cpu_devices
def test_runs_of_several_chunks_share_the_default_chunk_program():
    """2049…5000 configurations (2 to 3 default chunks of 2048 on 4 devices) run with the default
    chunk's program, compiled once; before, the chunks were made even (320, 384, 448, 512 per device),
    one program per size. The padded last chunk enters no statistic: the same numbers as one unpadded
    chunk of n, and NumPy's mean and histogram of W_N computed one by one."""
    assert jax.device_count() == 4
    kw = dict(work_range=(-0.5, 0.5), collision_work_range=(-0.05, 0.05), alphas=(1.0,))
    jt.ensemble(MODEL, RHO0, N_LONG, 2 * 2048 + 1, **kw)  # the default chunk and the run's other programs
    sizes = (2049, 2200, 3000, 5000)
    with counted_compilations() as count:
        runs = [jt.ensemble(MODEL, RHO0, N_LONG, n, **kw) for n in sizes]
    assert count[0] == 0, f"{count[0]} compilations for n_configs in {sizes}"
    assert {r.info["chunk_size"] for r in runs} == {2048}
    n, res = 2200, runs[1]
    whole = jt.ensemble(MODEL, RHO0, N_LONG, n, chunk_size=n, **kw)  # one chunk, 576 per device
    for name in ("mean_state", "mean_work", "var_work", "mean_divergence", "var_divergence", "mean_total_work"):
        np.testing.assert_allclose(getattr(res, name), getattr(whole, name), rtol=1e-11, atol=1e-17, err_msg=name)
    np.testing.assert_array_equal(res.work_histogram.counts, whole.work_histogram.counts)
    np.testing.assert_array_equal(res.collision_work_histogram.counts, whole.collision_work_histogram.counts)
    w = np.asarray(_total_work(MODEL, n, N_LONG, 0), np.float64)
    np.testing.assert_allclose(res.mean_total_work, w.mean(), rtol=1e-12)
    np.testing.assert_allclose(res.var_total_work, w.var(ddof=1), rtol=1e-10)
    h = res.work_histogram
    assert h.counts.sum() + h.underflow + h.overflow == n
    np.testing.assert_array_equal(h.counts, np.histogram(w, bins=np.asarray(h.edges))[0])


class _Stop(Exception):
    pass


@on_cpu_devices
@pytest.mark.parametrize("first, then", [(None, 256), (256, None)])
def test_a_checkpoint_resumes_with_the_other_chunking(tmp_path, first, then):
    """A run of 5000 configurations stopped after its first chunk (default chunks of 2048, or chunks of
    256) resumes with the other chunking after the configurations it finished: the statistics of the
    uninterrupted default run, to rounding, the histograms exactly."""
    ckpt = tmp_path / "run.npz"
    kw = dict(work_range=(-0.5, 0.5), collision_work_range=(-0.05, 0.05), alphas=(1.0,))

    def stop(chunk, done):
        raise _Stop

    with pytest.raises(_Stop):
        jt.ensemble(MODEL, RHO0, N_LONG, 5000, chunk_size=first, checkpoint=ckpt, callback=stop, **kw)
    with np.load(ckpt) as z:
        done = int(z["configs_done"])
    assert done == (2048 if first is None else 256)
    resumed = jt.ensemble(MODEL, RHO0, N_LONG, 5000, chunk_size=then, checkpoint=ckpt, **kw)
    assert resumed.info["chunk_size"] == (256 if then else 2048)
    assert resumed.info["chunks_resumed"] == -(-done // resumed.info["chunk_size"])
    plain = jt.ensemble(MODEL, RHO0, N_LONG, 5000, **kw)
    for name in ("mean_state", "mean_work", "var_work", "mean_divergence", "var_divergence", "mean_total_work"):
        np.testing.assert_allclose(getattr(resumed, name), getattr(plain, name), rtol=1e-11, atol=1e-17, err_msg=name)
    np.testing.assert_array_equal(resumed.work_histogram.counts, plain.work_histogram.counts)
    np.testing.assert_array_equal(resumed.collision_work_histogram.counts, plain.collision_work_histogram.counts)
