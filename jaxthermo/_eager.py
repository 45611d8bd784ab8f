"""One compiled program for a function called with concrete arrays, instead of one per operation.

A jax.numpy function called outside ``jit`` runs operation by operation, and XLA compiles each
operation afresh for every new shape and dtype: the first call of :func:`~jaxthermo.renyi_divergence_log`
on a new shape compiled ~60 small programs (~3–6 s on a 2-core CPU), and such first calls made up
about 30 % of the test suite's XLA compilation time. :func:`compiled_when_concrete` runs the whole
function as one ``jax.jit`` program when no argument is a JAX tracer, and inlines it as before inside
a caller's trace (``jit``, ``grad``, ``vmap``), so traced programs are unchanged.

The program is cached per setting read while tracing (``jaxthermo.config.validate`` and the trace
settings of :mod:`jaxthermo._trace_setting`), as a traced function must be.
"""

from __future__ import annotations

import functools

import jax

from ._config import config
from ._trace_setting import current_values
from ._validation import is_concrete


def compiled_when_concrete(fn):
    """``fn`` (pure, array arguments) as one jitted program when every argument is concrete."""
    programs = {}

    @functools.wraps(fn)
    def call(*args):
        if not is_concrete(args):
            return fn(*args)
        key = (config.validate, current_values())
        if key not in programs:
            # a function object of its own per key: jax.jit caches traces by the function, not by this key
            programs[key] = jax.jit(functools.wraps(fn)(lambda *a: fn(*a)))
        return programs[key](*args)

    return call
