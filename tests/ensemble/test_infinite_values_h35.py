"""Means of quantities that are ±∞ in some configurations, and padding configurations that never count.

A physicist's observable can be +∞ in a configuration (a divergence of a state without full support,
1/x at x = 0, e^{−βW_N} beyond float64's range). The reference is NumPy's float64 mean of the same
per-configuration values: +∞ (−∞) where some value is +∞ (−∞) and none is NaN or of the other sign,
NaN otherwise; the spread of such a sample is undefined (``numpy.std`` gives NaN). Per-configuration
values come from the reference route: the engine's sampler (configuration i from
``fold_in(key(seed), i)``) run through ``jaxthermo.trajectory``. Before, the shifted chunk means and
the merges (Chan's Δ = ∞ − ∞, Knuth's TwoSum) made every such mean NaN, and the engine's merge with a
device that held only padding configurations (index ≥ n_configs, computed only to fill the last chunk)
made an overflowed spread NaN (∞·0). Padding configurations are masked by a select (a product by a
zero weight, 0·∞ = NaN, was safe only through XLA's rewrite of it into a select): guarded below.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._sampling import sample_chunk
from jaxthermo.ensemble._statistics import HigherMoments, Moments, merge


def _model(beta=1.0, theta=0.3, sigma=0.3, d=2):
    return jt.InhomogeneousReservoir(d, beta=beta, g0=1.0, theta=theta, distribution=jt.Gaussian(sigma))


def _total_work(model, rho0, n_steps, indices, seed=0, key=None):
    """W_N of the configurations ``indices`` by the reference route (NumPy float64 array)."""
    key = jax.random.key(seed) if key is None else key
    rdt = jnp.real(jnp.asarray(rho0)).dtype
    deltas = sample_chunk(model.distribution, key, jnp.asarray(indices, jnp.uint32), n_steps, rdt)
    traj = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl, store_states=False))(deltas)
    return np.asarray(jnp.sum(traj.work, axis=-1), np.float64)


def _numpy_mean_and_stderr(values):
    values = np.asarray(values, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # NumPy's overflow of a square is its ∞ spread
        return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


def _assert_like_numpy(got, want, rtol=1e-12):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=1e-15)


N, N_CONFIGS = 5, 100
RHO0 = jt.thermal_state(2, 0.5, 1.0)
# observables of W_N with thresholds lo < mid < hi: the 20th, 50th and 80th percentiles of the reference W_N
OBSERVABLES = {
    "plus_inf": lambda w, lo, mid, hi: jnp.where(w > mid, jnp.inf, w),
    "minus_inf": lambda w, lo, mid, hi: jnp.where(w > mid, -jnp.inf, w),
    "inverse": lambda w, lo, mid, hi: 1.0 / jnp.where(w > mid, 0.0, w - lo),  # 1/x hitting x = 0: +∞
    "both_signs": lambda w, lo, mid, hi: jnp.where(w > hi, jnp.inf, jnp.where(w < lo, -jnp.inf, w)),
    "nan": lambda w, lo, mid, hi: jnp.where(w > hi, jnp.nan, jnp.where(w < lo, jnp.inf, w)),
    "finite": lambda w, lo, mid, hi: w,
}


@pytest.mark.parametrize("chunk_size", [7, N_CONFIGS])
@pytest.mark.parametrize("name", sorted(OBSERVABLES))
def test_ensemble_mean_of_infinite_values_is_numpys_mean(name, chunk_size):
    model = _model()
    w = _total_work(model, RHO0, N, np.arange(N_CONFIGS))
    cuts = tuple(float(c) for c in np.percentile(w, [20, 50, 80]))
    f = lambda w_n: OBSERVABLES[name](w_n, *cuts)
    want_mean, want_se = _numpy_mean_and_stderr(np.asarray(f(jnp.asarray(w))))

    def observable(rho, w_n, q_n):
        return f(w_n)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = jt.ensemble_mean(model, RHO0, N, N_CONFIGS, observable=observable, chunk_size=chunk_size, stderr=True)
    _assert_like_numpy(out.mean, want_mean, rtol=1e-11)
    # a NaN mean (a NaN, or both infinities) is named in a RuntimeWarning; an infinite or finite one is not
    said = [str(c.message) for c in caught if issubclass(c.category, RuntimeWarning)]
    if np.isnan(want_mean):
        assert len(said) == 1 and "mean of observable 'observable' is NaN" in said[0], said
    else:
        assert not said, said
    _assert_like_numpy(out.stderr, want_se, rtol=1e-9)


def test_frozen_ensemble_mean_of_a_pytree_with_infinite_leaves():
    """Each leaf of a pytree observable is its own NumPy mean: an infinite leaf does not spoil a finite one."""
    model, key = _model(), jax.random.key(11)
    w = _total_work(model, RHO0, N, np.arange(N_CONFIGS), key=key)

    def observable(traj):
        w_n = jnp.sum(traj.work)
        return {"inf": jnp.where(w_n > 0, jnp.inf, w_n), "per_step": traj.work, "finite": w_n}

    out = jt.frozen_ensemble_mean(model, RHO0, key, N_CONFIGS, N, observable, chunk_size=32)
    ref = {"inf": np.where(w > 0, np.inf, w), "finite": w}
    for name, values in ref.items():
        want_mean, want_se = _numpy_mean_and_stderr(values)
        _assert_like_numpy(out.mean[name], want_mean, rtol=1e-11)
        _assert_like_numpy(out.stderr[name], want_se, rtol=1e-9)
    assert out.mean["per_step"].shape == (N,) and np.all(np.isfinite(out.mean["per_step"]))


def test_a_nan_leaf_of_frozen_ensemble_mean_is_named_in_a_warning():
    """A leaf that is NaN in some configurations has a NaN mean (NumPy's) and a RuntimeWarning names it, not
    the finite leaf beside it."""
    model, key = _model(), jax.random.key(11)
    w = _total_work(model, RHO0, N, np.arange(N_CONFIGS), key=key)

    def observable(traj):
        w_n = jnp.sum(traj.work)
        return {"bad": jnp.where(w_n > 0, jnp.nan, w_n), "finite": w_n}

    with pytest.warns(
        RuntimeWarning,
        match=r"frozen_ensemble_mean: the mean of observable 'observable' "
        r"\(leaves \['bad'\]\) is NaN",
    ) as caught:
        out = jt.frozen_ensemble_mean(model, RHO0, key, N_CONFIGS, N, observable, chunk_size=32)
    assert len([c for c in caught if issubclass(c.category, RuntimeWarning)]) == 1
    assert np.any(w > 0) and np.isnan(out.mean["bad"])
    np.testing.assert_allclose(out.mean["finite"], w.mean(), rtol=1e-11)


def test_an_infinite_padding_configuration_never_enters_the_mean():
    """A configuration p ≥ n_configs, computed only as padding of the last chunk of 16, would be +∞; the
    configurations 0…n−1 are finite, so the mean and its gradient are theirs, finite (a guard: the old
    product of the padding by a zero weight, 0·∞ = NaN, passed only through XLA's rewrite of it)."""
    model = _model()
    w = _total_work(model, RHO0, N, np.arange(128))
    # the least n whose last chunk's padding holds a W_N above every counted one
    n = next(k for k in range(17, 128) if k % 16 and w[k : -(-k // 16) * 16].max() > w[:k].max())
    threshold = 0.5 * float(w[n : -(-n // 16) * 16].max() + w[:n].max())  # above every counted W_N
    f = lambda rho, w_n, q_n: jnp.where(w_n >= threshold, jnp.inf, w_n)
    out = jt.ensemble_mean(model, RHO0, N, n, observable=f, chunk_size=16, stderr=True)
    want_mean, want_se = _numpy_mean_and_stderr(w[:n])
    np.testing.assert_allclose(out.mean, want_mean, rtol=1e-11)
    np.testing.assert_allclose(out.stderr, want_se, rtol=1e-9)
    grad = jax.grad(lambda m: jt.ensemble_mean(m, RHO0, N, n, observable=f, chunk_size=16))(model)
    assert np.isfinite(grad.theta) and np.isfinite(grad.distribution.sigma)


def test_merges_of_infinite_means_follow_the_pooled_values():
    """The host merge of the engine (moments and central sums to 4th order) against NumPy's mean of the
    pooled values of two chunks; the spread of a sample with ∞ is NaN."""
    cases = [([1.0, 2.0], [np.inf, 3.0]), ([np.inf], [np.inf, 1.0]), ([-np.inf, 0.0], [np.inf]), ([np.nan], [1.0])]
    for a_vals, b_vals in cases:
        a_vals, b_vals = np.asarray(a_vals), np.asarray(b_vals)

        def moments(v):
            with np.errstate(invalid="ignore"):
                mean = v.mean()
                dev = v - mean
            return Moments(np.int64(v.size), np.float64(mean), np.float64(np.sum(dev**2)))

        pooled = np.concatenate([a_vals, b_vals])
        with np.errstate(invalid="ignore"):
            want = pooled.mean()
        m = merge(moments(a_vals), moments(b_vals))
        _assert_like_numpy(m.mean, want)
        assert np.isnan(m.m2) and int(m.n) == pooled.size
        h = merge(
            HigherMoments(*moments(a_vals), np.float64(np.nan), np.float64(np.nan)),
            HigherMoments(*moments(b_vals), np.float64(np.nan), np.float64(np.nan)),
        )
        _assert_like_numpy(h.mean, want)
        assert np.isnan(h.m2) and np.isnan(h.m4)


def _cold_work_model(beta):
    # a cold reservoir (βg0 ≥ 10³: its excited population e^{−βg} is 0 in float64) and an excited
    # system: W_N = g0 Σ δ_r × (population moved), negative for δ < 0, independent of β here
    return jt.InhomogeneousReservoir(2, beta=beta, g0=1.0, theta=0.6, distribution=jt.Gaussian(0.3))


EXCITED = jnp.diag(jnp.array([0.0, 1.0])).astype(jnp.complex128)


def test_engine_exp_minus_beta_work_that_overflows_is_infinite():
    """⟨e^{−βW_N}⟩ where e^{−βW_N} exceeds float64 in some configurations: +∞ with a NaN standard error
    (NumPy's mean of the same values), not NaN, for every chunking."""
    n, steps = 200, 3
    w = _total_work(_cold_work_model(1e3), EXCITED, steps, np.arange(n))
    beta = 800.0 / float(np.percentile(-w, 90))  # βW_N < −800 in 10 % of configurations: e^{800} = ∞
    w = _total_work(_cold_work_model(beta), EXCITED, steps, np.arange(n))
    assert np.all(np.abs(beta * w + 709.78) > 1.0)  # no value at the edge of float64's range
    with np.errstate(over="ignore"):
        values = np.exp(-beta * w)
    assert np.isinf(values).any() and np.isfinite(values).any()
    want_mean, want_se = _numpy_mean_and_stderr(values)
    for chunk_size in (None, 64, 200):
        res = jt.ensemble(_cold_work_model(beta), EXCITED, steps, n, chunk_size=chunk_size, alphas=())
        _assert_like_numpy(res.mean_exp_minus_beta_work, want_mean)
        _assert_like_numpy(res.stderr_exp_minus_beta_work, want_se)


def test_engine_padding_configuration_never_enters_exp_minus_beta_work():
    """Only a configuration p ≥ n_configs (padding of the last chunk of 64: 16 per device on 4 devices)
    has e^{−βW_N} = ∞: the engine's ⟨e^{−βW_N}⟩ and its standard error are those of configurations
    0…n−1. The largest counted e^{−βW_N} is near
    float64's largest number, so the squared deviations overflow, in NumPy as in the engine: the
    standard error is +∞ (a device whose configurations were all padding made it NaN: ∞·0 in Chan's
    update with an empty side)."""
    steps, n = 3, 65  # configurations 65…127 are padding of the second chunk
    # the first seed where the least W_N of configurations 0…127 is one of the padding
    seed = next(
        s for s in range(20) if np.argmin(_total_work(_cold_work_model(1e3), EXCITED, steps, range(128), s)) >= n
    )
    w = _total_work(_cold_work_model(1e3), EXCITED, steps, np.arange(128), seed)
    w_pad, w_min = float(w[n:].min()), float(w[:n].min())
    beta = 2 * 709.78 / (abs(w_pad) + abs(w_min))  # e^{−βW_N} overflows there, for no counted one
    w = _total_work(_cold_work_model(beta), EXCITED, steps, np.arange(128), seed)
    assert -beta * w[n:].min() > 709.79 and -beta * w[:n].min() < 709.77
    want_mean, want_se = _numpy_mean_and_stderr(np.exp(-beta * w[:n]))
    cpus = jax.devices("cpu")  # the suite's 4 CPU devices, also where the default backend is an accelerator
    res = jt.ensemble(_cold_work_model(beta), EXCITED, steps, n, seed, chunk_size=64, alphas=(), devices=cpus)
    assert res.info["chunk_size"] == 64 and res.info["n_devices"] == 4
    np.testing.assert_allclose(res.mean_exp_minus_beta_work, want_mean, rtol=1e-12)
    np.testing.assert_allclose(res.stderr_exp_minus_beta_work, want_se, rtol=1e-9)


def test_engine_divergence_of_a_state_without_full_support_is_infinite():
    """D_α(ρ‖τ_S) for α < 0 of a state with a zero population is +∞ (p^α = ∞): with θ = 0 every
    configuration keeps the ground state, so every step's frozen mean is +∞ and its variance NaN
    (before: +∞ at r = 0 from the host, NaN after, from the chunk merges)."""
    model = _model(beta=2.0, theta=0.0)
    ground = jnp.diag(jnp.array([1.0, 0.0])).astype(jnp.complex128)
    alphas = (-0.5, 0.5, 2.0)
    res = jt.ensemble(model, ground, 4, 150, alphas=alphas)
    # reference: the closed form sgn(α)/(α − 1) log Σ p^α q^{1−α} on p = (1, 0), q = τ_S's populations
    q = np.exp(-2.0 * np.array([-0.5, 0.5]))
    q /= q.sum()
    with np.errstate(divide="ignore"):
        p = np.array([1.0, 0.0])
        want = [np.sign(a) / (a - 1) * np.log(np.sum(p**a * q ** (1 - a))) for a in alphas]
    assert np.isposinf(want[0]) and np.all(np.isfinite(want[1:]))
    for r in range(5):
        _assert_like_numpy(res.mean_divergence[r], want, rtol=1e-12)
        assert np.isnan(res.var_divergence[r, 0]) and np.all(np.abs(res.var_divergence[r, 1:]) < 1e-28)


@pytest.mark.parametrize("d", [2, 3])
def test_accelerator_program_divergence_that_is_infinite(d, monkeypatch):
    """The accelerators' chunk program (one shifted reduction per step, run on CPU devices) with D_α = +∞
    in every configuration (α = −0.5, θ = 0, ground state): +∞ at every step, as the CPU program, not
    NaN (the shift K = ∞ made every deviation ∞ − ∞)."""
    from jaxthermo.ensemble import _engine as engine

    monkeypatch.setattr(engine, "_GPU_PROGRAM_ON_CPU", True)
    monkeypatch.setattr(engine, "_TILE_KERNEL", False)  # XLA's program (the Pallas kernel is GPU code)
    ground = jnp.zeros((d, d), jnp.complex128).at[0, 0].set(1.0)
    res = jt.ensemble(_model(beta=2.0, theta=0.0, d=d), ground, 3, 100, alphas=(-0.5, 2.0))
    assert np.all(np.isposinf(res.mean_divergence[:, 0])) and np.all(np.isnan(res.var_divergence[:, 0]))
    assert np.all(np.isfinite(res.mean_divergence[:, 1]))


@pytest.mark.parametrize("complex_dtype", [jnp.complex128, jnp.complex64])
def test_frozen_ensemble_mean_of_boolean_and_integer_leaves(complex_dtype):
    """An indicator's mean is the fraction of configurations (P(W_N > 0)) and a count's its average, in
    the precision of ρ0: a boolean leaf raised a TypeError, an integer one gave float64 in a float32
    run. Reference: NumPy over the reference route's W_N."""
    model, key = _model(), jax.random.key(2)
    w = _total_work(model, RHO0, N, np.arange(N_CONFIGS), key=key)
    rho0 = RHO0.astype(complex_dtype)

    def observable(traj):
        w_n = jnp.sum(traj.work)
        return {"positive": w_n > 0, "n_positive": jnp.sum(traj.work > 0)}

    out = jt.frozen_ensemble_mean(model, rho0, key, N_CONFIGS, N, observable, chunk_size=32)
    rdt = np.dtype(jnp.real(rho0).dtype)
    work = np.asarray(
        jax.vmap(lambda dl: jt.trajectory(model, RHO0, dl, store_states=False).work)(
            sample_chunk(model.distribution, key, jnp.arange(N_CONFIGS, dtype=jnp.uint32), N, jnp.float64)
        )
    )
    assert 0 < (w > 0).mean() < 1
    for name, values in (("positive", w > 0), ("n_positive", (work > 0).sum(axis=1))):
        mean, se = _numpy_mean_and_stderr(values.astype(np.float64))
        assert out.mean[name].dtype == rdt and out.stderr[name].dtype == rdt
        np.testing.assert_allclose(out.mean[name], mean, rtol=1e-6 if rdt == np.float32 else 1e-14)
        np.testing.assert_allclose(out.stderr[name], se, rtol=1e-5 if rdt == np.float32 else 1e-12)
