"""Streaming reducers: moments merged Chan-style and histograms with fixed edges (docs/ensemble.md).

A chunk of configurations is reduced on the device to :class:`Moments` (count, mean, sum of
squared deviations M2) and :class:`Counts`; chunks (and devices) are merged on the host with
Chan et al.'s pairwise update, so the result depends on the chunk size and the device count only
through rounding. Histogram counts over fixed edges add exactly. The host accumulates in float64
whatever the run's precision (:func:`merge`); the engine casts the merged statistics to the run's
dtype at the end (:func:`narrow`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax import lax

from .._trace_setting import TraceSetting


class Moments(NamedTuple):
    """Count ``n``, ``mean`` and ``m2 = Σ (x − mean)²`` of a sample (reduced over configurations)."""

    n: object
    mean: object
    m2: object


class HigherMoments(NamedTuple):
    """Count ``n``, ``mean`` and the central sums ``m2, m3, m4 = Σ (x − mean)^k`` of a sample."""

    n: object
    mean: object
    m2: object
    m3: object
    m4: object


class Counts(NamedTuple):
    """Histogram counts (..., n_bins + 2): underflow, the bins of the edges, overflow."""

    counts: object


def standard_error(var, n):
    """Standard error of a mean over ``n`` configurations from the unbiased sample variance: √(var/n)."""
    return np.sqrt(np.asarray(var) / n)


class MeansOverConfigurations:
    """Accessors shared by the ensemble result and its sensitivities: fields ``mean_x``/``var_x``
    over ``n_configs`` configurations, and the cumulative work whose last entry is W_N."""

    @property
    def mean_total_work(self):
        """Last entry of ``mean_cumulative_work``: ⟨W_N⟩ (for a sensitivity, its derivative)."""
        return self.mean_cumulative_work[-1]

    @property
    def var_total_work(self):
        """Last entry of ``var_cumulative_work``: Var(W_N) over configurations."""
        return self.var_cumulative_work[-1]

    def standard_error(self, name: str):
        """Standard error of ``mean_<name>`` (e.g. ``"work"``, ``"total_work"``, ``"divergence"``): √(var/n);
        ``stderr_<name>`` where that is what the result keeps (``"exp_minus_beta_work"``). ``ValueError``
        naming ``name`` for a mean without one (``"state"``, the mean-state functionals)."""
        var = getattr(self, f"var_{name}", None)
        if var is None and getattr(self, f"stderr_{name}", None) is not None:  # kept as such: ⟨e^{−βW_N}⟩
            return getattr(self, f"stderr_{name}")
        if var is None:  # was AttributeError: 'EnsembleResult' object has no attribute 'var_state'
            names = sorted(f[4:] for f in dir(type(self)) if f.startswith("var_")) + sorted(
                f[4:] for f in getattr(self, "__dataclass_fields__", {}) if f.startswith("var_")
            )
            raise ValueError(
                f"name={name!r}: no variance over configurations is kept for mean_{name}; "
                f"standard errors exist for {sorted(set(names))}"
            )
        return standard_error(var, self.n_configs)


# leading_sum folds by this factor until at most _LEAF rows are left
_FOLD, _LEAF = 8, 128
# whether leading_sum folds (CPU programs) or is one jnp.sum (accelerators); set while tracing
_FOLDED = TraceSetting("folded_sums", True)


def folded_sums(folded: bool):
    """While tracing inside this ``with`` block, :func:`leading_sum` folds (``True``, for CPU
    programs) or is one ``jnp.sum`` (``False``, for GPUs, where each fold is another kernel launch)."""
    return _FOLDED.set_to(folded)


def leading_sum(y):
    """Σ of ``y`` (B, ...) over its first axis: folded eightfold, ``y[:q] + y[q:2q] + … + y[7q:8q]``
    with q = B // 8, until at most 128 rows are left, then one reduction (the < 8 rows left over at
    a fold are summed apart and added at the end); inside ``folded_sums(False)`` one ``jnp.sum``.

    The same sum to rounding, in a blocked order (no less accurate than the sequential one). On CPU
    a fold is one elementwise loop that XLA vectorises, where its reduction over a long axis is not
    (per-step moments ×1.3–2 faster); on a GPU the folds are ×2 slower (benchmarks/RESULTS_ensemble.md).
    """
    if not _FOLDED.get():
        return jnp.sum(y, axis=0)
    rest = []
    while y.shape[0] > _LEAF:
        q = y.shape[0] // _FOLD
        if y.shape[0] > q * _FOLD:
            rest.append(jnp.sum(y[q * _FOLD :], axis=0))
        acc = y[:q]
        for j in range(1, _FOLD):
            acc = acc + y[j * q : (j + 1) * q]
        y = acc
    total = jnp.sum(y, axis=0)
    for r in rest:
        total = total + r
    return total


def chunk_moments(x, mask, second: bool = True):
    """Moments of ``x`` (B, ...) over its first axis, counting only rows where ``mask`` (B,) is set.

    Two passes (mean, then squared deviations) inside the chunk for accuracy; ``m2`` is None for
    complex ``x`` or when ``second`` is False (only the mean is kept, e.g. for the mean state).
    Rows outside ``mask`` (padding configurations, index ≥ n_configs) are selected out, not multiplied
    by a zero weight: 0·∞ is NaN, and the product was safe only because XLA's simplifier rewrites it
    into a select. Values of ±∞ give the float sum's mean (+∞, −∞, or NaN for both signs) and M2 NaN
    (:func:`merge`).
    """
    rows = mask.reshape(mask.shape + (1,) * (x.ndim - 1))
    n = jnp.sum(mask.astype(jnp.int64 if mask.dtype == jnp.int64 else jnp.int32))
    nf = jnp.maximum(n, 1).astype(x.dtype)
    mean = leading_sum(jnp.where(rows, x, 0)) / nf
    if not second or jnp.iscomplexobj(x):
        return Moments(n, mean, None)
    m2 = leading_sum(jnp.where(rows, (x - mean) ** 2, 0))
    return Moments(n, mean, m2)


def column_moments(x, mask):
    """:func:`chunk_moments` of real ``x`` (B, k), one (B,) reduction per column: on CPU faster than
    XLA's reduction over the leading axis of a (B, k) array (benchmarks/RESULTS_ensemble.md)."""
    cols = [chunk_moments(x[:, i], mask) for i in range(x.shape[1])]
    return Moments(cols[0].n, jnp.stack([c.mean for c in cols], -1), jnp.stack([c.m2 for c in cols], -1))


