"""Does Triton compile u − 1 of u = 1 + x as written in a Pallas kernel? (The GPU tile kernel's D_1 relies on it.)

The tile kernel evaluates each D_1 term as (t u)(log u + shift) − t(u − 1), u = 1 + x
(``jaxthermo._information.subtraction_kept``): accurate to ≈ ε/|x| relative only if u − 1 is computed from the
rounded u. XLA's simplifier rewrites (1 + x) − 1 to x in a compiled program (the CPU and XLA GPU programs therefore
take the series form), but a Pallas kernel's body goes to Triton, not through XLA. This script lowers the kernel
``(1 + x)·log(1 + x) − ((1 + x) − 1)`` for CUDA without a GPU (as ``tile_kernel_sass.py`` does), compiles it for
sm_90a and prints the PTX's floating-point additions: ``add.f32 u, x, 1`` and a later ``add.f32 ·, u, -1`` (and
the same in f64) show both additions kept. Needs ``pip install triton``. Run:  python benchmarks/triton_keeps_subtraction.py
"""

from __future__ import annotations

import os
import tempfile

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from pallas_triton_hooks import captured_modules

from jaxthermo.ensemble._tile_kernel import _compiler_params


def _kernel(x_ref, o_ref):
    x = x_ref[...]
    u = 1.0 + x
    o_ref[...] = u * jnp.log(u) - (u - 1.0)


def ptx_of(dtype) -> str:
    import triton
    from triton.backends.compiler import GPUTarget

    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # Triton's default until 3.9
    with captured_modules() as captured:
        call = pl.pallas_call(
            _kernel, out_shape=jax.ShapeDtypeStruct((128,), dtype), compiler_params=_compiler_params(4)
        )
        jax.jit(call).trace(jnp.zeros((128,), dtype)).lower(lowering_platforms=("cuda",))
    (module,) = captured
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "kernel.ttir")
        with open(path, "w") as fh:
            fh.write(module)
        return triton.compile(path, target=GPUTarget("cuda", 90, 32), options={"num_warps": 4}).asm["ptx"]


def main():
    for dtype, one, minus_one in ((jnp.float32, "0f3F800000", "0fBF800000"), (jnp.float64, "0d3FF0", "0dBFF0")):
        adds = [line.strip() for line in ptx_of(dtype).splitlines() if f"add.f{dtype(0).dtype.itemsize * 8}" in line]
        plus = [a for a in adds if one in a]
        minus = [a for a in adds if minus_one in a]
        print(f"{dtype.__name__}: {len(plus)} additions of +1, {len(minus)} of -1")
        for line in adds:
            print("   ", line)
        kept = any(p.split()[1].rstrip(",") in m for p in plus for m in minus)
        print(f"    (1 + x) - 1 kept as two additions: {kept}")


if __name__ == "__main__":
    main()
