"""The streaming engine against a brute-force materialised computation, and its invariances.

Brute force: every configuration's δ sequence drawn directly from ``fold_in(key(seed), i)``,
every trajectory computed by ``jaxthermo.trajectory`` (the model-A reference route, full states
stored), then NumPy statistics over the (configurations × N) arrays.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._fused import qubit_collision, state_to_qubit
from jaxthermo.ensemble._sampling import sample_chunk
from jaxthermo.inhomogeneous import collide_generic
from tests.helpers import random_state

ALPHAS = (0.5, 1.0, 2.0, float("inf"))


def _brute_force(model, rho0, n_steps, n_configs, seed, coherent):
    # the draws through the engine's sampler (tested against jax.random directly below)
    idx = jnp.arange(n_configs, dtype=jnp.uint32)
    deltas = np.asarray(
        jax.jit(lambda i: sample_chunk(model.distribution, jax.random.key(seed), i, n_steps, jnp.float64))(idx)
    )
    traj = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl))(jnp.asarray(deltas))
    states = np.asarray(traj.states)  # (M, N+1, d, d)
    q_s = jt.thermal_populations(model.d, model.beta, model.g0)
    tau_s = np.diag(np.asarray(q_s)).astype(complex)
    if coherent:
        div = np.stack([np.asarray(jt.quantum_renyi_divergence(jnp.asarray(states), tau_s, a)) for a in ALPHAS], -1)
    else:
        pops = np.real(np.diagonal(states, axis1=-2, axis2=-1))
        div = np.stack([np.asarray(jt.renyi_divergence(jnp.asarray(pops), q_s, a)) for a in ALPHAS], axis=-1)
    return deltas, states, np.asarray(traj.work), np.asarray(traj.heat), np.asarray(traj.energy_change), div


CASES = [
    pytest.param(2, "hamiltonian", True, jt.PartialSwap(), id="qubit-coherent-fused"),
    pytest.param(3, "hamiltonian", False, jt.PartialSwap(), id="qutrit-diagonal"),
    pytest.param(3, "temperature", True, jt.PartialSwap(), id="qutrit-coherent-temperature"),
    pytest.param(2, "hamiltonian", True, jt.ExactUnitary(2.0), id="qubit-coherent-exact-unitary"),
]


@pytest.mark.parametrize("d, kind, coherent, coupling", CASES)
def test_streaming_statistics_equal_brute_force(d, kind, coherent, coupling):
    rng = np.random.default_rng(d)
    rho0 = random_state(d, rng, diagonal=not coherent)
    model = jt.InhomogeneousReservoir(d, 0.8, 1.3, 0.35, kind=kind, coupling=coupling, distribution=jt.Gaussian(0.2))
    n_steps, n_configs, seed = 6, 37, 11
    res = jt.ensemble(
        model,
        rho0,
        n_steps,
        n_configs,
        seed,
        alphas=ALPHAS,
        chunk_size=8,
        work_bins=9,
        collision_work_bins=7,
        divergence_every=1,
    )
    _, states, work, heat, du, div = _brute_force(model, rho0, n_steps, n_configs, seed, coherent)
    np.testing.assert_allclose(res.mean_state, states.mean(0), atol=1e-14)
    for name, x in (("work", work), ("heat", heat), ("energy_change", du), ("cumulative_work", np.cumsum(work, 1))):
        np.testing.assert_allclose(getattr(res, f"mean_{name}"), x.mean(0), rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(getattr(res, f"var_{name}"), x.var(0, ddof=1), rtol=1e-10, atol=1e-20)
    np.testing.assert_allclose(res.mean_divergence, div.mean(0), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(res.var_divergence[1:], div[:, 1:].var(0, ddof=1), rtol=1e-8, atol=1e-20)
    # histograms: the engine's stated edges, NumPy's counts (interior bins; edges half-open)
    for hist, values in ((res.work_histogram, work.sum(1)), (res.collision_work_histogram, work.ravel())):
        counts, _ = np.histogram(values, bins=hist.edges)
        assert hist.total == values.size
        assert hist.underflow == np.sum(values < hist.edges[0]) and hist.overflow == np.sum(values >= hist.edges[-1])
        np.testing.assert_array_equal(hist.counts[:-1], counts[:-1])
    assert res.work_histogram.underflow == res.work_histogram.overflow == 0  # pilot covers the 37 configs
    # derived quantities of the mean state
    mean_states = states.mean(0)
    tau_s = jt.thermal_state(d, 0.8, 1.3)
    expect = np.stack([np.asarray(jt.quantum_renyi_divergence(jnp.asarray(mean_states), tau_s, a)) for a in ALPHAS], -1)
    np.testing.assert_allclose(res.mean_state_divergence, expect, rtol=1e-9, atol=1e-12)
    tau_bar = jt.inhomogeneous.averaged_reservoir_state(model, model.distribution)
    np.testing.assert_allclose(
        res.mean_state_trace_distance, jt.trace_distance(jnp.asarray(mean_states), tau_bar), atol=1e-13
    )
    assert res.mean_state.shape == (n_steps + 1, d, d) and res.mean_work.shape == (n_steps,)


@pytest.mark.parametrize(
    "dist", [jt.Gaussian(0.3), jt.Uniform(0.4), jt.TwoPoint(0.2), jt.Empirical(jnp.array([0.1, -0.2, 0.3]))]
)
def test_chunk_draws_as_columns_equal_per_configuration_draws(dist):
    """sample_steps (N, B): column i is sample_deltas of configuration i, exactly (each law's
    sample_columns, overridden by the Gaussian, against its sample)."""
    from jaxthermo.ensemble._sampling import sample_deltas, sample_steps

    key, idx = jax.random.key(5), jnp.arange(100, 164, dtype=jnp.uint32)
    for dtype in (jnp.float64, jnp.float32):
        cols = jax.jit(lambda i, dt=dtype: sample_steps(dist, key, i, 9, dt))(idx)
        rows = jax.jit(jax.vmap(lambda i, dt=dtype: sample_deltas(dist, key, i, 9, dt)))(idx)
        assert cols.shape == (9, 64) and cols.dtype == dtype
        np.testing.assert_array_equal(np.asarray(cols), np.asarray(rows).T)


@pytest.mark.parametrize(
    "dist", [jt.Gaussian(0.3), jt.Uniform(0.4), jt.TwoPoint(0.2), jt.Empirical(jnp.array([0.1, -0.2, 0.3]))]
)
def test_float32_runs_draw_the_float64_configurations(dist):
    """A float32 run sees the float64 run's configurations: a Gaussian's δ are the float64 stream's uniforms
    turned into δ by float32 arithmetic (within 5 + ½ float32 ulp of the float64 δ: the transform and σ's
    product; not merely the float64 δ rounded, ½ ulp), the other laws' the float64 draws rounded (exactly);
    ``draw_dtype=float32`` keeps its own stream (jax.random's float32 draws)."""
    from jaxthermo.ensemble._sampling import sample_steps

    key, idx = jax.random.key(8), jnp.arange(2000, dtype=jnp.uint32)
    d64 = np.asarray(sample_steps(dist, key, idx, 50, jnp.float64))
    d32 = np.asarray(sample_steps(dist, key, idx, 50, jnp.float32))
    assert d32.dtype == np.float32
    if isinstance(dist, jt.Gaussian):
        ulp = np.spacing(np.abs(d64).astype(np.float32)).astype(np.float64)
        off = np.abs(d32.astype(np.float64) - d64) / ulp
        assert 0.5 < off.max() <= 5.5
    else:
        np.testing.assert_array_equal(d32, d64.astype(np.float32))
    own = np.asarray(sample_steps(dist, key, idx[:3], 4, jnp.float32, jnp.float32))
    keys = [jax.random.fold_in(key, i) for i in range(3)]
    np.testing.assert_array_equal(own, np.stack([np.asarray(dist.sample(k, (4,), jnp.float32)) for k in keys], 1))


def test_configuration_draws_depend_only_on_seed_and_index():
    from jaxthermo.ensemble._sampling import sample_deltas

    dist = jt.Gaussian(0.3)
    key = jax.random.key(5)
    chunk = sample_chunk(dist, key, jnp.arange(100, 110, dtype=jnp.uint32), 4, jnp.float64)
    single = sample_deltas(dist, key, 104, 4, jnp.float64)
    # the same draw; compiled in another context (a chunk, or the eager draw compiled on its own)
    # it may differ in the last bit (docs/ensemble.md §1)
    np.testing.assert_allclose(chunk[4], single, rtol=4 * np.finfo(np.float64).eps, atol=0)
    direct = 0.3 * np.asarray(jax.random.normal(jax.random.fold_in(key, 104), (4,), jnp.float64))
    np.testing.assert_allclose(single, direct, rtol=1e-14)  # same key, same draw (to rounding)
    draw32 = sample_deltas(dist, key, 104, 4, jnp.float64, draw_dtype=jnp.float32)  # another stream
    direct32 = 0.3 * np.asarray(jax.random.normal(jax.random.fold_in(key, 104), (4,), jnp.float32))
    np.testing.assert_allclose(draw32, direct32, rtol=1e-6)


@pytest.mark.parametrize("d", [2, 3])
def test_chunk_size_and_device_count_do_not_change_results(d):
    rng = np.random.default_rng(3)
    rho0 = random_state(d, rng)
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Uniform(0.4))
    cpus = jax.devices("cpu")
    assert len(cpus) == 4, "conftest forces 4 CPU devices"
    # 4 CPU devices against one device of the default backend (the GPU, where there is one)
    runs = [
        jt.ensemble(model, rho0, 9, 203, seed=2, chunk_size=cs, devices=devs, alphas=(1.0, 3.0))
        for cs, devs in ((4, cpus), (1000, cpus), (7, jax.devices()[:1]))
    ]
    ref = runs[-1]
    assert ref.info["n_devices"] == 1 and runs[0].info["n_devices"] == 4
    for r in runs[:-1]:
        for name in (
            "mean_state",
            "mean_work",
            "var_work",
            "mean_heat",
            "var_heat",
            "var_cumulative_work",
            "mean_divergence",
            "var_divergence",
            "mean_state_divergence",
        ):
            np.testing.assert_allclose(getattr(r, name), getattr(ref, name), rtol=1e-11, atol=1e-17, err_msg=name)
        np.testing.assert_array_equal(r.work_histogram.counts, ref.work_histogram.counts)
        np.testing.assert_array_equal(r.collision_work_histogram.counts, ref.collision_work_histogram.counts)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_fused_qubit_path_identical_to_generic(kind):
    rng = np.random.default_rng(7)
    model = jt.InhomogeneousReservoir(2, 0.7, 1.4, 0.9, kind=kind)
    for _ in range(5):
        rho = random_state(2, rng)
        delta = rng.normal() * 0.3
        ref = collide_generic(model, rho, delta)
        (p0, x, y), e = qubit_collision(model, state_to_qubit(jnp.asarray(rho)), jnp.float64(delta), jnp.float64(0.9))
        new = np.asarray(ref.system)
        np.testing.assert_allclose([p0, x, y], [new[0, 0].real, new[0, 1].real, new[0, 1].imag], atol=1e-15)
        for a, b in zip(e, ref.energetics):
            np.testing.assert_allclose(a, b, atol=1e-15)