# shifted_sums: a variadic reduce up to this many rows, a reduction of the stacked rows above (a
# variadic reduce of 272 operands for d = 8 compiled in 87 s and ran ×0.7 as fast on an H200)
_VARIADIC_ROWS = 32


def sum_each(operands):
    """Σ over the first axis of each array of ``operands`` (equal-length (B,) arrays) in one variadic
    reduce: one GPU kernel, into which XLA fuses the computation of the operands."""
    zeros = tuple(jnp.zeros((), x.dtype) for x in operands)
    return lax.reduce(tuple(operands), zeros, lambda a, b: tuple(x + y for x, y in zip(a, b)), (0,))


def shifted_sums(rows, mask):
    """One reduction over the chunk for the moments of every row of ``rows`` (a list of k arrays (B,))
    (GPUs): the shift K = row[0] (configuration 0 of a chunk is always valid; 0 where it is ±∞ or
    NaN) and the shifted sums
    S1 = Σ w (x − K), S2 = Σ w (x − K)² over the configurations where ``mask`` (B,) is set,
    packed as (3k,) = [K, S1, S2]; :func:`moments_from_shifted_sums` turns them into moments.

    Up to 32 rows one variadic reduce (nothing of size B is written), above that a reduction of the
    stacked rows (timings on an H200 in benchmarks/RESULTS_ensemble.md).
    """
    shift = jnp.stack([r[0] for r in rows])
    shift = jnp.where(jnp.isfinite(shift), shift, 0)  # an infinite shift: ∞ − ∞ in every deviation
    dev = [jnp.where(mask, r - k, 0) for r, k in zip(rows, shift)]  # selected: 0·∞ of padding is NaN
    ops = dev + [d * d for d in dev]
    sums = jnp.stack(sum_each(ops)) if len(rows) <= _VARIADIC_ROWS else jnp.sum(jnp.stack(ops), axis=1)
    return jnp.concatenate([shift, sums])


