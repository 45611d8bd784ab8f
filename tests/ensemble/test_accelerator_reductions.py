"""The GPU program's reductions, checked on CPU: one shifted reduction per step (``stacked``) and plain
sums (``folded_sums(False)``) give the statistics of the two-pass, folded CPU program to rounding;
and the memory-aware default chunk of an accelerator."""

import dataclasses
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import _statistics as statistics
from jaxthermo.ensemble._engine import default_chunk_size
from jaxthermo.ensemble._kernel import model_a_chunk
from jaxthermo.ensemble._statistics import folded_sums, leading_sum, moments_from_shifted_sums, shifted_sums
from tests.helpers import assert_same_chunk_statistics, random_state


def _exact_moments(x):
    """Mean and M2 of float64 ``x`` (n,) with correctly rounded sums (math.fsum)."""
    mean = math.fsum(x) / len(x)
    return mean, math.fsum((v - mean) ** 2 for v in x)


@pytest.mark.parametrize("variadic_rows", [32, 0])
@pytest.mark.parametrize("dtype, tol", [(jnp.float64, 1e-12), (jnp.float32, 2e-5)])
def test_shifted_sums_give_exact_moments(dtype, tol, variadic_rows, monkeypatch):
    """Rows with a mean far from zero (offset 10³ against spread 1, where Σx² − n·mean² would lose
    six digits) and a masked tail: mean and M2 from the shifted sums against exact sums of the
    valid entries in float64, by the variadic reduce and by the stacked rows; a chunk with no valid
    entry gives 0 and 0."""
    monkeypatch.setattr(statistics, "_VARIADIC_ROWS", variadic_rows)
    rng = np.random.default_rng(7)
    b, valid = 5000, 4871
    rows = np.stack([1e3 + rng.normal(size=b), rng.normal(size=b) * 1e-3, rng.exponential(size=b)])
    rows[:, valid:] = 1e30  # the masked tail must not enter
    mask = jnp.arange(b) < valid
    x = jnp.asarray(rows, dtype)
    mean, m2 = moments_from_shifted_sums(jnp.sum(mask), jax.jit(lambda r, m: shifted_sums(r, m))(list(x), mask))
    for k in range(rows.shape[0]):
        exact_mean, exact_m2 = _exact_moments(np.asarray(x[k, :valid], np.float64))
        assert abs(float(mean[k]) - exact_mean) <= tol * (abs(exact_mean) + math.sqrt(exact_m2 / valid))
        assert abs(float(m2[k]) - exact_m2) <= tol * exact_m2
    mean0, m20 = moments_from_shifted_sums(0, shifted_sums(list(x), jnp.zeros(b, bool)))
    np.testing.assert_array_equal(mean0, 0)
    np.testing.assert_array_equal(m20, 0)


def test_plain_sums_inside_folded_sums_false():
    """``leading_sum`` is one ``jnp.sum`` while tracing inside ``folded_sums(False)`` (the fold is
    back outside), and both agree to rounding. (Fresh lambdas: traces are cached per function.)"""
    y = jnp.asarray(np.random.default_rng(3).normal(size=(3001, 2)))
    with folded_sums(False):
        plain = str(jax.make_jaxpr(lambda v: leading_sum(v))(y))
        summed = jax.jit(lambda v: leading_sum(v))(y)
    folded = str(jax.make_jaxpr(lambda v: leading_sum(v))(y))
    assert "reduce_sum" in plain and "slice" not in plain and "slice" in folded
    np.testing.assert_array_equal(summed, jnp.sum(y, axis=0))
    np.testing.assert_allclose(summed, jax.jit(lambda v: leading_sum(v))(y), rtol=1e-13)


CASES = [  # (d, dtype, coherent, divergence_every)
    (2, jnp.float64, True, 1),
    (2, jnp.float64, False, 1),
    (2, jnp.float32, True, 1),
    (3, jnp.float64, True, 1),
    (3, jnp.float64, True, 4),
    (3, jnp.float32, False, 1),
    (4, jnp.float64, True, 4),  # 25 rows (16 of the state, ._fused), a variadic reduce
    (6, jnp.float64, True, 4),  # 42 rows: the stacked reduction rather than the variadic one
]


