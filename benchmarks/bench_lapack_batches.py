"""Speed regained where jaxthermo no longer works around jaxlib 0.10's LAPACK batch splitting
(docs/xla_cpu_hangs.md): coherent-state qutrit ensembles on every CPU device with per-device
chunks uncapped against the former cap of 128, and model C with times batched through ``lax.map``
against one time after another. Each case is compiled first and timed as the best of ``--repeat``.

    python benchmarks/bench_lapack_batches.py            # defaults: ~1-2 min on 2 cores
"""

import argparse
import time

import jax
import numpy as np

import jaxthermo as jt
from jaxthermo._runtime import installed_jaxlib
from jaxthermo.ensemble import _engine


def best_of(fn, repeat):
    fn()  # compile
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def coherent_qutrits(n_configs, n_steps, repeat):
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    v = np.exp(1j * np.arange(3)) / np.sqrt(3)
    rho0 = 0.5 * np.outer(v, v.conj()) + 0.5 * np.eye(3) / 3
    out = {}
    for label, capped in (("capped at 128 per device", True), ("uncapped (default)", False)):
        _engine.lapack_splits_batches = capped  # the cap applies only on the affected releases

        def run():
            res = jt.ensemble(model, rho0, n_steps, n_configs, seed=0, progress=False)
            jax.block_until_ready(res.mean_divergence)
            return res

        out[label] = best_of(run, repeat)
        print(
            f"  coherent qutrit ensemble, {label}: {out[label]:.2f} s "
            f"({n_configs * n_steps / out[label]:.3g} collisions/s)",
            flush=True,
        )
    return out


def model_c(n_modes, n_times, repeat):
    res = jt.QuadraticReservoirs.from_regime(
        n1=n_modes,
        n2=n_modes,
        detuning=0.3,
        effective_coupling=1.0,
        nu2=2.0,
        g=0.1,
        beta1=2.0,
        beta2=0.5,
        statistics="fermion",
    )
    times = np.linspace(0.0, 5.0, n_times)
    out = {}
    for b in (1, 8):
        out[b] = best_of(
            lambda b=b: jax.block_until_ready(res.energetics(times, batch_size=b).minimal_dissipation.heat), repeat
        )
        print(f"  model C, {2 * n_modes} modes, {n_times} times, batch_size={b}: {out[b]:.2f} s", flush=True)
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", type=int, default=65536)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--modes", type=int, default=40, help="modes per reservoir (model C)")
    p.add_argument("--times", type=int, default=61)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    print(f"jax {jax.__version__}, jaxlib {installed_jaxlib()}, {len(jax.devices())} CPU devices")
    q = coherent_qutrits(a.configs, a.steps, a.repeat)
    c = model_c(a.modes, a.times, a.repeat)
    print(f"qutrit ensemble: uncapped / capped speed = {q['capped at 128 per device'] / q['uncapped (default)']:.2f}")
    print(f"model C: batched by 8 / sequential speed = {c[1] / c[8]:.2f}")
