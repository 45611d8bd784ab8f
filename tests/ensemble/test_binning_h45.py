"""Histogram bins agree with the edges the result reports (docs/ensemble.md, reductions).

The reference is NumPy's ``np.searchsorted(edges, x, side="right")`` on the same values and edges
(slot 0 below the first edge, k + 1 for e_k ≤ x < e_{k+1}, n + 1 at or above the last edge and for
NaN, which NumPy sorts after +∞), and ``np.histogram`` for the interior counts. The old floor formula
⌊(x − lo)/(hi − lo)·n⌋ put about one value in five within an ulp of an interior edge into the
neighbouring bin.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._statistics import bin_index, chunk_counts, uniform_edges

DTYPES = (np.float32, np.float64)


def _adversarial(edges, dtype, rng, n_random=300):
    """The edges, their neighbours one ulp either side, uniform draws, NaN and ±∞, in ``dtype``."""
    up, down = np.nextafter(edges, np.inf, dtype=dtype), np.nextafter(edges, -np.inf, dtype=dtype)
    draws = rng.uniform(edges[0], edges[-1], n_random)
    return np.concatenate([edges, up, down, draws, [np.nan, np.inf, -np.inf]]).astype(dtype)


def _slots(x, edges):
    e = jnp.asarray(edges)
    return np.asarray(jax.jit(bin_index, static_argnums=3)(jnp.asarray(x), e[0], e[-1], edges.size - 1, e))


@pytest.mark.parametrize("dtype", DTYPES)
def test_slots_match_searchsorted_at_edges(dtype):
    rng = np.random.default_rng(45)
    wrong_by_formula = 0
    for _ in range(60):
        n = int(rng.integers(1, 130))
        lo = rng.normal() * 10.0 ** rng.uniform(-3, 3)
        hi = lo + abs(lo) * 10.0 ** rng.uniform(-3, 1) + 1e-3
        edges = uniform_edges(lo, hi, n, dtype)
        assert edges.dtype == dtype and np.array_equal(edges, np.linspace(lo, hi, n + 1, dtype=dtype))
        x = _adversarial(edges, dtype, rng)
        expected = np.searchsorted(edges, x, side="right")
        np.testing.assert_array_equal(_slots(x, edges), expected)
        # the floor formula alone, in the dtype (the old bin_index): wrong at some of these values
        with np.errstate(invalid="ignore"):
            guess = np.floor((x - edges[0]) / (edges[-1] - edges[0]) * dtype(n))
        inside = (x >= edges[0]) & (x < edges[-1])
        wrong_by_formula += int(np.sum(inside & (np.clip(guess, 0, n - 1) + 1 != expected)))
    assert wrong_by_formula > 0  # the values are adversarial for the old formula


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["scatter", "compare"])
def test_chunk_counts_match_np_histogram(dtype, method):
    rng = np.random.default_rng(7)
    edges = uniform_edges(-0.37, 0.91, 50, dtype)
    x = _adversarial(edges, dtype, rng, 2000)
    mask = np.ones(x.size, bool)
    mask[::7] = False  # padding rows count nowhere
    counts = np.asarray(
        jax.jit(chunk_counts, static_argnums=3)(jnp.asarray(x), jnp.asarray(mask), jnp.asarray(edges), method)
    )
    kept = x[mask]
    inside = kept[(kept >= edges[0]) & (kept < edges[-1])]  # np.histogram closes its last bin: the last edge left out
    np.testing.assert_array_equal(counts[1:-1], np.histogram(inside, bins=edges)[0])
    assert counts[0] == np.sum(kept < edges[0])
    assert counts[-1] == np.sum(kept >= edges[-1]) + np.sum(np.isnan(kept))  # NaN: the overflow
    assert counts.sum() == mask.sum()


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_goes_to_overflow_not_bin_zero(dtype):
    edges = uniform_edges(-1.0, 1.0, 8, dtype)
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, edges[0], edges[-1]], dtype)
    np.testing.assert_array_equal(_slots(x, edges), [9, 9, 9, 0, 1, 9])
    assert np.array_equal(np.searchsorted(edges, x, side="right"), [9, 9, 9, 0, 1, 9])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["scatter", "compare"])
def test_chunk_counts_put_nan_in_the_overflow(dtype, method):
    """The old formula cast ⌊NaN⌋ to an integer and clipped it into the first bin."""
    edges = uniform_edges(-1.0, 1.0, 8, dtype)
    x = np.array([np.nan, 0.1, np.nan, -2.0, 3.0, np.nan], dtype)
    mask = np.array([True, True, True, True, True, False])
    counts = np.asarray(
        jax.jit(chunk_counts, static_argnums=3)(jnp.asarray(x), jnp.asarray(mask), jnp.asarray(edges), method)
    )
    expected = np.bincount(np.searchsorted(edges, x[mask], side="right"), minlength=10)
    np.testing.assert_array_equal(counts, expected)
    assert counts[-1] == 3 and counts[1:-1].sum() == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_unresolved_ranges_are_widened_and_binned_exactly(dtype):
    """A span of ±10⁻⁶·c (the default edges of a run whose values are all c) is below float32's
    resolution at 64 bins: np.linspace rounds edges onto each other, and the floor guess is several
    bins off. The widened edges are strictly increasing and bin exactly."""
    c, n = 5.0, 64
    raw = np.linspace(c - 1e-6 * c, c + 1e-6 * c, n + 1, dtype=dtype)
    edges = uniform_edges(c - 1e-6 * c, c + 1e-6 * c, n, dtype)
    if dtype == np.float32:
        assert np.any(np.diff(raw) == 0) and edges[0] < raw[0] and edges[-1] > raw[-1]
        # on the raw edges one ±1 correction of the guess is not enough: the widening is needed
        x = _adversarial(raw, dtype, np.random.default_rng(3))
        assert np.any(_slots(x, raw) != np.searchsorted(raw, x, side="right"))
    else:  # float64 resolves it: the stated range, untouched
        np.testing.assert_array_equal(edges, raw)
    assert np.all(np.diff(edges) > 0)
    spacing = np.spacing(np.abs(edges).max())
    assert np.diff(edges).min() >= 7 * spacing  # ≥ 8 ulps of the stated span per bin, to rounding
    x = _adversarial(edges, dtype, np.random.default_rng(3))
    np.testing.assert_array_equal(_slots(x, edges), np.searchsorted(edges, x, side="right"))


def test_too_many_bins_for_float32_refused():
    with pytest.raises(ValueError, match="n_bins"):
        uniform_edges(0.0, 1.0, 2**21, np.float32)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ensemble_histograms_put_an_exact_edge_value_in_the_bin_above(dtype):
    """kind="temperature" does no work: every W_r and W_N is exactly 0. On the range (−1.5, 1.2) with
    27 bins, edge 15 is exactly 0 in float64 and float32, where the floor formula gives bin 14."""
    lo, hi, n = -1.5, 1.2, 27
    edges = np.linspace(lo, hi, n + 1).astype(dtype)
    k = int(np.flatnonzero(edges == 0)[0])
    formula = int(np.floor((0 - edges[0]) / (edges[-1] - edges[0]) * np.dtype(dtype).type(n)))
    assert formula == k - 1  # the defect's precondition
    model = jt.InhomogeneousReservoir(
        2, beta=1.0, g0=1.0, theta=0.3, kind="temperature", distribution=jt.Gaussian(0.05)
    )
    rho0 = jnp.asarray(jt.thermal_state(2, 1.0, 1.0)).astype(dtype)
    res = jt.ensemble(
        model, rho0, 5, 40, work_range=(lo, hi), collision_work_range=(lo, hi), work_bins=n, collision_work_bins=n
    )
    for h, total in ((res.collision_work_histogram, 5 * 40), (res.work_histogram, 40)):
        np.testing.assert_array_equal(h.edges, edges)  # the reported edges, bit for bit
        expected = np.zeros(n, int)
        expected[np.searchsorted(h.edges, 0.0, side="right") - 1] = total
        np.testing.assert_array_equal(h.counts, expected)
        assert h.underflow == h.overflow == 0


def test_histogram_from_samples_counts_nan_as_overflow():
    values = np.array([0.1, 0.5, np.nan, 2.0, -1.0, 0.9])
    h = jt.Histogram.from_samples(values, bins=4, range=(0.0, 1.0))
    assert (h.underflow, h.overflow, int(h.counts.sum())) == (1, 2, 3)
    assert h.total == values.size


def test_an_unresolvable_user_range_is_refused_naming_it():
    """A range the user gives is reported as given, so one whose bins float32 cannot resolve is refused
    naming it (it was widened without a word); the default edges from the pilot are still widened."""
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    rho0 = jnp.asarray(jt.thermal_state(2, 1.0, 1.0)).astype(jnp.complex64)
    narrow = (5.0, 5.0 + 1e-5)  # 64 float32 bins need ≥ 8·64 ulps of 5 ≈ 2.4e-4
    assert np.linspace(*narrow, 65, dtype=np.float32)[1:].min() > 0  # a legal range otherwise
    with pytest.raises(ValueError, match="work_range=.*narrower than float32 resolves.*work_bins"):
        jt.ensemble(model, rho0, 3, 16, work_range=narrow)
    with pytest.raises(ValueError, match="collision_work_range=.*collision_work_bins"):
        jt.ensemble(model, rho0, 3, 16, collision_work_range=narrow)
    jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), 3, 16, work_range=narrow)  # float64 resolves it


def test_too_many_bins_names_the_engine_parameter():
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    rho0 = jnp.asarray(jt.thermal_state(2, 1.0, 1.0)).astype(jnp.complex64)
    with pytest.raises(ValueError, match="collision_work_bins=2097152"):
        jt.ensemble(model, rho0, 3, 16, collision_work_bins=2**21)
