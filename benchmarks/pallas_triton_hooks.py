"""Hooks into Pallas's Triton lowering for the GPU benchmarks (not for the library: they patch jax internals).

Pallas lowers a kernel to a Triton module (``lower_jaxpr_to_triton_module``) that XLA then compiles. Two
context managers wrap that function: :func:`captured_modules` keeps the text of each module lowered
inside (``tile_kernel_sass.py`` compiles it with the ``triton`` package), :func:`register_limit`
gives each module the attribute ``ttg.maxnreg`` — the one Triton's own ``maxnreg`` option sets (ptxas's
``.maxnreg``, registers per thread at most), for which ``pallas.triton.CompilerParams`` has no field. At
255 registers per thread an H200 SM holds 8 one-warp programs of the tile kernel; at 128, 16
(benchmarks/RESULTS_ensemble.md, sessions 31–32). Written against jax 0.9.2 and 0.11.2.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def _wrapped_lowering(after):
    """Within the block, ``after(result)`` runs on every result of Pallas's Triton lowering."""
    from jax._src.pallas.triton import pallas_call_registration as registration

    lower = registration.lowering.lower_jaxpr_to_triton_module

    def wrapped(*args, **kwargs):
        result = lower(*args, **kwargs)
        after(result)
        return result

    registration.lowering.lower_jaxpr_to_triton_module = wrapped
    try:
        yield
    finally:
        registration.lowering.lower_jaxpr_to_triton_module = lower


@contextlib.contextmanager
def captured_modules():
    """A list that receives the text of each Triton module lowered within the block."""
    modules = []
    with _wrapped_lowering(lambda r: modules.append(r.module.operation.get_asm(enable_debug_info=False))):
        yield modules


@contextlib.contextmanager
def register_limit(maxnreg: int):
    """Triton modules lowered within the block ask for at most ``maxnreg`` registers per thread."""
    from jax._src.lib.mlir import ir

    def limit(result):
        op = result.module.operation
        with op.context:
            op.attributes["ttg.maxnreg"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(32), int(maxnreg))

    with _wrapped_lowering(limit):
        yield