def moments_from_shifted_sums(n, packed):
    """(mean, M2) from :func:`shifted_sums` ``packed`` (..., 3k) of ``n`` configurations:
    mean = K + S1/n, M2 = S2 − S1²/n (sums of data shifted by one of its values, Chan, Golub & LeVeque,
    Am. Stat. 37, 242 (1983): the cancellation stays O(1) as the shift lies within the data);
    mean 0 and M2 0 where n = 0."""
    k = packed.shape[-1] // 3
    shift, s1, s2 = packed[..., :k], packed[..., k : 2 * k], packed[..., 2 * k :]
    n = jnp.asarray(n)[..., None]
    nf = jnp.maximum(n, 1).astype(packed.dtype)
    mean = jnp.where(n > 0, shift + s1 / nf, 0)
    m2 = jnp.where(n > 0, jnp.maximum(s2 - s1 * s1 / nf, 0), 0)
    return mean, m2


def chunk_higher_moments(x, mask):
    """:class:`HigherMoments` of real ``x`` (B,) over the rows where ``mask`` is set (two passes)."""
    m = chunk_moments(x, mask)
    dev = jnp.where(mask, x - m.mean, 0)
    dev2 = dev * dev
    return HigherMoments(m.n, m.mean, m.m2, leading_sum(dev2 * dev), leading_sum(dev2 * dev2))


def uniform_edges(lo, hi, n_bins: int, dtype=np.float64, *, bins_name: str = "n_bins", range_name: str | None = None):
    """``n_bins + 1`` equally spaced edges on [lo, hi] (``np.linspace``, rounded to ``dtype``): the
    edges a result reports and the ones :func:`bin_index` compares with.

    Where ``dtype`` cannot resolve the bins, [lo, hi] is widened about its centre until it can:
    bins narrower than a few units in the last place of max(|lo|, |hi|) would round onto each other
    (duplicate edges, empty bins of zero width) and :func:`bin_index`'s first guess could be off by
    more than the one bin it corrects. The criterion: hi − lo at least 8·n_bins units in the last
    place of max(|lo|, |hi|) (:func:`_resolved_span`), so that bins are ≥ 8 ulps wide and the
    guess's error, ≤ 4 ε n_bins + 2 ulps/width bins (ε the unit roundoff), stays ≤ ½; in float32 with
    64 bins that asks for hi − lo ≳ 3–6·10⁻⁵·max(|lo|, |hi|) (the default edges of a float32 run whose
    values are all one nonzero number, ±10⁻⁶ of it, are widened; float64 runs need 10⁻¹³).
    ``n_bins`` above 2²⁰ in float32 (2⁴⁹ in float64) are refused: no span makes that guess safe.
    Errors name the parameters ``bins_name`` and, for a range the user gave (``range_name``: then it is
    refused rather than widened, so that the edges are the ones asked for), ``range_name``.
    """
    dtype = np.dtype(dtype)
    if n_bins > 2 ** (np.finfo(dtype).nmant - 3):  # 4 ε n_bins ≤ ¼, ε = 2^−(nmant+1)
        raise ValueError(f"{bins_name}={n_bins}: at most 2^{np.finfo(dtype).nmant - 3} bins in {dtype.name}")
    lo, hi = float(lo), float(hi)
    if range_name is not None and hi - lo < _resolved_span(lo, hi, n_bins, dtype):
        raise ValueError(
            f"{range_name}=({lo:.9g}, {hi:.9g}): {n_bins} bins of this range are narrower than {dtype.name} resolves "
            f"(at least {_resolved_span(lo, hi, n_bins, dtype):.3g} wide here); widen it or use fewer {bins_name}"
        )
    while hi - lo < _resolved_span(lo, hi, n_bins, dtype):  # once or twice: M grows with the span
        mid, half = 0.5 * (lo + hi), 0.75 * _resolved_span(lo, hi, n_bins, dtype)
        lo, hi = mid - half, mid + half
    return np.linspace(lo, hi, n_bins + 1, dtype=dtype)


