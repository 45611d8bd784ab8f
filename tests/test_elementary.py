"""float64 inverse error function and normal draws in vectorisable arithmetic (jaxthermo._elementary).

Independent routes: SciPy's ``erfinv`` (Boost), JAX's own threefry bits and ``jax.random.normal``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erfinv

import jaxthermo as jt
from jaxthermo import _elementary
from jaxthermo._elementary import (
    _log64,
    _uniform_pm1,
    division_free,
    erf_inv,
    log,
    log_positive,
    normal_from_uniform32,
    standard_normal,
    standard_normal_columns,
    standard_normal_row,
    threefry2x32,
)
from jaxthermo._information import xlogx


def _ulps(a, ref):
    return np.abs(np.asarray(a) - ref) / np.spacing(np.abs(ref))


def test_log_of_the_unit_interval_within_one_ulp_of_numpy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 1, 200_000), 10.0 ** rng.uniform(-300, 0, 200_000)])
    x = np.concatenate([x, [1.0, 0.5, np.sqrt(0.5), np.nextafter(np.sqrt(0.5), 1), np.nextafter(1.0, 0)]])
    x = x[x > np.finfo(np.float64).tiny]
    ref = np.log(x)
    nonzero = ref != 0
    assert np.all(np.asarray(jax.jit(_log64)(x))[~nonzero] == 0.0)
    assert _ulps(jax.jit(_log64)(x)[nonzero], ref[nonzero]).max() <= 1.0


def test_log_over_the_float64_range_special_values_and_derivative():
    rng = np.random.default_rng(2)
    x = 10.0 ** rng.uniform(-307, 308, 200_000)
    ref = np.log(x)
    assert _ulps(jax.jit(log)(x), ref).max() <= 1.0
    special = jnp.array([0.0, -1.0, -jnp.inf, jnp.inf, jnp.nan, 1.0])
    np.testing.assert_array_equal(np.asarray(log(special)), np.asarray(jnp.log(special)))
    for x0 in (0.3, 2.0, 1e-200):  # custom JVP 1/x, and x log x's derivative against central differences
        assert float(jax.grad(log)(x0)) == pytest.approx(1 / x0, rel=1e-15)
    h = 1e-6
    fd = (0.3 + h) * np.log(0.3 + h) - (0.3 - h) * np.log(0.3 - h)
    assert float(jax.grad(lambda v: xlogx(v, log))(0.3)) == pytest.approx(fd / (2 * h), rel=1e-9)
    x32 = jnp.linspace(0.1, 3.0, 5, dtype=jnp.float32)
    assert log(x32).dtype == jnp.float32


def test_log_positive_is_log_on_positive_normals_and_clamps_below():
    """log_positive: the same bits as log on positive normal floats (within 1 ulp of NumPy); below
    the smallest normal (and ≤ 0) it is log(tiny); NaN and +∞ pass through; derivative 1/x."""
    rng = np.random.default_rng(4)
    x = np.concatenate([10.0 ** rng.uniform(-307, 308, 100_000), rng.uniform(0, 1, 100_000)])
    x = x[x >= np.finfo(np.float64).tiny]
    got = np.asarray(jax.jit(log_positive)(x))
    np.testing.assert_array_equal(got, np.asarray(jax.jit(log)(x)))
    assert _ulps(got, np.log(x)).max() <= 1.0
    tiny = np.finfo(np.float64).tiny
    special = jnp.array([tiny / 4, 0.0, -1.0, jnp.inf, jnp.nan])
    out = np.asarray(log_positive(special))
    np.testing.assert_allclose(out[:3], np.log(tiny), rtol=1e-15)
    assert out[3] == np.inf and np.isnan(out[4])
    assert float(jax.grad(log_positive)(0.3)) == pytest.approx(1 / 0.3, rel=1e-15)
    assert log_positive(jnp.float32(0.5)).dtype == jnp.float32


def test_erf_inv_float64_agrees_with_scipy_over_the_whole_interval():
    rng = np.random.default_rng(1)
    centre = rng.uniform(-1, 1, 300_000)
    tails = np.sign(rng.uniform(-1, 1, 100_000)) * (1 - 10.0 ** rng.uniform(-16, -1, 100_000))  # w up to 37
    x = np.concatenate([centre, tails, [0.0, 1e-300, -0.5, 0.9990234375]])
    x = x[np.abs(x) < 1]
    ours = np.asarray(jax.jit(erf_inv)(x))
    ref = erfinv(x)
    nonzero = ref != 0
    assert _ulps(ours[nonzero], ref[nonzero]).max() <= 8  # all three branches of Giles' approximation
    assert np.all(ours[~nonzero] == 0.0)
    ends = jnp.array([-1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(erf_inv(ends)), np.asarray(jax.lax.erf_inv(ends)))
    # JAX's own float64 erf_inv (the reference route of jax.random.normal) in its accurate range
    mid = np.abs(x) < 0.9
    np.testing.assert_allclose(ours[mid], np.asarray(jax.lax.erf_inv(x[mid])), rtol=1e-14, atol=0)


def test_division_free_log_and_erf_inv_keep_their_accuracy_without_a_division():
    """Inside ``division_free`` (how the GPU tile kernel traces them) log, log_positive and erf_inv
    contain no division and keep the bounds of the ordinary versions: 1 ulp of NumPy's log, 8 ulp of
    SciPy's erfinv. The reciprocal's linear seed has the least relative error over the reduced range
    (it equioscillates: ±1.49·10⁻² at both ends and the midpoint); its Newton steps reach rounding."""
    y = np.linspace(1 + np.sqrt(0.5), 1 + np.sqrt(2), 100_001)
    seed_error = 1 - y * (_elementary._RECIP_C0 + _elementary._RECIP_C1 * y)
    assert seed_error[0] == pytest.approx(seed_error[-1], rel=1e-12)
    assert seed_error.min() == pytest.approx(-seed_error[0], rel=1e-8)
    assert 0.0149 < seed_error[0] < 0.01494  # a worse linear seed would need a third Newton step
    recip = np.asarray(jax.jit(lambda v: _elementary._reciprocal_of_two_plus(v))(y))
    assert np.abs(recip * y - 1).max() <= 2.5e-16

    rng = np.random.default_rng(5)
    x = np.concatenate([10.0 ** rng.uniform(-307, 308, 200_000), rng.uniform(0, 1, 200_000)])
    x = np.concatenate([x, 1 + rng.uniform(-1e-3, 1e-3, 50_000), [1.0, np.sqrt(0.5), np.sqrt(2.0)]])
    u = np.concatenate([rng.uniform(-1, 1, 200_000), 1 - 10.0 ** rng.uniform(-16, -1, 50_000)])
    functions = lambda v, w: (log(v), log_positive(v), erf_inv(w))
    assert " div " in str(jax.make_jaxpr(functions)(x, u))  # the ordinary route divides
    with division_free():
        assert " div " not in str(jax.make_jaxpr(lambda v, w: functions(v, w))(x, u))
        ours, ours_positive, ours_erf_inv = (np.asarray(a) for a in jax.jit(lambda v, w: functions(v, w))(x, u))
    ref = np.log(x)
    nonzero = ref != 0
    assert _ulps(ours[nonzero], ref[nonzero]).max() <= 1.0 and np.all(ours[~nonzero] == 0.0)
    np.testing.assert_array_equal(ours_positive, ours)
    assert _ulps(ours_erf_inv, erfinv(u)).max() <= 8


def test_float32_transform_of_float64_uniforms_within_five_float32_ulp_of_scipy():
    """``normal_from_uniform32`` (the GPU float32 kernel's δ from the float64 stream of uniforms): within 5 float32
    ulp of √2 erfinv(u) (SciPy, float64) over the centre, Giles's single-precision tail (w ≥ 5) and beyond what
    float32 resolves (1 − |u| down to 2⁻⁵³, w up to 37, double's far tail); ``standard_normal_row(..., float32)``
    within 5 float32 ulp of the float64 row (which the float32 CPU program rounds to float32: ½ ulp). Giles's
    float32 tail used beyond w = 16 was 10⁶ ulp off at 1 − |u| = 10⁻¹⁵."""
    rng = np.random.default_rng(7)
    centre = rng.uniform(-1, 1, 300_000)
    tails = np.sign(rng.uniform(-1, 1, 100_000)) * (1 - 2.0 ** -rng.uniform(1, 53, 100_000))
    u = np.concatenate([centre, tails, [np.nextafter(-1.0, 0.0), np.nextafter(1.0, 0.0), 0.0, -0.5]])
    exact = np.sqrt(2.0) * erfinv(u)
    ours = np.asarray(jax.jit(normal_from_uniform32)(u))
    assert ours.dtype == np.float32
    ulp32 = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    off = np.abs(ours.astype(np.float64) - exact) / ulp32
    assert off.max() <= 5.0, (off.max(), u[np.argmax(off)])
    assert off[300_000:400_000].max() <= 5.0 and np.abs(exact[300_000:400_000]).max() > 8.0  # w up to 37
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(9), i))(jnp.arange(500, dtype=jnp.uint32))
    data = jax.random.key_data(keys)
    for r in (0, 3):
        row64 = np.asarray(jax.jit(standard_normal_row)(data[:, 0], data[:, 1], jnp.uint32(r)))
        row32 = jax.jit(lambda a, b, c: standard_normal_row(a, b, c, True, jnp.float32))(
            data[:, 0], data[:, 1], jnp.uint32(r)
        )
        assert row32.dtype == jnp.float32
        spacing = np.spacing(np.abs(row64).astype(np.float32)).astype(np.float64)
        assert (np.abs(np.asarray(row32, np.float64) - row64) / spacing).max() <= 5.0


def test_float32_columns_are_the_float64_uniforms_transformed_and_the_kernels_rows():
    """``standard_normal_columns(..., out_dtype=float32)`` (the float32 CPU program's δ): the transform of the very
    uniform numbers of the float64 columns (so within 5 float32 ulp of them), and within 1 float32 ulp of the GPU
    kernel's ``standard_normal_row(..., float32)`` of the same counters (the same arithmetic; a logarithm's last
    bit may differ between compiled programs); an rbg key or a float32 draw keeps its own stream."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(5), i))(jnp.arange(700, dtype=jnp.uint32))
    n = 33
    cols64 = np.asarray(standard_normal_columns(keys, n, jnp.float64))
    cols32 = jax.jit(lambda k: standard_normal_columns(k, n, jnp.float64, out_dtype=jnp.float32))(keys)
    assert cols32.dtype == jnp.float32 and cols32.shape == (n, 700)
    spacing = np.spacing(np.abs(cols64).astype(np.float32)).astype(np.float64)
    off = np.abs(np.asarray(cols32, np.float64) - cols64) / spacing
    assert off.max() <= 5.0 and off.max() > 0.5  # not the float64 draws rounded (those are within ½ ulp)
    lo = np.nextafter(-1.0, 0.0)
    u = jax.vmap(lambda k: jax.random.uniform(k, (n,), jnp.float64, lo, 1.0), out_axes=1)(keys)
    np.testing.assert_array_equal(np.asarray(cols32), np.asarray(jax.jit(normal_from_uniform32)(u)))
    data = jax.random.key_data(keys)
    row = jax.jit(lambda a, b, c: standard_normal_row(a, b, c, True, jnp.float32))
    for r in (0, 17, n - 1):
        kernel = np.asarray(row(data[:, 0], data[:, 1], jnp.uint32(r)), np.float64)
        ulp = np.spacing(np.abs(np.asarray(cols32[r])))
        assert (np.abs(kernel - np.asarray(cols32[r], np.float64)) / ulp).max() <= 1.0
    rbg = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(3, impl="rbg"), i))(jnp.arange(5, dtype=jnp.uint32))
    np.testing.assert_array_equal(
        standard_normal_columns(rbg, n, jnp.float64, out_dtype=jnp.float32),
        standard_normal_columns(rbg, n, jnp.float64),
    )


