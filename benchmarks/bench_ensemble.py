"""Ensemble throughput side by side, one run, one machine.

Workload: model A, qubit (and qutrit), system state with coherences, partial swap θ = 0.1,
Hamiltonian kind, Gaussian δ (σ = 0.05), N = 100 collisions per configuration; per collision the
work and heat, and the mean state. Compared:

* jaxthermo: ``jaxthermo.ensemble`` with default arguments (every statistic streamed: mean state,
  mean/var of W, Q, ΔU and the cumulative W, Q, ΔU, cumulants of W_N and Q_N, ⟨e^{−βW_N}⟩,
  histograms, D_α for α = 1, ∞), second call (compiled), the devices jaxthermo sets up at import
  (one per core); also ``alphas=()`` and a diagonal ρ0 for comparison;
* for d = 4…8, a hand-written batched JAX closed form (jit, scan over collisions, the same
  per-configuration draws, mean state and mean/var of W and Q only) against the generic path;
* batched NumPy, written as a physicist would: the closed form ρ' = c²ρ + s²τ + isc[τ, ρ] on
  (M, d, d) arrays, work and heat from populations (vectorised over configurations);
* batched NumPy, full density matrix: X = ρ ⊗ τ, U X U†, partial traces (einsum);
* a QuTiP loop over collisions: tensor, U X U†, ptrace, expect, per configuration;
* the qubit in float32 (default, ``alphas=()``, diagonal ρ0; special: δ as float64's erf⁻¹ rounded).

Also: first-call compile time for N = 1000; peak memory (RSS, one fresh subprocess per size) for
10⁵, 10⁶, 10⁷ configurations; float32 vs float64 accuracy.

Run:  python benchmarks/bench_ensemble.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

N_CORES = os.cpu_count() or 1
# No environment flags: jaxthermo itself gives one CPU device per core at import.

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THETA, SIGMA, BETA, G0, N_STEPS = 0.1, 0.05, 1.0, 1.0, 100


def coherent_state(d):
    """A fixed full-rank state with coherences (d, d)."""
    v = np.exp(1j * np.arange(d)) / np.sqrt(d)
    return 0.5 * np.outer(v, v.conj()) + 0.5 * np.eye(d) / d


def _model(d):
    import jaxthermo as jt

    return jt.InhomogeneousReservoir(d, BETA, G0, THETA, distribution=jt.Gaussian(SIGMA))


def bench_jaxthermo(d, n_configs, dtype=None, repeats=2, diagonal=False, **kwargs):
    """Collisions/s of ``jt.ensemble`` (default arguments unless ``kwargs``), best of ``repeats``."""
    import jaxthermo as jt

    model, rho0 = _model(d), coherent_state(d)
    if diagonal:
        rho0 = np.diag(np.diag(rho0))
    jt.ensemble(model, rho0, N_STEPS, n_configs, dtype=dtype, **kwargs)  # compile (same chunk size)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        res = jt.ensemble(model, rho0, N_STEPS, n_configs, dtype=dtype, **kwargs)
        best = min(best, time.perf_counter() - t)
    return n_configs * N_STEPS / best, res


def jax_closed_form(d, n_configs):
    """A hand-written batched JAX closed form: ρ' = c²ρ + s²τ + isc[τ, ρ] on (M, d, d), W and Q from
    populations, mean state and mean/var of W and Q per step; δ drawn per configuration from
    fold_in(key, i) like the engine; one jit, all configurations in one chunk (no sharding).
    Returns a function that runs it once (compiled) and waits for the result."""
    import jax
    import jax.numpy as jnp

    m = jnp.arange(d) - (d - 1) / 2
    c, s = np.cos(THETA), np.sin(THETA)
    rho0 = jnp.asarray(coherent_state(d))

    @jax.jit
    def run(idx):
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(0), i))(idx)
        deltas = SIGMA * jax.vmap(lambda k: jax.random.normal(k, (N_STEPS,)))(keys)

        def step(rho, delta):
            q = jax.nn.softmax(-BETA * G0 * (1 + delta)[:, None] * m[None, :], axis=-1)
            p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
            comm = (q[:, :, None] - q[:, None, :]) * rho
            rho = c * c * rho + 1j * s * c * comm + s * s * jax.vmap(jnp.diag)(q)
            shift = ((q - p) * m).sum(axis=1)
            work, heat = -(G0 * delta) * s * s * shift, G0 * (1 + delta) * s * s * shift
            return rho, (rho.mean(0), work.mean(), work.var(), heat.mean(), heat.var())

        return jax.lax.scan(step, jnp.broadcast_to(rho0, (idx.shape[0], d, d)), deltas.T)[1]

    idx = jnp.arange(n_configs, dtype=jnp.uint32)
    jax.block_until_ready(run(idx))
    return lambda: jax.block_until_ready(run(idx))


def bench_jax_closed_form(d, n_configs, repeats=2):
    """Collisions/s of :func:`jax_closed_form`, best of ``repeats`` compiled calls."""
    once = jax_closed_form(d, n_configs)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        once()
        best = min(best, time.perf_counter() - t)
    return n_configs * N_STEPS / best


def jax_closed_form_fresh(d, n_configs, repeats=2):
    """Collisions/s of :func:`bench_jax_closed_form` in a fresh subprocess that does not import
    jaxthermo: JAX's own default (one CPU device, whose XLA loops may use every core), as a user's
    hand-written code runs; in a process with jaxthermo's one-device-per-core setup the same code is
    ×1.5–2 slower (benchmarks/RESULTS_ensemble.md)."""
    code = (
        f"import sys; sys.path.insert(0, {HERE!r}); import bench_ensemble as B; "
        f"print(B.bench_jax_closed_form({d}, {n_configs}, repeats={repeats}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(), check=True)
    return float(out.stdout.split()[-1])


def _alternated_rates(d, n_configs, rounds, baseline=None):
    """Collisions/s of ``jt.ensemble`` with default arguments (coherent and diagonal ρ0) and with ``alphas=()``,
    compiled first, then timed round by round (after ``baseline()``'s rate, under ``"jax_closed_form"``, where
    given) so that the machine's drift hits all alike: {name: [rate per round]}."""
    import jaxthermo as jt

    model, rho = _model(d), coherent_state(d)
    variants = {
        "jaxthermo": (rho, {}),
        "jaxthermo_diagonal": (np.diag(np.diag(rho)), {}),
        "jaxthermo_alphas_none": (rho, {"alphas": ()}),
    }
    for r0, kw in variants.values():
        jt.ensemble(model, r0, N_STEPS, n_configs, **kw)  # compile
    rates = {name: [] for name in ([] if baseline is None else ["jax_closed_form"]) + list(variants)}
    for _ in range(rounds):
        if baseline is not None:
            rates["jax_closed_form"].append(baseline())
        for name, (r0, kw) in variants.items():
            t = time.perf_counter()
            jt.ensemble(model, r0, N_STEPS, n_configs, **kw)
            rates[name].append(n_configs * N_STEPS / (time.perf_counter() - t))
    return {name: np.asarray(r) for name, r in rates.items()}


