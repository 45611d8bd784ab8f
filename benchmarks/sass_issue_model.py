"""An issue-timeline model of the GPU tile kernel's loop over collisions, from the SASS's own scheduling controls.

Every sm_90 instruction carries, in the upper bits of its encoding, the cycles its warp waits before issuing the next
instruction (stall count, set by ptxas for fixed-latency results) and the scoreboards it sets and waits on (for
variable-latency results: MUFU, shuffles, loads, conversions). This script replays the loop over collisions of the
default call's tile kernel (``benchmarks/tile_kernel_sass.py`` lowers and compiles it for sm_90a without a GPU) for W
warps on one scheduler: one issue per cycle, each warp in order, a warp's next instruction when its stall has passed
and its scoreboards are released (assumed latencies below), pipes of limited rate (MUFU/conversions 8 cycles per warp
instruction, FP64 and integer 2); the erf⁻¹ tails' branch taken at 11.6 % of the steps. W follows the registers
(65 536 per SM, one-warp programs: 8 warps per SM at 255 registers, 2 per scheduler). The model's collisions/s:
528 schedulers × clock × configurations per warp × W / cycles per warp-step.

It is a bound from the schedule the compiler wrote, not a prediction: on an H200 (2026-12-04, session 31) six programs
ran at 0.46–0.85 of it (benchmarks/RESULTS_ensemble.md, session 33), so the GPU's time goes partly elsewhere
(what the model leaves out: instruction fetch, register-bank conflicts, the clock under load, memory queues), and
variants must be timed. Needs ``pip install triton``. Run:
  python benchmarks/sass_issue_model.py [--settings tile.TILE=64,tile.REGISTER_LIMIT=128] [--dtypes float32] [--json out]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import sys

import jax.numpy as jnp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tile_kernel_sass as sass_counts  # noqa: E402
from _timing import apply_settings, parse_settings  # noqa: E402

from jaxthermo.ensemble import _sampling as sampling  # noqa: E402
from jaxthermo.ensemble import _tile_kernel as tile_kernel  # noqa: E402

# cycles until a scoreboard is released, by opcode (assumed for sm_90: L1 hits for loads); unlisted: 14
LATENCY = {
    "MUFU": 20,
    "SHFL": 26,
    "LDG": 40,
    "LDL": 40,
    "LDS": 30,
    "LDC": 20,
    "S2R": 20,
    "S2UR": 20,
    "STG": 20,
    "STL": 20,
}
READ_LATENCY = 12  # a store's or long-latency instruction's source registers read
# cycles a warp instruction occupies its pipe on one scheduler (32 lanes / lanes of the unit)
PIPES = {
    **dict.fromkeys(("MUFU", "I2F", "F2I", "F2F", "I2FP", "F2FP", "POPC", "FLO", "BREV", "FRND"), ("xu", 8)),
    **dict.fromkeys(("DFMA", "DADD", "DMUL", "DSETP", "DMNMX"), ("fp64", 2)),
    **dict.fromkeys(("IMAD", "VIADD"), ("fma_heavy", 2)),
    **dict.fromkeys(("LOP3", "IADD3", "SHF", "ISETP", "FSETP", "FSEL", "SEL", "FMNMX", "PLOP3", "LEA"), ("alu", 2)),
    **dict.fromkeys(("SHFL", "LDS", "STS"), ("mio", 4)),
    **dict.fromkeys(("LDG", "STG", "LDL", "STL"), ("lsu", 4)),
}
SCHEDULERS, CLOCK = 132 * 4, 1.98e9  # H200


def instructions(listing):
    """(address, text, stall, write scoreboard, read scoreboard, wait mask) of each instruction of a cuobjdump listing."""
    lines, out = listing.splitlines(), []
    for line, upper in zip(lines, lines[1:]):
        m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;\s*/\* 0x[0-9a-f]{16} \*/", line)
        c = re.search(r"/\* (0x[0-9a-f]{16}) \*/", upper)
        if m and c:
            ctrl = int(c.group(1), 16) >> 41
            out.append(
                (int(m.group(1), 16), m.group(2), ctrl & 15, (ctrl >> 5) & 7, (ctrl >> 8) & 7, (ctrl >> 11) & 63)
            )
    return out


def collision_loop(ins):
    """The loop over collisions (the innermost backward branch spanning > 500 instructions) as (with its forward
    branches taken, executed), the first without the spans of forward branches over > 100 instructions (erf⁻¹'s tails)."""
    where = {x[0]: k for k, x in enumerate(ins)}
    spans = []
    for k, x in enumerate(ins):
        m = re.search(r"\bBRA\b.*?(0x[0-9a-f]+)", x[1])
        if m and int(m.group(1), 16) in where:
            spans.append((where[int(m.group(1), 16)], k))
    lo, hi = min(((a, b) for a, b in spans if b - a > 500), key=lambda s: s[1] - s[0])
    body = ins[lo : hi + 1]
    skipped = set()
    for a, b in spans:
        if lo <= b < a <= hi and a - b > 100:
            skipped |= set(range(b + 1 - lo, a - lo))
    return [x for k, x in enumerate(body) if k not in skipped], body


def cycles_per_step(body, warps, steps=3):
    """Cycles per step of each of ``warps`` warps running ``body`` together on one scheduler (steady state)."""
    ops = [re.sub(r"^@!?U?P\w+\s+", "", x[1]).split()[0].split(".")[0] for x in body]
    ready, pc, done = [0.0] * warps, [0] * warps, [0] * warps
    boards = [[0.0] * 6 for _ in range(warps)]
    pipe_free, ends = collections.defaultdict(float), [[] for _ in range(warps)]
    t, last = 0.0, 0
    for _ in range(warps * steps * len(body)):
        best = None
        for j in range(warps):
            w = (last + 1 + j) % warps
            if done[w] == steps:
                continue
            _, _, _, _, _, wait = body[pc[w]]
            at = max([ready[w]] + [boards[w][b] for b in range(6) if wait >> b & 1])
            if ops[pc[w]] in PIPES:
                at = max(at, pipe_free[PIPES[ops[pc[w]]][0]])
            if best is None or at < best[0]:
                best = (at, w)
        at, w = best
        t = max(t, at)
        _, _, stall, write, read, _ = body[pc[w]]
        op = ops[pc[w]]
        if op in PIPES:
            pipe_free[PIPES[op][0]] = t + PIPES[op][1]
        ready[w] = t + max(stall, 1)
        if write != 7:
            boards[w][write] = max(boards[w][write], t + LATENCY.get(op, 14))
        if read != 7:
            boards[w][read] = max(boards[w][read], t + READ_LATENCY)
        t, last, pc[w] = t + 1, w, pc[w] + 1
        if pc[w] == len(body):
            pc[w], done[w] = 0, done[w] + 1
            ends[w].append(ready[w])
    return sum((e[-1] - e[0]) / (len(e) - 1) for e in ends) / warps


def model(dtype, alphas):
    """The model's figures for the tile kernel of ``dtype`` with ``alphas`` under the current module settings."""
    planes = tile_kernel.histogram_planes(dtype)
    block = (2**planes - 1) // tile_kernel.configurations_per_counter() if planes else 1
    module = sass_counts.triton_module(dtype, alphas, n_steps=max(sass_counts.N_STEPS, 2 * block + 1))
    listing, (regs, _) = sass_counts.compile_sass(module, tile_kernel.NUM_WARPS, encodings=True)
    executed, full = collision_loop(instructions(listing))
    warps = min(65536 // (32 * 8 * math.ceil(regs / 8)), 32) // 4  # per scheduler
    per_warp = tile_kernel.TILE // tile_kernel.NUM_WARPS
    # a step of the warp runs erf⁻¹'s tails where one of its draws needs them (w ≥ 6.25, tile_kernel_sass.py)
    # (FLOAT32_TRANSFORM: float32's own polynomials cover w < 16, the branch holds double's far tail only)
    w_tail = 16.0 if sampling.FLOAT32_TRANSFORM and jnp.dtype(dtype) == jnp.float32 else 6.25
    p_tails = 1.0 - math.sqrt(1.0 - math.exp(-w_tail)) ** per_warp if tile_kernel.BRANCH_TAILS else 1.0
    cycles = {w: (1 - p_tails) * cycles_per_step(executed, w) + p_tails * cycles_per_step(full, w) for w in (1, warps)}
    return {
        "registers": regs,
        "warps_per_scheduler": warps,
        "loop_instructions_without_tails": len(executed),
        "cycles_per_step_one_warp": round(cycles[1]),
        "cycles_per_warp_step": round(cycles[warps]),
        "model_collisions_per_s": SCHEDULERS * CLOCK * per_warp * warps / cycles[warps],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default="",
        help="module settings (apply_settings), e.g. tile.TILE=64,sampling.FLOAT32_TRANSFORM=0",
    )
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    apply_settings(parse_settings(args.settings))
    results = {"settings": args.settings or "defaults"}
    for name in args.dtypes.split(","):
        for label, alphas in (("default", (1.0, float("inf"))), ("alphas=()", ())):
            row = results[f"{name} {label}"] = model(jnp.dtype(name), alphas)
            print(f"{name} {label}: {row}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
