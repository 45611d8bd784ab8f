"""Ensemble throughput on a GPU with default arguments, what limits it, and GPU = CPU results.

Workload as in ``bench_ensemble.py`` (partial swap θ = 0.1, Gaussian δ σ = 0.05, the fixed coherent
state of that script, every statistic streamed), N = 1000 collisions. Each row is the call a user
makes, ``jt.ensemble(model, rho0, N, n_configs[, dtype=jnp.float32])``: default chunking, default
divergences (α = 1, ∞), default draws. Rows marked "special" change one argument and say which.

Rates are steady-state collisions/s: configurations finished between the first and the last
finished chunk over that time (compilation and the pilot run excluded); the two headline rows
also give the wall-clock rate of a whole second call. Ceilings measured in the same run: the
device-to-device copy bandwidth (bytes read + written) and the float32/float64 multiply-add rate of
a long fused elementwise chain. ``--profile`` writes a trace (perfetto JSON) of the headline call
under ``--out``.

Run:  python benchmarks/bench_ensemble_gpu.py [--quick] [--out DIR] [--profile] [--big-configs 100000000]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _timing import median_time, parse_settings, program  # noqa: E402
from bench_ensemble import _model, coherent_state  # noqa: E402

import jaxthermo as jt  # noqa: E402


class _Enough(Exception):
    """Raised from the chunk callback once a row has run long enough."""


def _device_line():
    dev = jax.devices()[0]
    line = f"{dev.device_kind} ({dev.platform}), {len(jax.devices())} device(s), jax {jax.__version__}"
    try:
        smi = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total",
                "--format=csv,noheader",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
        line += f"; nvidia-smi: {smi}"
    except Exception:
        pass
    return line


def _copy_rate(n):
    x = jnp.ones((n,), jnp.float32) * 1.25
    f = jax.jit(lambda v: v * 1.5 + 0.5)
    return 2 * 4 * n / median_time(lambda: f(x))


def ceilings(quick=False):
    """Copy bandwidth (bytes read + written per second) and the multiply-add rate (FLOP/s, 2 per FMA)."""
    out = {"copy_bytes_per_s": _copy_rate(2**20 if quick else 2**30)}
    m, k = (2**16 if quick else 2**26), 256

    def chain(v):
        for _ in range(k):
            v = v * 0.999 + 0.001
        return v

    g = jax.jit(chain)
    for name, dt in (("float32", jnp.float32), ("float64", jnp.float64)):
        y = jnp.linspace(0.0, 1.0, m, dtype=dt)
        out[f"fma_flop_per_s_{name}"] = 2 * k * m / median_time(lambda y=y: g(y))
    return out


def rate(d, n_steps, n_configs, cap_s, coherent=True, wall=False, settings=None, **kwargs):
    """Steady-state collisions/s of ``jt.ensemble`` (and the wall-clock rate of a warm second call if ``wall``)."""
    if settings:
        with program(settings):
            return rate(d, n_steps, n_configs, cap_s, coherent, wall, **kwargs)
    model, rho0 = _model(d), coherent_state(d)
    if not coherent:
        rho0 = np.diag(np.diag(rho0))
    marks = []

    def cb(c, done):
        marks.append((time.perf_counter(), done))
        if not wall and len(marks) >= 3 and marks[-1][0] - marks[0][0] > cap_s:
            raise _Enough

    t = time.perf_counter()
    res = None
    try:
        res = jt.ensemble(model, rho0, n_steps, n_configs, callback=cb, **kwargs)
    except _Enough:
        pass
    row = {"first_call_s": time.perf_counter() - t, "chunks_timed": len(marks)}
    if len(marks) >= 2:
        (ta, na), (tb, nb) = marks[0], marks[-1]
        row["collisions_per_s"] = (nb - na) * n_steps / (tb - ta)
        row["chunk_configs"] = marks[1][1] - marks[0][1]
    if res is not None:
        row["mean_total_work"] = float(res.mean_total_work)
    row["peak_device_bytes_so_far"] = (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use")
    if wall:
        t = time.perf_counter()
        res = jt.ensemble(model, rho0, n_steps, n_configs, **kwargs)
        row["wall_s"] = time.perf_counter() - t
        row["wall_collisions_per_s"] = n_configs * n_steps / row["wall_s"]
    return row


def _fmt(row):
    r = row.get("collisions_per_s", float("nan"))
    extra = f", whole warm call {row['wall_collisions_per_s']:.3g}/s" if "wall_collisions_per_s" in row else ""
    return f"{r:.3g} collisions/s (chunk {row.get('chunk_configs')}, first call {row['first_call_s']:.1f} s{extra})"


def gpu_equals_cpu(n_steps=50, n_configs=4096):
    """Largest relative difference, over every field of the result, between the GPU and the CPU
    devices for the same seed (float64 unless labelled), and whether every histogram count agrees:
    qubits (the tile kernel on the GPU: coherent, diagonal, a θ schedule, float32, and the kernel's
    variants at once: 64-configuration tiles, 128 registers, the loop pipelined, float32 draws as float64's
    erf⁻¹ rounded, the program before session 35, and the tile sums' order swapped between float32 and
    float64) and a qutrit."""
    out = {}
    cpu = jax.devices("cpu")
    cases = {
        "d=2": (2, True, {}),
        "d=2 diagonal": (2, False, {}),
        "d=2 theta schedule": (2, True, {"theta": np.linspace(0.05, 0.3, n_steps)}),
        "d=2 float32": (2, True, {"dtype": jnp.float32}),
        "d=3": (3, True, {}),
    }
    variants = {
        "tile.TILE": 64,
        "tile.REGISTER_LIMIT": 128,
        "tile.PIPELINE": True,
        "sampling.FLOAT32_TRANSFORM": False,
        "tile.SUMS_FIRST": "float64",
    }
    cases["d=2 kernel variants"] = (2, True, {"settings": variants})
    cases["d=2 float32 kernel variants"] = (2, True, {"dtype": jnp.float32, "settings": variants})
    for label, (d, coherent, extra) in cases.items():
        model, rho0 = _model(d), coherent_state(d)
        if not coherent:
            rho0 = np.diag(np.diag(rho0))
        if "theta" in extra:
            model = dataclasses.replace(model, theta=extra["theta"])
        kw = {k: v for k, v in extra.items() if k not in ("theta", "settings")}
        with program(extra["settings"]) if "settings" in extra else contextlib.nullcontext():
            a = jt.ensemble(model, rho0, n_steps, n_configs, seed=3, **kw)
            b = jt.ensemble(model, rho0, n_steps, n_configs, seed=3, devices=cpu, **kw)  # the draws' settings too
        worst, counts_equal = 0.0, True
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if hasattr(x, "counts"):
                counts_equal &= bool(np.array_equal(x.counts, y.counts)) and x.underflow == y.underflow
                continue
            if isinstance(x, np.ndarray) and x.dtype.kind in "fc" and x.size:
                ok = np.isfinite(y)
                scale = max(float(np.max(np.abs(y[ok]))), 1e-300) if ok.any() else 1.0
                with np.errstate(invalid="ignore"):
                    worst = max(worst, float(np.max(np.abs(np.where(ok, x - y, 0)))) / scale)
        out[label] = {"max_rel_diff": worst, "histograms_equal": counts_equal}
    return out


def profile(out_dir, n_steps, n_configs, dtype):
    """A perfetto trace of the headline call (two chunks, compiled beforehand)."""

    engine = importlib.import_module("jaxthermo.ensemble._engine")
    dev = jax.devices()[0]
    default = engine.default_chunk_size(n_steps, 1, 1, dev.platform, engine.device_memory_bytes(dev))
    per = engine.balanced_per_device(n_configs, default, 1)
    model, rho0 = _model(2), coherent_state(2)
    jt.ensemble(model, rho0, n_steps, per, chunk_size=per, dtype=dtype)  # compiled
    tdir = os.path.join("/tmp", "jaxthermo_trace")
    shutil.rmtree(tdir, ignore_errors=True)
    with jax.profiler.trace(tdir, create_perfetto_trace=True):
        jt.ensemble(model, rho0, n_steps, 2 * per, chunk_size=per, dtype=dtype)
    found = glob.glob(os.path.join(tdir, "**", "*perfetto_trace.json.gz"), recursive=True)
    if found:
        shutil.copy(found[0], os.path.join(out_dir, "trace.json.gz"))
    return {"per_device_chunk": per, "trace_files": [os.path.relpath(p, tdir) for p in found]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, also on CPU)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--configs", type=int, default=2**24, help="configurations of the headline rows")
    parser.add_argument("--cap", type=float, default=2.5, help="seconds of steady state per other row")
    parser.add_argument("--out", default=os.environ.get("OUT", "."))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--big-configs", type=int, default=0, help="a streamed float32 run (e.g. 10⁸; 0 skips)")
    parser.add_argument(
        "--tiles", default="", help="special rows of the tile kernel, e.g. 128x4,512x8 (configurations x warps)"
    )
    parser.add_argument(
        "--rows", default="", help="run only the rows whose label contains one of these (separated by ;)"
    )
    parser.add_argument(
        "--settings",
        default="",
        help="special rows with the engine's settings changed, groups separated by |, e.g. "
        "'tile.HISTOGRAM=product,tile.TILE=1024|tile.KERNEL_DRAWS=False'",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the GPU = CPU comparison")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.configs, args.cap = 20, 2**14, 0.5
    n, steps = args.configs, args.steps
    out = {"device": _device_line(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "n_steps": steps}
    print(out["device"], flush=True)
    f32, f64 = jnp.float32, jnp.float64

    def section(name, fn):
        t = time.perf_counter()
        try:
            out[name] = fn()
        except Exception as exc:
            traceback.print_exc()
            out[name] = {"error": repr(exc)}
        print(f"[{name}] ({time.perf_counter() - t:.1f} s) {out[name]}", flush=True)
        with open(os.path.join(args.out, "bench_ensemble_gpu.json"), "w") as fh:
            json.dump(out, fh, indent=1)

    section("ceilings", lambda: ceilings(args.quick))
    rows = [
        ("qubit float32, default", dict(d=2, dtype=f32, wall=True, n_configs=n)),
        ("qubit float64, default", dict(d=2, dtype=f64, wall=True, n_configs=n)),
        ("qubit float32, diagonal rho0", dict(d=2, dtype=f32, coherent=False, n_configs=n)),
        ("qutrit float32, default", dict(d=3, dtype=f32, n_configs=n)),
        ("qutrit float64, default", dict(d=3, dtype=f64, n_configs=n)),
        ("d=8 float32, default (one chunk, whole warm call)", dict(d=8, dtype=f32, wall=True, n_configs=n // 16)),
        ("d=8 float64, default (one chunk, whole warm call)", dict(d=8, dtype=f64, wall=True, n_configs=n // 16)),
        ("qubit float32, special alphas=()", dict(d=2, dtype=f32, alphas=(), n_configs=n)),
        ("qubit float64, special alphas=()", dict(d=2, dtype=f64, alphas=(), n_configs=n)),
        (
            "qubit float32, special: XLA's scan program (no tile kernel)",
            dict(d=2, dtype=f32, n_configs=n, settings={"engine._TILE_KERNEL": False}),
        ),
        (
            "qubit float64, special: XLA's scan program (no tile kernel)",
            dict(d=2, dtype=f64, n_configs=n, settings={"engine._TILE_KERNEL": False}),
        ),
        (
            "qubit float32, special: histogram by comparison with every slot (tile kernel until 2026-12-01)",
            dict(d=2, dtype=f32, n_configs=n, settings={"tile.HISTOGRAM_PLANES": 0}),
        ),
        (
            "qubit float64, special: histogram by vertical counters (2026-12-01 to 2026-12-04)",
            dict(d=2, dtype=f64, n_configs=n, settings={"tile.HISTOGRAM_PLANES_FLOAT64": 10}),
        ),
    ]
    for spec in filter(None, args.tiles.split(",")):
        tile, warps = (int(v) for v in spec.split("x"))
        for name, dt in (("float32", f32), ("float64", f64)):
            settings = {"tile.TILE": tile, "tile.NUM_WARPS": warps}
            rows.append(
                (
                    f"qubit {name}, special tile kernel {tile} configurations x {warps} warps",
                    dict(d=2, dtype=dt, n_configs=n, settings=settings),
                )
            )
    for group in filter(None, args.settings.split("|")):
        settings = parse_settings(group)
        for name, dt in (("float32", f32), ("float64", f64)):
            rows.append((f"qubit {name}, special {group}", dict(d=2, dtype=dt, n_configs=n, settings=settings)))
    if args.rows:
        rows = [(label, kw) for label, kw in rows if any(k in label for k in args.rows.split(";"))]
    if not args.no_check:
        section("gpu_equals_cpu", gpu_equals_cpu)
    for label, kw in rows:
        section(label, lambda kw=kw: rate(n_steps=steps, cap_s=args.cap, **kw))
    if args.profile:
        section("profile", lambda: profile(args.out, steps, n, f32))
    if args.big_configs:
        section("streamed", lambda: rate(2, steps, args.big_configs, 1e9, dtype=f32))
    print("\nsummary (collisions/s, steady state):", flush=True)
    for label, _ in rows:
        row = out.get(label, {})
        print(f"  {label:45s} " + (_fmt(row) if "first_call_s" in row else str(row)), flush=True)


if __name__ == "__main__":
    main()