def generic_against_closed_form(d, n_configs, rounds=3):
    """The generic path (default arguments with a coherent and a diagonal ρ0, ``alphas=()``) against
    the hand-written closed form (:func:`jax_closed_form_fresh`), alternated round by round so that
    the machine's drift hits both alike: best collisions/s of each, and per variant the median over
    rounds of closed-form rate / its rate (how many times faster the closed form is)."""
    rates = _alternated_rates(d, n_configs, rounds, baseline=lambda: jax_closed_form_fresh(d, n_configs))
    out = {name: float(r.max()) for name, r in rates.items()}
    for name, r in rates.items():
        if name != "jax_closed_form":
            out[f"closed_form_over_{name}_median"] = float(np.median(rates["jax_closed_form"] / r))
    return out


def default_against_alphas_none(d, n_configs, rounds=5):
    """Default arguments (coherent and diagonal ρ0) against ``alphas=()``, alternated round by round so that the
    machine's drift hits all three alike: best collisions/s of each, and the median over rounds of each default
    rate / the ``alphas=()`` rate of the same round (best against best moved by 0.04–0.08 between two runs of the
    same code, benchmarks/RESULTS_ensemble.md, session 50)."""
    rates = _alternated_rates(d, n_configs, rounds)
    out = {name: float(r.max()) for name, r in rates.items()}
    none = rates["jaxthermo_alphas_none"]
    out["default_over_alphas_none_median"] = float(np.median(rates["jaxthermo"] / none))
    out["diagonal_over_alphas_none_median"] = float(np.median(rates["jaxthermo_diagonal"] / none))
    return out


