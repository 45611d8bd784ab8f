"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import time

import jax
import numpy as np


def median_time(fn, repeats=10):
    """Median wall time of ``repeats`` calls of ``fn`` (each waited for), after one warm-up call."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return float(np.median(times))
