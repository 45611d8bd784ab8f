"""The Triton modules Pallas lowers, captured for the GPU benchmarks (a hook into jax internals, not for the library).

Pallas lowers a kernel to a Triton module (``lower_jaxpr_to_triton_module``) that XLA then compiles;
:func:`captured_modules` keeps the text of each module lowered inside its block, read as the block ends (``tile_kernel_sass.py``
compiles it with the ``triton`` package; the tests read it). Written against jax 0.9.2 and 0.11.2.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def captured_modules():
    """A list that receives the text of each Triton module lowered within the block."""
    from jax._src.pallas.triton import pallas_call_registration as registration

    modules, results, lower = [], [], registration.lowering.lower_jaxpr_to_triton_module

    def capture(*args, **kwargs):
        results.append(lower(*args, **kwargs))
        return results[-1]

    registration.lowering.lower_jaxpr_to_triton_module = capture
    try:
        yield modules
    finally:
        registration.lowering.lower_jaxpr_to_triton_module = lower
        # read at the end: a wrapper installed inside the block (around this one) may change the modules
        modules.extend(r.module.operation.get_asm(enable_debug_info=False) for r in results)
