"""One histogram type for the whole package: counts over stated bins, with their density and error.

Model A's single-collision histograms (:func:`jaxthermo.single_collision_histogram`) and the ensemble
engine's streamed histograms (:class:`jaxthermo.EnsembleResult`) both return a :class:`Histogram`.
The counts are the data; ``density`` and ``stderr`` are derived from them (docs/ensemble.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._validation import check_numeric


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

    @classmethod
    def from_samples(cls, values, bins: int = 50, range=None, *, range_name: str = "range") -> Histogram:
        """Histogram of ``values`` with ``np.histogram``'s binning (last bin closed) and out-of-range
        counts; NaN values count as overflow (``range`` is then needed: NumPy finds none from NaN).

        ``values`` must be real (``TypeError``; NumPy binned the real parts of complex values, with complex
        edges) and ``range`` finite with lo < hi (``ValueError`` naming ``range_name``: NumPy widened an
        empty range (y, y) to (y − ½, y + ½), edges that were not asked for)."""
        check_numeric(values, "values")
        values = np.asarray(values).ravel()
        if range is not None:
            lo_hi = np.asarray(range, dtype=float) if np.ndim(range) == 1 and len(range) == 2 else None
            if lo_hi is None or not np.all(np.isfinite(lo_hi)) or not lo_hi[0] < lo_hi[1]:
                raise ValueError(f"{range_name}={range!r}: must be (lo, hi) with finite lo < hi")
        elif values.size and np.any(np.isnan(values)):
            raise ValueError(f"values hold NaN: give {range_name}=(lo, hi) (no range can be found from NaN)")
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
