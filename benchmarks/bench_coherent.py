"""Model B speed: batched master-equation propagation (docs/coherent.md).

4096 values of λ for the [WCCM] qubit example, 101 times in [0, 10], measured in ONE run on ONE
machine for: jaxthermo.propagate (exact propagator, vmapped), dynamiqs' batched ``mesolve``
(Tsit5 at default and tight tolerances, and its own ``Expm`` method), and a QuTiP ``mesolve`` loop
(timed on a subset, scaled to the full batch). Accuracy of every method against an independent
reference (SciPy ``expm`` of a NumPy-built Liouvillian) on 64 λ values.

    python benchmarks/bench_coherent.py [--n-lambda 4096] [--n-qutip 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.linalg import expm

import jaxthermo as jt
from jaxthermo.coherent import allowed_lambda_range, qubit_example

OMEGA, G, BETA, TAU = 1.0, 0.5, 1.0, 1e-3


def _median_time(fn, repeats):
    fn()  # warm-up / compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _reference(lams, rho0, times):
    """Independent NumPy/SciPy: H = (Ω/2)σ_z + λgσ_x, jumps √γ∓ σ∓, column-stacked vec."""
    sm = np.array([[0, 1], [0, 0]], complex)
    sx = sm + sm.T
    hz = OMEGA / 2 * np.diag([-1.0, 1.0])
    p0 = 1 / (1 + np.exp(-BETA * OMEGA))
    jumps = [G * np.sqrt(p0) * sm, G * np.sqrt(1 - p0) * sm.T]
    eye = np.eye(2)
    out = []
    for lam in lams:
        h = hz + lam * G * sx
        lv = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
        for L in jumps:
            ldl = L.conj().T @ L
            lv += np.kron(L.conj(), L) - 0.5 * np.kron(eye, ldl) - 0.5 * np.kron(ldl.T, eye)
        v0 = rho0.reshape(-1, order="F")
        out.append(np.array([(expm(lv * t) @ v0).reshape(2, 2, order="F") for t in times]))
    return np.array(out)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-lambda", type=int, default=4096)
    parser.add_argument("--n-times", type=int, default=101)
    parser.add_argument("--n-qutip", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    model = qubit_example(omega=OMEGA, g=G, beta=BETA, lam=0.0, tau=TAU)
    lam_max = float(allowed_lambda_range(model)[1])
    lams = np.linspace(-0.9 * lam_max, 0.9 * lam_max, args.n_lambda)
    times = np.linspace(0.0, 10.0, args.n_times)
    rho0 = np.array([[0.2, 0.3 - 0.1j], [0.3 + 0.1j, 0.8]])
    check_idx = np.linspace(0, args.n_lambda - 1, 64).astype(int)
    ref = _reference(lams[check_idx], rho0, times)
    rows = []

    # --- jaxthermo: one batched model, exact propagator
    batch = model.replace(lam=jnp.asarray(lams))
    run_jt = jax.jit(lambda m: jt.propagate(m, rho0, times))
    out = run_jt(batch).block_until_ready()
    t_jt = _median_time(lambda: run_jt(batch).block_until_ready(), args.repeats)
    rows.append(("jaxthermo.propagate (exact expm, vmapped)", t_jt, np.max(np.abs(np.asarray(out)[check_idx] - ref))))

    # --- dynamiqs batched mesolve
    import dynamiqs as dq

    dq.set_precision("double")
    dq.set_progress_meter(False)
    sm = np.array([[0, 1], [0, 0]], complex)
    p0 = 1 / (1 + np.exp(-BETA * OMEGA))
    jumps = [G * np.sqrt(p0) * sm, G * np.sqrt(1 - p0) * sm.T]
    h_batch = (
        jnp.asarray(OMEGA / 2 * np.diag([-1.0, 1.0]))[None]
        + jnp.asarray(lams * G)[:, None, None] * jnp.asarray(sm + sm.T)[None]
    )
    for label, method in (
        ("dynamiqs mesolve Tsit5 (default rtol=atol=1e-6)", dq.method.Tsit5()),
        ("dynamiqs mesolve Tsit5 (rtol=atol=1e-10)", dq.method.Tsit5(rtol=1e-10, atol=1e-10, max_steps=1_000_000)),
        ("dynamiqs mesolve Expm", dq.method.Expm()),
    ):
        run_dq = jax.jit(lambda h, method=method: dq.mesolve(h, jumps, rho0, times, method=method).states.to_jax())
        states = run_dq(h_batch).block_until_ready()
        t_dq = _median_time(lambda: run_dq(h_batch).block_until_ready(), args.repeats)
        rows.append((label, t_dq, np.max(np.abs(np.asarray(states)[check_idx] - ref))))

    # --- QuTiP loop on a subset, scaled
    import qutip

    sub = np.linspace(0, args.n_lambda - 1, args.n_qutip).astype(int)
    opts = {"atol": 1e-10, "rtol": 1e-10, "nsteps": 100000}
    c_ops = [qutip.Qobj(j) for j in jumps]
    hz, sx = qutip.Qobj(OMEGA / 2 * np.diag([-1.0, 1.0])), qutip.Qobj(sm + sm.T)

    def qutip_loop(indices):
        return [qutip.mesolve(hz + lams[i] * G * sx, qutip.Qobj(rho0), times, c_ops, options=opts) for i in indices]

    t0 = time.perf_counter()
    qutip_loop(sub)
    t_q = (time.perf_counter() - t0) * args.n_lambda / len(sub)
    q_states = np.array([[s.full() for s in r.states] for r in qutip_loop(check_idx)])
    rows.append(
        (f"QuTiP mesolve loop (atol=rtol=1e-10; {len(sub)} runs timed, scaled)", t_q, np.max(np.abs(q_states - ref)))
    )

    print(f"# bench_coherent: {args.n_lambda} λ values × {args.n_times} times, qubit example")
    print(
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, jax {jax.__version__} on {jax.devices()[0].platform}, dynamiqs {dq.__version__}, qutip {qutip.__version__}"
    )
    print("| method | time (s) | time / jaxthermo | max abs error vs SciPy expm reference (64 λ) |")
    print("| --- | --- | --- | --- |")
    for label, t, err in rows:
        print(f"| {label} | {t:.3f} | {t / t_jt:.1f}× | {err:.1e} |")


if __name__ == "__main__":
    main()