def float32_throughput(n_configs, rounds=3):
    """Qubit collisions/s in float32 (default, ``alphas=()``, diagonal ρ0) beside float64's default, and,
    labelled special, float32 with δ as float64's erf⁻¹ rounded (``_sampling.FLOAT32_TRANSFORM = False``,
    the program before session 35; default: the float64 uniforms turned into δ in float32). Rounds
    alternate the two float32 programs; best of each."""
    import jax.numpy as jnp
    from _timing import program

    f32 = jnp.float32
    row = dict(default=0.0, special_float64_erfinv_rounded=0.0)
    for _ in range(rounds):
        row["default"] = max(row["default"], bench_jaxthermo(2, n_configs, dtype=f32)[0])
        with program({"sampling.FLOAT32_TRANSFORM": False}):
            rate = bench_jaxthermo(2, n_configs, dtype=f32)[0]
        row["special_float64_erfinv_rounded"] = max(row["special_float64_erfinv_rounded"], rate)
    row["alphas_none"] = bench_jaxthermo(2, n_configs, dtype=f32, alphas=())[0]
    row["diagonal"] = bench_jaxthermo(2, n_configs, dtype=f32, diagonal=True)[0]
    row["float64_default"] = bench_jaxthermo(2, n_configs)[0]
    return row


