"""Instructions per collision of the GPU tile kernel, counted without a GPU.

The qubit tile kernel (``jaxthermo.ensemble._tile_kernel``) is 95 % of the GPU's busy time with about
1 byte of memory traffic per collision, so its compiled code sets its speed: on an H200 (2026-12-01)
the measured ratios of the float32 default call to ``alphas=()`` (×1.20) and to float64 (×1.61)
followed the instruction counts (×1.18, ×1.38). At 255 registers per thread it is bound by latency,
not by the issue rate (35 % of it, 2026-12-04): spills to local memory cost more than their count
(float64: 880 instructions with 66 spills ran 25 % slower than 1172 with 10), so the script reports
both (benchmarks/RESULTS_ensemble.md, session 31). This script lowers the kernel of the default call for CUDA on this machine
(Pallas's Triton module, as ``jax.jit(...).lower(lowering_platforms=("cuda",))``), compiles it with
the ``triton`` package for sm_90a (H100/H200; ptxas and nvdisasm ship with the package), finds the
loop over collisions in the SASS and prints, per collision, the warp instructions of one step divided
by the configurations a warp carries, with the registers and spills. With the vertical-counter
histogram the loop over collisions is nested in blocks; the count adds each block's flush, divided
by the block's steps. The tails of erf⁻¹ run only at steps where one of the warp's draws needs them
(w ≥ 6.25: a draw with probability 1 − √(1 − e^{−6.25}) = 9.65·10⁻⁴, so at 11.6 % of the steps of
128 draws): the executed count is that of the kernel compiled without the tails plus 11.6 % of
the difference.

Needs ``pip install triton`` (not a dependency of jaxthermo; Triton 3.9 read the module jax 0.9.2
writes). Run:  python benchmarks/tile_kernel_sass.py [--settings tile.REGISTER_LIMIT=128,tile.TILE=64] [--dtypes float32] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from _timing import apply_settings, parse_settings  # noqa: E402
from pallas_triton_hooks import captured_modules  # noqa: E402

import jaxthermo as jt  # noqa: E402
from jaxthermo import _elementary as elementary  # noqa: E402
from jaxthermo.ensemble import _tile_kernel as tile_kernel  # noqa: E402

N_STEPS, TILES = 1000, 32


def triton_module(dtype, alphas, coherent=True, n_steps=N_STEPS):
    """The Triton module (text) of the default call's tile kernel, lowered for CUDA."""
    with captured_modules() as captured:
        model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
        v = np.exp(1j * np.arange(2)) / np.sqrt(2)
        rho0 = 0.5 * np.outer(v, v.conj()) + 0.25 * np.eye(2)
        if not coherent:
            rho0 = np.diag(np.diag(rho0))
        rho0 = jnp.asarray(rho0, jnp.complex64 if dtype == jnp.float32 else jnp.complex128)
        b = TILES * tile_kernel.TILE
        idx = jnp.arange(b, dtype=jnp.uint32)
        draws = tile_kernel.keyed_draws(model.distribution, jax.random.key(0), idx, n_steps, jnp.float64)
        edges = jnp.linspace(-0.05, 0.05, 65, dtype=dtype)
        fn = partial(tile_kernel.qubit_chunk, n_steps=n_steps, alphas=alphas, coherent=coherent)
        jax.jit(fn).trace(model, rho0, draws, idx < b, edges).lower(lowering_platforms=("cuda",))
    (module,) = captured
    return module


def compile_sass(module_text, num_warps, encodings=False):
    """SASS text and resource usage of a Triton module compiled for sm_90a (``encodings``: ``cuobjdump -sass``'s
    listing, each instruction with its two 64-bit words, whose upper one holds the scheduling controls)."""
    import triton
    from triton.backends.compiler import GPUTarget

    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # Triton's default until 3.9
    bindir = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "kernel.ttir")
        with open(path, "w") as fh:
            fh.write(module_text)
        kernel = triton.compile(path, target=GPUTarget("cuda", 90, 32), options={"num_warps": num_warps})
        cubin = os.path.join(tmp, "kernel.cubin")
        with open(cubin, "wb") as fh:
            fh.write(kernel.asm["cubin"])
        disassemble = (
            [os.path.join(bindir, "cuobjdump"), "-sass"] if encodings else [os.path.join(bindir, "nvdisasm"), "-c"]
        )
        sass = subprocess.run(disassemble + [cubin], capture_output=True, text=True).stdout
        usage = subprocess.run([os.path.join(bindir, "cuobjdump"), "-res-usage", cubin], capture_output=True, text=True)
    regs = re.search(r"REG:(\d+) STACK:(\d+)", usage.stdout)
    return sass, (int(regs.group(1)), int(regs.group(2))) if regs else (None, None)


