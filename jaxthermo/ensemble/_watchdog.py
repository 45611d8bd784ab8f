"""A chunk that takes far longer than the others gets a warning naming it, while it is still running.

A stalled XLA runtime (docs/xla_cpu_hangs.md) would otherwise leave a long sweep sitting silent:
the host blocks in the transfer of the chunk's results and never returns to Python. A timer thread
fires while the host waits, so the warning appears even if the chunk never finishes.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings


class SlowChunkWarning(RuntimeWarning):
    """A chunk of an ensemble run took far longer than the running average of the earlier ones."""


class ChunkWatch:
    """Time the host's wait for each chunk; warn when one exceeds ``factor`` × the running average (and
    ``min_s``).

    The first chunk (compilation) sets no expectation: the average starts with the second one. The clock
    of a chunk starts when the host begins to wait for it: the host's own work between two waits (merging,
    the checkpoint file, the progress bar, the user's callback) is no chunk's time (a callback that slept
    2 s was reported as "chunk 4 has taken 2 s so far … a stall of the XLA runtime?").
    """

    def __init__(self, n_chunks: int, factor: float = 10.0, min_s: float = 30.0):
        self.n_chunks, self.factor, self.min_s = n_chunks, factor, min_s
        self.durations: list[float] = []

    def limit(self) -> float | None:
        """Seconds after which the current chunk counts as slow (None before an average exists)."""
        if not self.durations:
            return None
        return max(self.min_s, self.factor * sum(self.durations) / len(self.durations))

    def _warn(self, index: int, waited: float) -> None:
        avg = sum(self.durations) / len(self.durations)
        warnings.warn(
            f"chunk {index} of {self.n_chunks} has taken {waited:.0f} s so far, {waited / avg:.0f}× the "
            f"average of the earlier chunks ({avg:.2f} s): a stall of the XLA runtime? "
            "(docs/xla_cpu_hangs.md)",
            SlowChunkWarning,
            stacklevel=4,
        )

    @contextlib.contextmanager
    def chunk(self, index: int, first: bool = False):
        """Wrap the wait for chunk ``index``; ``first`` marks a chunk that includes compilation."""
        limit = self.limit()
        start = time.perf_counter()
        timer = None
        if limit is not None:
            timer = threading.Timer(limit, lambda: self._warn(index, time.perf_counter() - start))
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()
            if not first:
                self.durations.append(time.perf_counter() - start)
