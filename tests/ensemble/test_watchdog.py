"""A chunk far slower than the running average is reported while it runs, naming the chunk."""

import time
import warnings

import pytest

from jaxthermo.ensemble._watchdog import ChunkWatch, SlowChunkWarning


def test_slow_chunk_is_named_while_it_runs():
    watch = ChunkWatch(n_chunks=5, factor=3.0, min_s=0.05)
    with watch.chunk(0, first=True):  # compilation: sets no expectation
        time.sleep(0.2)
    for k in (1, 2):
        with watch.chunk(k):
            time.sleep(0.02)
    with pytest.warns(SlowChunkWarning, match=r"chunk 3 of 5 has taken"):
        with watch.chunk(3):
            time.sleep(0.4)  # > max(0.05, 3 × 0.02 s): the timer fires during the wait


def test_regular_chunks_stay_silent():
    watch = ChunkWatch(n_chunks=4, factor=3.0, min_s=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(4):
            with watch.chunk(k, first=k == 0):
                time.sleep(0.01)
    assert len(watch.durations) == 3


def test_host_work_between_chunks_is_no_chunks_time():
    """The clock of a chunk ran from the end of the previous wait, so the host's own work in between (a slow
    callback, a checkpoint on a slow disk) counted as the next chunk's: after 0.3 s of it, a chunk that was
    already done was reported at once as "has taken 0 s so far, ×16 the average … a stall of the XLA runtime?"."""
    watch = ChunkWatch(n_chunks=5, factor=3.0, min_s=0.05)
    with warnings.catch_warnings(record=True) as caught:  # the timer warns from its own thread
        warnings.simplefilter("always")
        for k in range(4):
            with watch.chunk(k, first=k == 0):
                time.sleep(0.01)
            time.sleep(0.3 if k == 2 else 0.0)  # the host's work after chunk 2 (> max(0.05, 3 × 0.01 s))
    assert not [w for w in caught if issubclass(w.category, SlowChunkWarning)]
    assert max(watch.durations) < 0.2
