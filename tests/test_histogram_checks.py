"""Histogram built by hand: its edges and counts are checked, ValueError naming the field (NaN or unordered edges,
counts of another length, negative or fractional counts gave NaN or negative densities silently); every histogram
the package makes passes the same checks."""

import numpy as np
import pytest

import jaxthermo as jt

EDGES = np.array([0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(edges=[0.0, np.nan, 1.0], counts=[1, 2]), "edges"),
        (dict(edges=[0.0, 1.0, 0.5], counts=[1, 2]), "edges"),
        (dict(edges=[0.0, 0.0, 1.0], counts=[1, 2]), "edges"),
        (dict(edges=[1.0], counts=[]), "edges"),
        (dict(edges=[[0.0, 1.0]], counts=[1]), "edges"),
        (dict(edges=["a", "b"], counts=[1]), "edges"),
        (dict(edges=EDGES, counts=[1, 2, 3]), "counts"),
        (dict(edges=EDGES, counts=[1, -2]), "counts"),
        (dict(edges=EDGES, counts=[1.5, 2]), "counts"),
        (dict(edges=EDGES, counts=[np.nan, 2]), "counts"),
        (dict(edges=EDGES, counts=[1, 2], underflow=-1), "underflow"),
        (dict(edges=EDGES, counts=[1, 2], overflow=np.inf), "overflow"),
    ],
)
def test_bad_histograms_are_refused_naming_the_field(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        jt.Histogram(**kwargs)


def test_good_histograms_are_kept():
    """Whole-number float counts (as a user's saved table) and the package's own histograms are accepted, unchanged."""
    h = jt.Histogram(EDGES, np.array([1.0, 2.0]), 0, 3)
    assert h.total == 6 and np.allclose(h.density * h.widths, [1 / 6, 2 / 6])
    sample = jt.Histogram.from_samples(np.random.default_rng(0).normal(size=100), bins=7, range=(-1.0, 1.0))
    assert sample.total == 100
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, np.diag([0.7, 0.3]), 3, 16, alphas=())
    assert res.work_histogram.total == 16 and res.collision_work_histogram.total == 48