def profile_qubit(n_configs):
    """Where the time of the default coherent-qubit call goes: collisions/s of the δ draws alone, of
    ``alphas=()`` and of the default call (differences give the divergences' and the rest's share)."""
    import jax
    import jax.numpy as jnp

    from jaxthermo.ensemble._sampling import sample_chunk

    model = _model(2)
    per_dev = -(-n_configs // len(jax.devices()))
    idx = jnp.arange(per_dev, dtype=jnp.uint32)
    draws = jax.jit(lambda i: jnp.sum(sample_chunk(model.distribution, jax.random.key(0), i, N_STEPS, jnp.float64)))
    jax.block_until_ready(draws(idx))
    t = time.perf_counter()
    jax.block_until_ready(draws(idx))
    t_draws = time.perf_counter() - t  # one device's share, one core
    rate_none, _ = bench_jaxthermo(2, n_configs, alphas=())
    rate_default, _ = bench_jaxthermo(2, n_configs)
    total = n_configs * N_STEPS
    ns = lambda rate: 1e9 * len(jax.devices()) / rate  # core-ns per collision
    return dict(
        draws_ns=1e9 * t_draws / (per_dev * N_STEPS),
        alphas_none_ns=ns(rate_none),
        default_ns=ns(rate_default),
        collisions=total,
    )


def _thermal_q(d, delta):
    m = np.arange(d) - (d - 1) / 2
    logits = -BETA * G0 * (1 + delta)[:, None] * m[None, :]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_start(d, n_configs, seed):
    """Random generator, initial states (M, d, d), mean states, per-collision work and heat arrays."""
    rng = np.random.default_rng(seed)
    rho = np.broadcast_to(coherent_state(d), (n_configs, d, d)).copy()
    mean_state = np.zeros((N_STEPS, d, d), complex)
    return rng, rho, mean_state, np.zeros((N_STEPS, n_configs)), np.zeros((N_STEPS, n_configs))


def _swap_matrix(d):
    sw = np.zeros((d * d, d * d))
    for a in range(d):
        for b in range(d):
            sw[b * d + a, a * d + b] = 1
    return sw


def bench_numpy_closed_form(d, n_configs, seed=0):
    rng, rho, mean_state, work, heat = _numpy_start(d, n_configs, seed)
    m = np.arange(d) - (d - 1) / 2
    c, s = np.cos(THETA), np.sin(THETA)
    t = time.perf_counter()
    for r in range(N_STEPS):
        delta = SIGMA * rng.standard_normal(n_configs)
        q = _thermal_q(d, delta)
        p = np.real(np.einsum("mii->mi", rho))
        comm = (q[:, :, None] - q[:, None, :]) * rho
        rho = c * c * rho + 1j * s * c * comm
        rho[:, np.arange(d), np.arange(d)] += s * s * q
        shift = ((q - p) * m).sum(axis=1)
        work[r] = -(G0 * delta) * s * s * shift
        heat[r] = G0 * (1 + delta) * s * s * shift
        mean_state[r] = rho.mean(axis=0)
    dt = time.perf_counter() - t
    return n_configs * N_STEPS / dt


def bench_numpy_full(d, n_configs, seed=0):
    rng, rho, mean_state, work, heat = _numpy_start(d, n_configs, seed)
    u = np.cos(THETA) * np.eye(d * d) + 1j * np.sin(THETA) * _swap_matrix(d)
    sz = np.diag(np.arange(d) - (d - 1) / 2)
    h_s = np.kron(G0 * sz, np.eye(d))
    t = time.perf_counter()
    for r in range(N_STEPS):
        delta = SIGMA * rng.standard_normal(n_configs)
        q = _thermal_q(d, delta)
        tau = np.einsum("mi,ij->mij", q, np.eye(d))
        x = np.einsum("mab,mcd->macbd", rho, tau).reshape(n_configs, d * d, d * d)
        x2 = u @ x @ u.conj().T
        x4 = x2.reshape(n_configs, d, d, d, d)
        rho = np.einsum("macbc->mab", x4)
        rho_r = np.einsum("macad->mcd", x4)
        h_r = (G0 * (1 + delta))[:, None, None] * np.kron(np.eye(d), sz)[None]
        h = h_s[None] + h_r
        work[r] = np.real(np.einsum("mij,mji->m", x2 - x, h))
        hr_local = (G0 * (1 + delta))[:, None, None] * sz[None]
        heat[r] = -np.real(np.einsum("mij,mji->m", rho_r - tau, hr_local))
        mean_state[r] = rho.mean(axis=0)
    dt = time.perf_counter() - t
    return n_configs * N_STEPS / dt


def bench_qutip(d, n_configs, seed=0):
    import qutip

    rng = np.random.default_rng(seed)
    sz = qutip.Qobj(np.diag(np.arange(d) - (d - 1) / 2))
    eye = qutip.qeye(d)
    u = qutip.Qobj(np.cos(THETA) * np.eye(d * d) + 1j * np.sin(THETA) * _swap_matrix(d), dims=[[d, d], [d, d]])
    rho0 = qutip.Qobj(coherent_state(d))
    t = time.perf_counter()
    for _ in range(n_configs):
        rho = rho0
        for _ in range(N_STEPS):
            delta = SIGMA * rng.standard_normal()
            h_r = G0 * (1 + delta) * sz
            tau = (-BETA * h_r).expm()
            tau = tau / tau.tr()
            x = qutip.tensor(rho, tau)
            x2 = u * x * u.dag()
            h = qutip.tensor(G0 * sz, eye) + qutip.tensor(eye, h_r)
            _work = qutip.expect(h, x2) - qutip.expect(h, x)
            rho, rho_r = x2.ptrace(0), x2.ptrace(1)
            _heat = -(qutip.expect(h_r, rho_r) - qutip.expect(h_r, tau))
    dt = time.perf_counter() - t
    return n_configs * N_STEPS / dt


def compile_time(n_steps=1000):
    """First call (compile + a tiny run) and second call, in a fresh process."""
    code = (
        "import time, numpy as np; t0 = time.perf_counter(); import jaxthermo as jt; t1 = time.perf_counter();"
        f"m = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05));"
        f"rho = np.array([[0.6, 0.2j], [-0.2j, 0.4]]);"
        f"t = time.perf_counter(); jt.ensemble(m, rho, {n_steps}, 1000); a = time.perf_counter() - t;"
        f"t = time.perf_counter(); jt.ensemble(m, rho, {n_steps}, 1000); b = time.perf_counter() - t;"
        "print(a, b, t1 - t0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(), check=True)
    first, second, imp = map(float, out.stdout.split())
    return first, second, imp


def _child_env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def peak_memory(n_configs, n_steps=N_STEPS):
    """Peak RSS (MiB) and wall time of one ensemble run (the benchmark workload) in a fresh subprocess."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", str(n_configs), str(n_steps)],
        capture_output=True,
        text=True,
        env=_child_env(),
        check=True,
    )
    rss, wall = map(float, out.stdout.split()[-2:])
    return rss, wall


def _child(n_configs, n_steps):
    import resource

    import jaxthermo as jt

    t = time.perf_counter()
    jt.ensemble(_model(2), coherent_state(2), n_steps, n_configs, alphas=())  # the benchmark workload
    wall = time.perf_counter() - t
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, wall)


def float32_accuracy(n_configs=2_000):
    import jax
    import jax.numpy as jnp

    import jaxthermo as jt

    out = {}
    for d in (2, 3):
        one = jax.devices()[:1]  # see float32_accuracy_subprocess
        r64 = jt.ensemble(_model(d), coherent_state(d), N_STEPS, n_configs, devices=one)
        r32 = jt.ensemble(_model(d), coherent_state(d), N_STEPS, n_configs, dtype=jnp.float32, devices=one)
        rel = lambda a, b: float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
        out[d] = dict(
            mean_work=rel(r32.mean_work, r64.mean_work),
            var_work=rel(r32.var_work, r64.var_work),
            mean_heat=rel(r32.mean_heat, r64.mean_heat),
            mean_state=float(np.max(np.abs(r32.mean_state - r64.mean_state))),
            # D_α at the steps where it was evaluated (a coherent qutrit's default stride leaves NaN between them)
            D1_frozen=rel(*(r.mean_divergence[np.isfinite(r64.mean_divergence[:, 0]), 0] for r in (r32, r64))),
        )
    return out


def float32_accuracy_subprocess(n_configs):
    """:func:`float32_accuracy` in a fresh process on one device: the batched LAPACK eigh of the
    quantum divergences (coherent states) has stalled here when called from several forced host
    devices at once (a known-issue note in RESULTS_ensemble.md)."""
    code = f"import json, sys; sys.path.insert(0, {HERE!r}); import bench_ensemble as b; print(json.dumps(b.float32_accuracy({n_configs})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import jaxthermo  # noqa: F401,I001  (first: its import sets the CPU device count and the XLA flag)
    import jax

    return f"{cpu}, {N_CORES} cores, {platform.system()} {platform.release()}, jax {jax.__version__}, {len(jax.devices())} CPU devices"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--memory-sizes", default="100000,1000000,10000000")
    parser.add_argument("--throughput-only", action="store_true", help="skip compile time, float32 and memory")
    args = parser.parse_args()
    q = args.quick
    results = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python " + " ".join(sys.argv),
        "throughput": {},
    }
    print(results["machine"], results["date"], flush=True)
    n_jx = 20_000 if q else 400_000
    for d in (2, 3):
        ratios = default_against_alphas_none(d, n_jx, rounds=1 if q else 5)
        jx, jx_diag, jx_none = (ratios[k] for k in ("jaxthermo", "jaxthermo_diagonal", "jaxthermo_alphas_none"))
        npc = bench_numpy_closed_form(d, 2_000 if q else 50_000)
        npf = bench_numpy_full(d, 500 if q else 10_000)
        qt = bench_qutip(d, 1 if q else 5)
        row = dict(
            jaxthermo=jx,
            jaxthermo_diagonal=jx_diag,
            jaxthermo_alphas_none=jx_none,
            numpy_closed_form=npc,
            numpy_full_matrix=npf,
            qutip_loop=qt,
        )
        print(
            f"d={d}: "
            + ", ".join(f"{k} {v:.3g} coll/s" for k, v in row.items())
            + f"; ratios: default/alphas=() ×{jx / jx_none:.2f} best/best, ×{ratios['default_over_alphas_none_median']:.2f}"
            f" median of rounds (diagonal ×{jx_diag / jx_none:.2f}, ×{ratios['diagonal_over_alphas_none_median']:.2f}), "
            f"×{jx / npc:.1f} NumPy closed form, ×{jx / npf:.0f} NumPy full, ×{jx / qt:.0f} QuTiP",
            flush=True,
        )
        row.update({k: ratios[k] for k in ("default_over_alphas_none_median", "diagonal_over_alphas_none_median")})
        results["throughput"][f"d={d}"] = row
    results["generic"] = {}
    for d in range(4, 9):
        n = 5_000 if q else 50_000
        row = generic_against_closed_form(d, n, rounds=1 if q else 3)
        results["generic"][f"d={d}"] = row
        print(
            f"d={d}: jaxthermo default coherent {row['jaxthermo']:.3g}, diagonal {row['jaxthermo_diagonal']:.3g}, "
            f"alphas=() {row['jaxthermo_alphas_none']:.3g}, hand-written JAX closed form {row['jax_closed_form']:.3g} "
            f"coll/s (best); closed form / jaxthermo, median of rounds: "
            f"×{row['closed_form_over_jaxthermo_median']:.2f} (diagonal "
            f"×{row['closed_form_over_jaxthermo_diagonal_median']:.2f}, alphas=() "
            f"×{row['closed_form_over_jaxthermo_alphas_none_median']:.2f})",
            flush=True,
        )
    results["float32_qubit"] = row = float32_throughput(n_jx, rounds=1 if q else 3)
    print(
        "d=2 float32: " + ", ".join(f"{k} {v:.3g} coll/s" for k, v in row.items()) + "; ratios: default / "
        f"special (float64 erf⁻¹ rounded) ×{row['default'] / row['special_float64_erfinv_rounded']:.2f}, "
        f"default / alphas=() ×{row['default'] / row['alphas_none']:.2f}, "
        f"float32 / float64 default ×{row['default'] / row['float64_default']:.2f}",
        flush=True,
    )
    results["profile_qubit"] = profile_qubit(n_jx)
    print("profile (core-ns per collision):", results["profile_qubit"], flush=True)
    if args.throughput_only:
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        return results
    first, second, imp = compile_time(100 if q else 1000)
    results["compile"] = dict(first_call_s=first, second_call_s=second, compile_s=first - second, import_s=imp)
    print(
        f"N=1000 first call {first:.2f} s, second {second:.2f} s (compile ≈ {first - second:.2f} s; import {imp:.2f} s)",
        flush=True,
    )
    results["float32_vs_float64"] = float32_accuracy_subprocess(500 if q else 2_000)
    print("float32 vs float64 (max relative deviation):", results["float32_vs_float64"], flush=True)
    results["memory"] = {}
    sizes = [int(s) for s in args.memory_sizes.split(",")] if not q else [10_000, 100_000]
    for n in sizes:
        rss, wall = peak_memory(n)
        results["memory"][n] = dict(peak_rss_mib=rss, wall_s=wall, n_steps=N_STEPS)
        print(
            f"{n:.0e} configurations × {N_STEPS}: peak RSS {rss:.0f} MiB, {wall:.1f} s ({n * N_STEPS / wall:.3g} coll/s)",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        _child(int(sys.argv[i + 1]), int(sys.argv[i + 2]))
    else:
        main()