def test_quantum_divergence_inside_jit():
    rho = jnp.asarray(random_state(2, np.random.default_rng(0)))
    tau = jt.thermal_state(2, 1.0, 1.0)
    eager = jt.quantum_renyi_divergence(rho, tau, float("inf"))
    jitted = jax.jit(lambda r: jt.quantum_renyi_divergence(r, tau, float("inf")))(rho)
    np.testing.assert_allclose(jitted, eager, rtol=1e-13)


def test_histogram_methods_agree_exactly():
    from jaxthermo.ensemble._statistics import chunk_counts

    rng = np.random.default_rng(0)
    x = jnp.asarray(np.concatenate([rng.normal(size=5000), [-10.0, 10.0, 1.0, -1.0]]))
    mask = jnp.asarray(rng.random(x.shape[0]) < 0.8)
    edges = jnp.linspace(-1.0, 1.0, 17)
    a = chunk_counts(x, mask, edges, "scatter")
    b = jax.jit(chunk_counts, static_argnums=3)(x, mask, edges, "compare")
    np.testing.assert_array_equal(a, b)
    assert a.dtype == b.dtype == jnp.int32  # the scan carry of the kernel needs a fixed dtype
    xs = np.asarray(x)[np.asarray(mask)]
    counts, _ = np.histogram(xs, bins=np.asarray(edges))
    np.testing.assert_array_equal(a[1:-2], counts[:-1])
    assert a[0] == np.sum(xs < -1.0) and a[-1] == np.sum(xs >= 1.0) and int(a.sum()) == xs.size


