"""Histogram.from_samples: ``bins`` is a positive count or strictly increasing finite edges.

NumPy read ``bins=True`` as one bin (a histogram nobody asked for); edges given as an array bin like
a hand count of ``lo <= y < hi`` (last bin closed)."""

import numpy as np
import pytest

import jaxthermo as jt


@pytest.mark.parametrize("bins", [True, False, 0, -3, 2.5, [0.0, 1.0, 1.0], [1.0, 0.0], [0.0, np.nan], [0.5]])
def test_meaningless_bins_refused(bins):
    with pytest.raises(ValueError, match="bins"):
        jt.Histogram.from_samples([0.1, 0.2, 0.7], bins=bins)


def test_edges_match_a_hand_count():
    y = np.random.default_rng(1).normal(size=1000)
    edges = np.array([-1.0, -0.2, 0.0, 0.3, 2.0])
    h = jt.Histogram.from_samples(y, bins=edges)
    hand = [np.sum((y >= lo) & ((y < hi) if hi < edges[-1] else (y <= hi))) for lo, hi in zip(edges[:-1], edges[1:])]
    assert h.counts.tolist() == hand
    assert h.underflow == np.sum(y < -1.0) and h.overflow == np.sum(y > 2.0)
    assert h.total == y.size


def test_integer_counts_of_any_kind_accepted():
    y = np.linspace(0.0, 1.0, 11)
    assert jt.Histogram.from_samples(y, bins=np.int64(5)).counts.sum() == 11