def test_erf_inv_other_dtypes_use_lax():
    x = jnp.linspace(-0.9, 0.9, 7, dtype=jnp.float32)
    y = erf_inv(x)
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(y), np.asarray(jax.lax.erf_inv(x)))


def test_threefry_bits_and_uniforms_are_jax_random_bit_for_bit():
    key = jax.random.key(42)
    for i in (0, 7, 2**31 + 5):
        k = jax.random.fold_in(key, i)
        data = jax.random.key_data(k)
        c = jnp.arange(257, dtype=jnp.uint32)
        hi, lo = threefry2x32(data[0], data[1], jnp.zeros_like(c), c)
        bits = (np.asarray(hi).astype(np.uint64) << np.uint64(32)) | np.asarray(lo).astype(np.uint64)
        np.testing.assert_array_equal(bits, np.asarray(jax.random.bits(k, (257,), jnp.uint64)))
        lo_ = np.nextafter(-1.0, 0.0)
        np.testing.assert_array_equal(
            np.asarray(_uniform_pm1(data, c)), np.asarray(jax.random.uniform(k, (257,), jnp.float64, lo_, 1.0))
        )


@pytest.mark.parametrize("shape", [(), (1,), (7,), (100,), (3, 5)])
def test_standard_normal_is_jax_random_normal_to_rounding(shape):
    key = jax.random.fold_in(jax.random.key(3), 11)
    ours = np.asarray(standard_normal(key, shape, jnp.float64))
    ref = np.asarray(jax.random.normal(key, shape, jnp.float64))
    assert ours.shape == ref.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=2e-11, atol=0)


