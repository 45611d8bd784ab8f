"""refine_times refuses a window it cannot build (docs/assignment.md §3) instead of returning the grid unrefined."""

import numpy as np
import pytest

from jaxthermo.assignment import refine_times


def test_bad_window_is_refused_not_silently_dropped():
    """A NaN or infinite half-width or centre made np.linspace produce NaN times, which the clipping to
    [times[0], times[-1]] removed: the 13-point grid came back with 13 points and no message, so a peak
    looked refined. Now a ValueError names the argument; a good window still adds its points."""
    times = np.linspace(0.0, 6.0, 13)
    assert refine_times(times, [2.0], 0.5, points=11).size == 13 + 11 - 3  # 1.5, 2.0, 2.5 already there
    for centers, half_width, name in (
        ([2.0], float("nan"), "half_width"),
        ([2.0], float("inf"), "half_width"),
        ([float("nan")], 0.5, "centers"),
        ([2.0, float("inf")], 0.5, "centers"),
    ):
        with pytest.raises(ValueError, match=name):
            refine_times(times, centers, half_width)
    with pytest.raises(ValueError, match="times"):
        refine_times(np.array([0.0, np.nan, 1.0]), [0.5], 0.1)
    assert np.array_equal(refine_times(times, [], 0.5), times)  # no centre: the grid as it was
