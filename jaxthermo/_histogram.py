"""One histogram type for the whole package: counts over stated bins, with their density and error.

Model A's single-collision histograms (:func:`jaxthermo.single_collision_histogram`) and the ensemble
engine's streamed histograms (:class:`jaxthermo.EnsembleResult`) both return a :class:`Histogram`.
The counts are the data; ``density`` and ``stderr`` are derived from them (docs/ensemble.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._validation import check_numeric, check_positive_int


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Counts over fixed, stated bins.

    Attributes:
      edges: (n_bins + 1,) bin edges.
      counts: (n_bins,) counts of each bin.
      underflow: values below ``edges[0]``.
      overflow: values above the last bin (for the engine: at or above ``edges[-1]``) and NaN
        (which lie in no bin; NumPy sorts NaN after +∞): ``total`` counts every value.

    Derived (NumPy arrays): ``total`` (all values, out-of-range included), ``density`` (counts per
    unit y, normalised by ``total``, so ``Σ density · width`` is the fraction of values inside the
    edges), ``stderr`` (the binomial Monte-Carlo standard error of ``density``,
    ``√(n p (1 − p))/(n Δy)``), ``centers``, ``widths``.
    """

    edges: np.ndarray
    counts: np.ndarray
    underflow: int = 0
    overflow: int = 0

    def __post_init__(self):
        """The bins and counts checked when a histogram is built, ``ValueError`` naming the field: NaN or unordered
        edges, counts of another length, negative or fractional counts gave NaN or negative densities silently."""
        edges, counts = np.asarray(self.edges), np.asarray(self.counts)
        if (
            edges.ndim != 1
            or edges.size < 2
            or edges.dtype.kind not in "iuf"
            or not np.all(np.isfinite(edges))
            or not np.all(np.diff(edges) > 0)
        ):
            raise ValueError(f"edges: must be >= 2 finite, strictly increasing real numbers; got {self.edges!r}")
        if counts.shape != (edges.size - 1,):
            raise ValueError(f"counts: shape {counts.shape}; {edges.size} edges need ({edges.size - 1},), one per bin")
        for name, value in (("counts", counts), ("underflow", self.underflow), ("overflow", self.overflow)):
            v = np.asarray(value)
            if v.dtype.kind not in "iuf" or not np.all(np.isfinite(v)) or np.any(v < 0) or np.any(v != np.round(v)):
                raise ValueError(f"{name}: must be non-negative whole numbers; got {value!r}")

    def __eq__(self, other):
        """Equal edges, counts and out-of-range counts (the generated ``==`` compared arrays as tuples:
        "truth value of an array … is ambiguous")."""
        return fields_equal(self, other)

    @classmethod
    def from_samples(cls, values, bins: int = 50, range=None, *, range_name: str = "range") -> Histogram:
        """Histogram of ``values`` with ``np.histogram``'s binning (last bin closed) and out-of-range
        counts; NaN values count as overflow (``range`` is then needed: NumPy finds none from NaN).

        ``bins`` is a positive number of bins or strictly increasing finite edges (``ValueError`` naming
        ``bins``: NumPy read ``bins=True`` as one bin, and a float count as a sequence). Without
        ``range``, a sample of equal values y is binned over NumPy's (y − ½, y + ½).

        ``values`` must be real (``TypeError``; NumPy binned the real parts of complex values, with complex
        edges) and ``range`` finite with lo < hi (``ValueError`` naming ``range_name``: NumPy widened an
        empty range (y, y) to (y − ½, y + ½), edges that were not asked for)."""
        check_numeric(values, "values")
        values = np.asarray(values).ravel()
        if np.ndim(bins) == 1:
            edges = np.asarray(bins)
            if edges.size < 2 or not np.issubdtype(edges.dtype, np.number) or not np.all(np.isfinite(edges)):
                raise ValueError(f"bins: edges must be >= 2 finite numbers; got {bins!r}")
            if not np.all(np.diff(edges) > 0):
                raise ValueError(f"bins: edges must increase strictly; got {bins!r}")
        else:
            bins = check_positive_int(bins, "bins")
        if range is not None:
            lo_hi = np.asarray(range, dtype=float) if np.ndim(range) == 1 and len(range) == 2 else None
            if lo_hi is None or not np.all(np.isfinite(lo_hi)) or not lo_hi[0] < lo_hi[1]:
                raise ValueError(f"{range_name}={range!r}: must be (lo, hi) with finite lo < hi")
        elif values.size and not np.all(np.isfinite(values)):  # ±inf failed in NumPy ("range ... is not finite")
            raise ValueError(f"values hold NaN or ±inf: give {range_name}=(lo, hi) (no range can be found from them)")
        counts, edges = np.histogram(values, bins=bins, range=range)
        underflow = int(np.sum(values < edges[0]))
        return cls(edges, counts, underflow, int(values.size - np.sum(counts) - underflow))

    @property
    def total(self) -> int:
        return int(np.sum(self.counts)) + int(self.underflow) + int(self.overflow)

    @property
    def widths(self) -> np.ndarray:
        return np.diff(np.asarray(self.edges))

    @property
    def centers(self) -> np.ndarray:
        edges = np.asarray(self.edges)
        return 0.5 * (edges[1:] + edges[:-1])

    @property
    def probabilities(self) -> np.ndarray:
        """Fraction of all values in each bin, (n_bins,)."""
        return np.asarray(self.counts) / max(self.total, 1)

    @property
    def density(self) -> np.ndarray:
        """Probability density over the bins (out-of-range values counted in the norm), (n_bins,)."""
        return self.probabilities / self.widths

    @property
    def stderr(self) -> np.ndarray:
        """Monte-Carlo standard error of :attr:`density`, ``√(p (1 − p)/n)/Δy``, (n_bins,)."""
        p = self.probabilities
        return np.sqrt(p * (1 - p) / max(self.total, 1)) / self.widths


def values_equal(a, b) -> bool:
    """``a == b`` for the values a result holds: arrays (and array-likes) equal in shape and entries, NaN
    equal to NaN (rows a run did not evaluate), dicts, tuples and lists entry by entry."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(values_equal(a[k], b[k]) for k in a)
        )
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return a == b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and not np.isscalar(a):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is None and b is None
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return False
    numeric = all(np.issubdtype(v.dtype, np.number) or v.dtype == np.bool_ for v in (x, y))
    return bool(np.array_equal(x, y, equal_nan=numeric and (x.dtype.kind in "fc" or y.dtype.kind in "fc")))


def fields_equal(a, b) -> bool:
    """Dataclass equality over the fields that take part in comparisons (``compare=True``), by
    :func:`values_equal`; ``NotImplemented`` for another type."""
    if type(a) is not type(b):
        return NotImplemented
    return all(values_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a) if f.compare)