def test_standard_normal_under_vmap_and_jit_more_accurate_than_jax():
    """2·10⁶ draws, as the ensemble makes them: equal to jax.random.normal to 2·10⁻¹¹ relative, and
    within a few ulp of √2 erfinv(u) (SciPy) of the same uniforms, where JAX's is off by up to 10⁴ ulp."""
    key = jax.random.key(3)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(20_000, dtype=jnp.uint32))
    ours = np.asarray(jax.jit(jax.vmap(lambda k: standard_normal(k, (100,), jnp.float64)))(keys))
    jaxs = np.asarray(jax.vmap(lambda k: jax.random.normal(k, (100,), jnp.float64))(keys))
    lo = np.nextafter(-1.0, 0.0)
    u = np.asarray(jax.vmap(lambda k: jax.random.uniform(k, (100,), jnp.float64, lo, 1.0))(keys))
    exact = np.sqrt(2.0) * erfinv(u)
    np.testing.assert_allclose(ours, jaxs, rtol=2e-11, atol=0)
    assert _ulps(ours, exact).max() <= 8
    assert _ulps(jaxs, exact).max() > 100  # why the two differ: JAX's erf_inv near |u| = 1


@pytest.mark.parametrize("n", [1, 7, 100])
def test_standard_normal_columns_are_the_per_key_draws_bit_for_bit(n):
    """Column i of standard_normal_columns(keys, n) is standard_normal(keys[i], (n,)), exactly, under
    jit (odd n: the last counter pair is cut), and for float32 and rbg keys (the vmap fallback)."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(3), i))(jnp.arange(1000, dtype=jnp.uint32))
    cols = jax.jit(lambda k: standard_normal_columns(k, n, jnp.float64))(keys)
    per_key = jax.jit(jax.vmap(lambda k: standard_normal(k, (n,), jnp.float64)))(keys)
    assert cols.shape == (n, 1000)
    np.testing.assert_array_equal(np.asarray(cols), np.asarray(per_key).T)
    f32 = standard_normal_columns(keys[:5], n, jnp.float32)
    np.testing.assert_array_equal(f32, jax.vmap(lambda k: jax.random.normal(k, (n,), jnp.float32))(keys[:5]).T)
    rbg = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(3, impl="rbg"), i))(jnp.arange(5, dtype=jnp.uint32))
    np.testing.assert_array_equal(
        standard_normal_columns(rbg, n, jnp.float64), jax.vmap(lambda k: jax.random.normal(k, (n,)))(rbg).T
    )


def test_standard_normal_falls_back_to_jax_random_normal():
    key = jax.random.key(9)
    for dtype in (jnp.float32,):
        np.testing.assert_array_equal(
            np.asarray(standard_normal(key, (5,), dtype)), np.asarray(jax.random.normal(key, (5,), dtype))
        )
    rbg = jax.random.key(9, impl="rbg")
    np.testing.assert_array_equal(np.asarray(standard_normal(rbg, (5,))), np.asarray(jax.random.normal(rbg, (5,))))
    legacy = jax.random.PRNGKey(9)  # raw uint32 key data
    np.testing.assert_array_equal(
        np.asarray(standard_normal(legacy, (5,))), np.asarray(jax.random.normal(legacy, (5,), jnp.float64))
    )


def test_gaussian_distribution_draws_moments():
    """The Gaussian's draws (the ensemble's δ) have the law's mean, variance and fourth moment."""
    g = jt.Gaussian(0.05)
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(0), i))(jnp.arange(4000, dtype=jnp.uint32))
    x = np.asarray(jax.vmap(lambda k: g.sample(k, (100,)))(keys)).ravel() / 0.05
    n = x.size
    assert abs(x.mean()) < 5 / np.sqrt(n)
    assert abs(x.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(np.mean(x**4) - 3) < 5 * np.sqrt(96 / n)