def loops(sass):
    """Backward branches of the SASS: (first address, last address, instructions) per loop."""
    ins, labels, label = [], {}, None
    for line in sass.splitlines():
        m = re.match(r"^(\.L_x_\d+):", line)
        if m:
            label = m.group(1)
        m = re.search(r"/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if m:
            addr = int(m.group(1), 16)
            ins.append((addr, m.group(2).strip()))
            if label and label not in labels:
                labels[label] = addr
    out = []
    for addr, text in ins:
        m = re.search(r"BRA\s+`\((\.L_x_\d+)\)", text)
        if m and labels.get(m.group(1), addr + 1) < addr:
            lo = labels[m.group(1)]
            out.append((lo, addr, [t for a, t in ins if lo <= a <= addr]))
    return out


def per_collision(sass, block: int, per_warp: int):
    """Warp instructions of one collision step (the innermost large loop, plus its block's flush / block)
    and the lane instructions per collision (× 32 lanes / configurations per warp)."""
    found = sorted(loops(sass), key=lambda lp: -len(lp[2]))
    outer = found[0]
    step, flush = len(outer[2]), 0
    if block > 1:
        inner = max((lp for lp in found[1:] if outer[0] <= lp[0] and lp[1] <= outer[1]), key=lambda lp: len(lp[2]))
        step, flush = len(inner[2]), len(outer[2]) - len(inner[2])
        body = inner[2]
    else:
        body = outer[2]
    spills = sum(1 for t in body if re.search(r"\b(LDL|STL)\b", t))
    ops = collections.Counter(re.sub(r"^@!?U?P\w+\s+", "", t).split()[0].split(".")[0] for t in body)
    per_step = step + flush / max(block, 1)
    return {
        "warp_instructions_per_step": round(per_step, 1),
        "lane_instructions_per_collision": round(per_step * 32 / per_warp, 1),
        "loop_instructions": step,
        "flush_instructions": flush,
        "spill_instructions_in_loop": spills,
        "top_opcodes": dict(ops.most_common(8)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default="",
        help="module settings (apply_settings), e.g. tile.TILE=64,sampling.FLOAT32_TRANSFORM=0",
    )
    parser.add_argument("--json", default=None)
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args()
    apply_settings(parse_settings(args.settings))
    per_warp = tile_kernel.TILE // tile_kernel.NUM_WARPS
    results = {"settings": args.settings or "defaults", "tile": tile_kernel.TILE}
    p_draw = 1.0 - math.sqrt(1.0 - math.exp(-6.25))  # a draw needs erf⁻¹'s tails (w ≥ 6.25)
    tail_step = 1.0 - (1.0 - p_draw) ** per_warp  # a step of the warp runs them
    for name in args.dtypes.split(","):
        dtype = jnp.dtype(name)
        planes = tile_kernel.histogram_planes(dtype)
        block = (2**planes - 1) // tile_kernel.configurations_per_counter() if planes else 1
        n_steps = max(N_STEPS, 2 * block + 1)  # at least two blocks: a loop over blocks (one is unrolled)
        results[f"{name} histogram_planes"] = planes
        for label, alphas in (("default", (1.0, float("inf"))), ("alphas=()", ())):
            sass, (regs, stack) = compile_sass(triton_module(dtype, alphas, n_steps=n_steps), tile_kernel.NUM_WARPS)
            row = per_collision(sass, block, per_warp) | {"registers": regs, "stack_bytes": stack}
            tails = elementary._erf_inv64_tails
            elementary._erf_inv64_tails = lambda w, p: p  # the path of steps without tails
            try:
                skip = per_collision(
                    compile_sass(triton_module(dtype, alphas, n_steps=n_steps), tile_kernel.NUM_WARPS)[0],
                    block,
                    per_warp,
                )
            finally:
                elementary._erf_inv64_tails = tails
            full, without = row["lane_instructions_per_collision"], skip["lane_instructions_per_collision"]
            row["compiled_lane_instructions_per_collision"] = full
            executed = without + tail_step * (full - without) if tile_kernel.BRANCH_TAILS else full
            row["lane_instructions_per_collision"] = round(executed, 1)
            results[f"{name} {label}"] = row
            print(
                f"{name} {label}: {row['lane_instructions_per_collision']} lane instructions per collision executed "
                f"({full} compiled; loop {row['loop_instructions']}, flush {row['flush_instructions']} per {block} "
                f"steps; {regs} registers, {row['spill_instructions_in_loop']} spill instructions in the loop)",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