def test_kernel_with_compare_histograms_equals_scatter():
    from functools import partial

    from jaxthermo.ensemble._kernel import model_a_chunk

    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    rho0 = jnp.asarray(random_state(2, np.random.default_rng(1)))
    idx = jnp.arange(50, dtype=jnp.uint32)
    mask = idx < 45
    edges = jnp.linspace(-0.01, 0.01, 11)
    out = {
        m: jax.jit(partial(model_a_chunk, n_steps=7, alphas=(1.0,), coherent=True, histogram_method=m))(
            model, rho0, jax.random.key(0), idx, mask, edges, edges
        )
        for m in ("scatter", "compare")
    }
    for name in ("work_histogram", "collision_work_histogram"):
        np.testing.assert_array_equal(out["scatter"][name].counts, out["compare"][name].counts)
    np.testing.assert_array_equal(out["scatter"]["work"].mean, out["compare"]["work"].mean)


def test_column_moments_match_numpy_per_column():
    """column_moments (one reduction per column) against NumPy's masked mean and Σ(x − mean)², and
    equal to chunk_moments over the leading axis to rounding."""
    from jaxthermo.ensemble._statistics import chunk_moments, column_moments

    rng = np.random.default_rng(3)
    x = rng.normal(size=(37, 3)) * np.array([1.0, 1e-3, 50.0]) + np.array([0.0, 2.0, -7.0])
    mask = rng.random(37) < 0.7
    got = column_moments(jnp.asarray(x), jnp.asarray(mask))
    kept = x[mask]
    assert int(got.n) == mask.sum()
    np.testing.assert_allclose(got.mean, kept.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(got.m2, ((kept - kept.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-12)
    ref = chunk_moments(jnp.asarray(x), jnp.asarray(mask))
    np.testing.assert_allclose(got.mean, ref.mean, rtol=1e-14)
    np.testing.assert_allclose(got.m2, ref.m2, rtol=1e-13)


@pytest.mark.parametrize("b", [1, 7, 128, 129, 1000, 3001, 10432])
def test_leading_sum_equals_exact_sum(b):
    """leading_sum (eightfold folds, leftover rows apart) against math.fsum, the correctly rounded sum,
    for lengths with and without leftovers, real and complex (B, 2) arrays, under jit; its gradient
    is all ones."""
    import math

    from jaxthermo.ensemble._statistics import leading_sum

    rng = np.random.default_rng(b)
    x = rng.normal(size=(b, 2)) * 10.0 ** rng.integers(-3, 4, size=(b, 1)) + 1j * rng.normal(size=(b, 2))
    got = np.asarray(jax.jit(leading_sum)(jnp.asarray(x)))
    for k in range(2):
        scale = np.abs(x[:, k]).sum()
        exact = complex(math.fsum(x[:, k].real), math.fsum(x[:, k].imag))
        assert abs(got[k] - exact) <= 4 * np.finfo(float).eps * scale * max(1.0, math.log2(b))
    grad = jax.grad(lambda v: leading_sum(v)[0])(jnp.asarray(x.real))
    np.testing.assert_array_equal(grad, np.eye(2)[np.zeros(b, int)])


def test_default_chunks_are_even_not_mostly_padding():
    """``balanced_per_device`` (kept for the GPU benchmark) makes the chunks even: same chunk count, padding
    < 5 % + one rounding step per chunk. The engine no longer uses it: a run of several chunks runs every
    chunk at the default size, the last one's padding masked (one program for every n_configs,
    docs/ensemble.md §1), with the same results (to rounding) as one chunk."""
    from jaxthermo.ensemble._engine import balanced_per_device, default_chunk_size

    assert default_chunk_size(100, 2) == 2 * 10_432  # 2²⁰ pairs per device, down to a multiple of 64

    for n, per_device, n_dev in ((50_000, 10_432, 2), (2_200, 512, 4), (20_865, 10_432, 2), (10**6 + 1, 10_432, 2)):
        new = balanced_per_device(n, per_device, n_dev)
        old_chunks = -(-n // (per_device * n_dev))
        assert new <= per_device and -(-n // (new * n_dev)) == old_chunks
        padded = old_chunks * new * n_dev
        assert padded <= old_chunks * per_device * n_dev
        assert padded - n < 0.05 * n + old_chunks * n_dev * max(64, per_device // 64)
        assert new % 64 == 0 or per_device < 64
    assert balanced_per_device(50_000, 10_432, 2) * 2 * 3 == 50_688  # was 62 910 configurations computed
    assert balanced_per_device(5_001, 10_432, 2) == 2_560  # one chunk: 2 501 per device, aligned up
    assert balanced_per_device(100, 40, 2) == 25  # below 64 per device: no alignment, two even chunks
    assert balanced_per_device(10, 10_432, 4) == 3  # a small run is not padded to 64 per device
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    rho0 = random_state(2, np.random.default_rng(5))
    # N = 2000: the default is 512 configurations per device (2²⁰ pairs, a multiple of 64), 2 chunks
    # for 2200 on 4 devices
    even = jt.ensemble(model, rho0, 2000, 2_200, seed=1)
    assert even.info["chunk_size"] == 4 * 512  # several chunks: all of the default size (docs/ensemble.md §1)
    one = jt.ensemble(model, rho0, 2000, 2_200, seed=1, chunk_size=2_200)
    assert one.info["chunk_size"] == 4 * 576  # a chosen size: 550 per device, up to a multiple of 64
    for name in ("mean_state", "mean_work", "var_work", "mean_divergence", "var_divergence"):
        np.testing.assert_allclose(getattr(even, name), getattr(one, name), rtol=1e-11, atol=1e-17, err_msg=name)