def _chunk(d, dtype, coherent, every, stacked, folded):
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = random_state(d, np.random.default_rng(d))
    if not coherent:
        rho0 = np.diag(np.diag(rho0))
    rho0 = jnp.asarray(rho0, jnp.complex128 if dtype == jnp.float64 else jnp.complex64)
    b, n_steps = 1000, 12
    idx = jnp.arange(b, dtype=jnp.uint32)
    edges = jnp.linspace(-0.1, 0.1, 17, dtype=dtype)
    kernel = partial(
        model_a_chunk,
        n_steps=n_steps,
        alphas=(1.0, 2.0, float("inf")),
        coherent=coherent,
        histogram_method="compare",
        divergence_every=every,
        stacked=stacked,
    )
    with folded_sums(folded):
        return jax.jit(kernel)(model, rho0, jax.random.key(2), idx, idx < b - 37, edges, edges)


@pytest.mark.parametrize("d, dtype, coherent, every", CASES)
def test_stacked_kernel_equals_two_pass_kernel(d, dtype, coherent, every):
    """The accelerator program (stacked shifted moments, plain sums) against the CPU program
    (two passes per quantity, folded sums) on the same chunk, with a masked tail: the same
    statistics, shapes and dtypes; counts equal; the moments equal to rounding of the sums: in
    float64 within 1e-11, in float32 within 2e-5 of the field's scale (its largest value in the
    float64 program, plus the data's spread σ for means and n σ³ for third central moments)."""
    ref = _chunk(d, dtype, coherent, every, stacked=False, folded=True)
    got = _chunk(d, dtype, coherent, every, stacked=True, folded=False)
    exact = ref if dtype == jnp.float64 else _chunk(d, jnp.float64, coherent, every, stacked=False, folded=True)
    assert_same_chunk_statistics(ref, got, exact, 1e-11 if dtype == jnp.float64 else 2e-5)


def test_accelerator_default_chunk_follows_device_memory():
    """On an accelerator the default chunk holds memory/32 (configuration, collision) pairs per device
    (at most 2²² configurations, a multiple of 64); 2²⁸ pairs where the memory is unknown; CPU unchanged."""
    h200 = 107 * 2**30  # XLA's default limit on a 141 GB card: 75 %
    assert default_chunk_size(1000, 1, 1, "gpu", h200) == (h200 // 32 // 1000) // 64 * 64
    assert default_chunk_size(100, 2, 1, "gpu", h200) == 2 * 2**22
    assert default_chunk_size(1000, 1, 1, "gpu", None) == (2**28 // 1000) // 64 * 64
    assert default_chunk_size(1000, 1, 1, "gpu", 16 * 2**30) == (16 * 2**30 // 32 // 1000) // 64 * 64
    assert default_chunk_size(100, 2, 1, "cpu", h200) == default_chunk_size(100, 2) == 2 * 10_432


@pytest.mark.parametrize(
    "d, coherent, wrt", [(2, True, None), (2, False, None), (3, True, None), (2, True, ("theta", "sigma"))]
)
def test_engine_gpu_program_equals_cpu_program(d, coherent, wrt, monkeypatch):
    """The whole engine with the accelerators' chunk program forced onto the CPU devices (plain sums,
    one shifted reduction per step, comparison histograms) against the CPU program: every field of
    the result, and of the sensitivities, to 1e-11 of its scale; histograms identical."""
    from jaxthermo.ensemble import _engine as engine

    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = random_state(d, np.random.default_rng(11))
    if not coherent:
        rho0 = np.diag(np.diag(rho0))
    kwargs = dict(seed=5, chunk_size=1024, wrt=wrt, devices=jax.devices("cpu"))  # CPU devices on any machine
    ref = jt.ensemble(model, rho0, 15, 3000, **kwargs)
    monkeypatch.setattr(engine, "_GPU_PROGRAM_ON_CPU", True)
    got = jt.ensemble(model, rho0, 15, 3000, **kwargs)
    pairs = [(ref, got)] + [(ref.sensitivity[k], got.sensitivity[k]) for k in (wrt or ())]
    differs = False  # another program ran: the sums are taken in another order, so some bits differ
    for a, b in pairs:
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if hasattr(x, "counts"):
                np.testing.assert_array_equal(x.counts, y.counts, err_msg=f.name)
                assert (x.underflow, x.overflow) == (y.underflow, y.overflow), f.name
            elif isinstance(x, np.ndarray) and x.dtype.kind in "fc" and x.size:
                finite = np.isfinite(x)
                np.testing.assert_array_equal(finite, np.isfinite(y), err_msg=f.name)
                scale = max(float(np.max(np.abs(x[finite]), initial=0.0)), 1e-300)
                diff = np.abs(np.where(finite, x, 0) - np.where(finite, y, 0))
                assert np.max(diff) <= 1e-11 * scale, f.name
                differs |= bool(np.any(diff > 0))
    assert differs