def _resolved_span(lo, hi, n_bins, dtype):
    """The narrowest span hi − lo whose ``n_bins`` bins :func:`bin_index` resolves: 8·n_bins units in
    the last place of max(|lo|, |hi|) in ``dtype`` (≈ 16 ε n_bins max(|lo|, |hi|))."""
    return 8 * n_bins * float(np.spacing(np.abs(np.array([lo, hi], dtype)).max()))


def bin_index(x, lo, hi, n_bins: int, edges=None):
    """Slot of ``x`` among ``n_bins`` bins on [lo, hi): 0 below ``lo``, ``n_bins + 1`` at or above
    ``hi`` and for NaN (NumPy's sort order: ``np.searchsorted(edges, x, side="right")``), else 1 + the
    bin k with e_k ≤ x < e_{k+1} (half-open); int32, elementwise.

    With ``edges`` (the (n_bins + 1,) array the result reports, :func:`uniform_edges`; ``lo`` and
    ``hi`` its first and last) the slot agrees with those edges exactly: the floor formula
    ⌊(x − lo)/(hi − lo)·n_bins⌋ is a guess at most one bin off (edges rounded to the dtype, the
    formula's own rounding: :func:`uniform_edges` keeps that below ½ bin), corrected by comparing
    ``x`` with the two edges of the guessed bin (two gathers from the (n_bins + 1,) table). The
    formula alone put about one value in five within an ulp of an interior edge into the neighbouring
    bin (≈ 10⁻⁵ of float32 draws of a continuous law), so counts disagreed with ``np.histogram``.
    Without ``edges`` only that guess. :func:`chunk_counts` and the GPU tile kernel (a Pallas ref of
    the edges) both pass the edges: their histograms are identical (docs/ensemble.md).
    """
    guess = jnp.clip(jnp.floor((x - lo) / (hi - lo) * n_bins).astype(jnp.int32), 0, n_bins - 1)
    if edges is not None:
        lower, upper = edges[guess], edges[guess + 1]  # an array or a Pallas kernel's ref of the edges
        guess = guess - (x < lower).astype(jnp.int32) + (x >= upper).astype(jnp.int32)
    inside = jnp.where(x < hi, guess + 1, n_bins + 1)  # NaN: not < hi, the overflow slot
    return jnp.where(x < lo, 0, inside)


def chunk_counts(x, mask, edges, method: str = "scatter"):
    """Counts of ``x`` (B,) in the uniform bins ``edges`` (n_bins + 1,), plus under/overflow.

    Returns (n_bins + 2,) int32: index 0 counts ``x < edges[0]``, the last ``x >= edges[-1]`` and NaN.
    Bins are half-open [e_k, e_{k+1}); the bin of each value depends only on the value, so
    counts of chunks add exactly. ``method``: ``"scatter"`` (scatter-add; best on CPU) or
    ``"compare"`` (the n_bins + 2 indicator rows (n_bins + 2, B), each summed over the chunk; on
    GPUs, where a scatter into a few bins serialises on atomics: ×4 slower there). Both give
    identical counts.
    """
    n_bins = edges.shape[-1] - 1
    idx = bin_index(x, edges[0], edges[-1], n_bins, edges)
    if method == "compare":
        bins = jnp.arange(n_bins + 2, dtype=idx.dtype)
        return jnp.sum(bins[:, None] == jnp.where(mask, idx, -1)[None, :], axis=1, dtype=jnp.int32)
    return jnp.zeros(n_bins + 2, jnp.int32).at[idx].add(mask.astype(jnp.int32))


