"""Settings read while JAX traces a function: how a program is written, not what it computes.

A :class:`TraceSetting` holds a context variable; ``with setting.set_to(value):`` traces the block
with that value and ``setting.get()`` reads it. A cached trace keeps the value it was traced with
(as ``jaxthermo.config`` does), so a setting belongs around a body traced afresh: an engine's
chunk program (:func:`~jaxthermo.ensemble._statistics.folded_sums`) or a GPU kernel
(:func:`~jaxthermo._elementary.division_free`).
"""

from __future__ import annotations

import contextlib
import contextvars

_ALL: list[TraceSetting] = []


class TraceSetting:
    """A named value with a default, changed for a ``with`` block (thread- and context-local)."""

    def __init__(self, name: str, default):
        self._var = contextvars.ContextVar(f"jaxthermo_{name}", default=default)
        _ALL.append(self)

    def get(self):
        return self._var.get()

    @contextlib.contextmanager
    def set_to(self, value):
        token = self._var.set(value)
        try:
            yield
        finally:
            self._var.reset(token)


def current_values() -> tuple:
    """The value of every trace setting now (a cache key for programs traced under them)."""
    return tuple(setting.get() for setting in _ALL)
