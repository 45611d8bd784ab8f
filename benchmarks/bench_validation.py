"""What validation costs: ``jaxthermo.config.validate`` = "off", "eager" (the default) and "always".

Three workloads, each compiled first under each setting (the setting is read at trace time, so
every setting gets its own traced function), then timed best of 5 (the settings interleaved for
(a), whose checks run on the host; :func:`best_times`):

(a) ``jt.ensemble`` with default arguments, qubit, 10⁵ configurations × 100 collisions;
(b) ``jax.jit(collide)`` (model A) on a batch of 10⁵ states through ``vmap``;
(c) model B ``propagate`` of a batch of 64 models over 200 times.

Prints the times and the ratios to "off". Usage: ``python benchmarks/bench_validation.py [--quick]
[--skip-always] [(a)|(b)|(c) ...]``. Under "always" the staged checks of a vmapped call run their
host callback once per batch member, so (b) with "always" takes minutes: a plain run skips it,
naming a case explicitly (``(b)``) times it.
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp

import jaxthermo as jt

MODES = tuple(m for m in ("off", "eager", "always") if f"--skip-{m}" not in sys.argv)
QUICK = "--quick" in sys.argv
N_CONFIGS = 10_000 if QUICK else 100_000
N_STATES = 10_000 if QUICK else 100_000


def best_times(make, modes, repeats=5, interleave=False):
    """Best-of-``repeats`` time per setting. The setting is read at trace time, so each setting
    traces and compiles its own function first. ``interleave``: the settings are timed in turn
    within each repeat, so a change of machine load hits every setting alike — only valid where
    the setting acts outside the compiled program (the ensemble's checks run on the host); otherwise
    each setting is timed after ``jax.clear_caches()``, so that library functions jitted inside are
    traced afresh under it."""
    fns, best = {}, dict.fromkeys(modes, float("inf"))
    for mode in modes:
        with jt.config.override(validate=mode):
            if not interleave:
                jax.clear_caches()
            fns[mode] = make()
            jax.block_until_ready(fns[mode]())  # trace + compile under this setting
            if not interleave:
                best[mode] = _best(fns[mode], repeats)
    if interleave:
        for _ in range(repeats):
            for mode in modes:
                with jt.config.override(validate=mode):
                    best[mode] = min(best[mode], _best(fns[mode], 1))
    return best


def _best(fn, repeats):
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        out = min(out, time.perf_counter() - t0)
    return out


def ensemble_case():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    rho0 = jnp.diag(jnp.array([0.3, 0.7]))
    return lambda: jt.ensemble(model, rho0, 100, N_CONFIGS, 0, progress=False).mean_work


def collide_case():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)
    p = jnp.linspace(0.1, 0.9, N_STATES)
    rhos = jax.vmap(lambda x: jnp.diag(jnp.array([x, 1.0 - x])))(p)
    deltas = jnp.linspace(-0.1, 0.1, N_STATES)
    f = jax.jit(jax.vmap(lambda r, d: jt.collide(model, r, d).energetics.work))
    return lambda: f(rhos, deltas)


def propagate_case():
    model = jt.qubit_example().replace(lam=jnp.linspace(0.0, 0.1, 64))
    rho0 = jnp.eye(2) / 2
    times = jnp.linspace(0.0, 10.0, 200)
    return lambda: jt.propagate(model, rho0, times)


def main():
    cases = {"(a) ensemble": ensemble_case, "(b) jit(vmap(collide))": collide_case, "(c) propagate": propagate_case}
    print(f"devices: {len(jax.devices())} x {jax.devices()[0].platform}; quick={QUICK}")
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    for name, make in cases.items():
        if only and not any(o in name for o in only):
            continue
        modes = MODES
        if name.startswith("(b)") and not only:  # "always" under vmap: a host callback per member, minutes
            modes = tuple(m for m in MODES if m != "always")
        times = best_times(make, modes, repeats=5, interleave=name.startswith("(a)"))
        ratios = ", ".join(f"{m}/off = {times[m] / times['off']:.3f}" for m in modes[1:])
        print(f"{name}: " + ", ".join(f"{m} {times[m]:.3f} s" for m in modes) + f"; {ratios}", flush=True)


if __name__ == "__main__":
    main()