def widen(tree):
    """A reduction with its means and central sums in float64 (complex128 for complex means), counts
    in int64: the precision of the host's accumulators (:func:`merge`)."""
    if isinstance(tree, Counts):
        return Counts(np.asarray(tree.counts, np.int64))
    if isinstance(tree, (Moments, HigherMoments)):
        mean = np.asarray(tree.mean)
        mean = mean.astype(np.complex128 if np.iscomplexobj(mean) else np.float64)
        sums = (None if v is None else np.asarray(v, np.float64) for v in tree[2:])
        return type(tree)(np.asarray(tree.n, np.int64), mean, *sums)
    if isinstance(tree, dict):
        return {k: widen(v) for k, v in tree.items()}
    raise TypeError(f"cannot widen {type(tree).__name__}")


def narrow(tree, dtype):
    """A reduction's real arrays cast to ``dtype`` (complex means to its complex counterpart), counts
    unchanged: the merged float64 accumulators at the run's precision."""
    real = np.dtype(dtype)
    cplx = np.result_type(real, np.complex64)

    def cast(v):
        if v is None:
            return None
        v = np.asarray(v)
        if np.iscomplexobj(v):
            return v.astype(cplx)
        return v.astype(real) if np.issubdtype(v.dtype, np.floating) else v

    if isinstance(tree, Counts):
        return tree
    if isinstance(tree, (Moments, HigherMoments)):
        return type(tree)(tree.n, *(cast(v) for v in tree[1:]))
    if isinstance(tree, dict):
        return {k: narrow(v, dtype) for k, v in tree.items()}
    raise TypeError(f"cannot narrow {type(tree).__name__}")


def merge(a, b):
    """Merge two reductions of the same structure (host-side NumPy; Chan et al. 1979 for moments).

    Computed and returned in float64 (complex128), int64 counts (:func:`widen`), whatever the
    precision of ``a`` and ``b``: merged at the run's float32, every merge rounded the running mean
    by up to ½ ulp of its magnitude, an error that grows with the number of chunks (10³ chunks of
    10³ configurations: a mean of the cumulative heat 6.5 standard errors from the float64 mean of
    the same float32 values, 0.4 merged in float64; tests/ensemble/test_long_runs.py).

    Where either mean is ±∞ or NaN the merged mean is their sum (∞ + x = ∞, ∞ − ∞ = NaN: NumPy's mean of
    the pooled values) and the central sums are NaN; Chan's Δ = ∞ − ∞ made every infinite mean NaN.
    """
    if isinstance(a, Counts):
        return Counts(np.asarray(a.counts, np.int64) + np.asarray(b.counts, np.int64))
    if isinstance(a, HigherMoments):
        return _merge_higher(a, b)
    if isinstance(a, Moments):
        a, b = widen(a), widen(b)
        na, nb = a.n, b.n
        n = na + nb
        fb = nb / np.maximum(n, 1)
        finite = np.isfinite(a.mean) & np.isfinite(b.mean)
        with np.errstate(invalid="ignore", over="ignore"):
            delta = b.mean - a.mean
            mean = np.where(finite, a.mean + delta * _expand(fb, a.mean), a.mean + b.mean)
            if a.m2 is None:
                return Moments(n, mean, None)
            # Δ·(n_a n_b/n) first: exactly 0 for an empty side (Δ² of values near float64's largest
            # overflowed, and ∞·0 made the merge with a device without configurations NaN)
            m2 = a.m2 + b.m2 + np.real(delta * _expand(na * fb, a.mean) * np.conj(delta))
        return Moments(n, mean, np.where(finite, m2, np.nan))
    if isinstance(a, dict):
        return {k: merge(a[k], b[k]) for k in a}
    raise TypeError(f"cannot merge {type(a).__name__}")


def _merge_higher(a, b):
    """Pairwise update of central sums to fourth order (Pébay, Sandia report SAND2008-6212), in float64."""
    na, nb = np.asarray(a.n, np.int64).astype(np.float64), np.asarray(b.n, np.int64).astype(np.float64)
    n = na + nb
    nn = np.maximum(n, 1)
    mean_a, mean_b = np.asarray(a.mean, np.float64), np.asarray(b.mean, np.float64)
    finite = np.isfinite(mean_a) & np.isfinite(mean_b)  # else as merge: the sum of the means, NaN sums
    with np.errstate(invalid="ignore", over="ignore"):
        delta = mean_b - mean_a
        m2a, m2b = np.asarray(a.m2, np.float64), np.asarray(b.m2, np.float64)
        m3a, m3b = np.asarray(a.m3, np.float64), np.asarray(b.m3, np.float64)
        mean = np.where(finite, mean_a + delta * nb / nn, mean_a + mean_b)
        m2 = m2a + m2b + delta**2 * na * nb / nn
        m3 = m3a + m3b + delta**3 * na * nb * (na - nb) / nn**2 + 3 * delta * (na * m2b - nb * m2a) / nn
        m4 = (
            np.asarray(a.m4, np.float64)
            + np.asarray(b.m4, np.float64)
            + delta**4 * na * nb * (na * na - na * nb + nb * nb) / nn**3
            + 6 * delta**2 * (na * na * m2b + nb * nb * m2a) / nn**2
            + 4 * delta * (na * m3b - nb * m3a) / nn
        )
    m2, m3, m4 = (np.where(finite, v, np.nan) for v in (m2, m3, m4))
    # an empty side leaves the other as it is (0·∞ in the update terms of sums that overflowed: NaN)
    empty_a, empty_b = na == 0, nb == 0
    mean, m2, m3, m4 = (
        np.where(empty_a, vb, np.where(empty_b, va, v))
        for v, va, vb in zip((mean, m2, m3, m4), (mean_a, m2a, m3a, a.m4), (mean_b, m2b, m3b, b.m4))
    )
    n_out = np.asarray(a.n, np.int64) + np.asarray(b.n, np.int64)
    return HigherMoments(n_out, mean, m2, m3, m4)


def cumulants(m: HigherMoments):
    """Unbiased estimators (k-statistics) of the second, third and fourth cumulants.

    With m_k = M_k/n: k2 = n m2/(n − 1), k3 = n² m3/((n − 1)(n − 2)),
    k4 = n²[(n + 1) m4 − 3(n − 1) m2²]/((n − 1)(n − 2)(n − 3)); NaN when n is too small.
    """
    n = float(np.asarray(m.n))
    m2, m3, m4 = (np.asarray(v, np.float64) / max(n, 1.0) for v in (m.m2, m.m3, m.m4))
    dtype = np.asarray(m.mean).dtype
    with np.errstate(divide="ignore", invalid="ignore"):
        k2 = n * m2 / (n - 1) if n > 1 else np.nan * m2
        k3 = n * n * m3 / ((n - 1) * (n - 2)) if n > 2 else np.nan * m3
        k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3)) if n > 3 else np.nan * m4
    return tuple(np.asarray(k).astype(dtype) for k in (k2, k3, k4))


def _expand(f, like):
    f = np.asarray(f)
    return f.reshape(f.shape + (1,) * (np.ndim(like) - f.ndim))


def take(tree, i):
    """Entry ``i`` of the leading (device) axis of every array of a reduction."""
    if isinstance(tree, Counts):
        return Counts(np.asarray(tree.counts)[i])
    if isinstance(tree, (Moments, HigherMoments)):
        return type(tree)(*(None if v is None else np.asarray(v)[i] for v in tree))
    if isinstance(tree, dict):
        return {k: take(v, i) for k, v in tree.items()}
    raise TypeError(f"cannot index {type(tree).__name__}")


def variance(m: Moments):
    """Unbiased sample variance ``m2/(n − 1)``; NaN where n < 2, where it is undefined (as the
    k-statistics of :func:`cumulants`). For a single configuration it was m2/1, the rounding of
    (x − x)² (≈ 10⁻³⁹), so a one-configuration run reported standard errors of ≈ 10⁻²⁰, not
    "unknown"."""
    n = _expand(np.asarray(m.n), m.m2)
    m2 = np.asarray(m.m2)
    return np.where(n >= 2, m2 / np.maximum(n - 1, 1).astype(m2.dtype), np.nan).astype(m2.dtype)
