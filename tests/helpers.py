"""Random states, channels and unitaries for the tests (NumPy, independent of the library), and a
fresh Python process for what only an import can show."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def fresh_python(code: str, env: dict) -> str:
    """stdout of ``python -c code`` in a new process on CPU, with ``env`` instead of this process's
    XLA_FLAGS and JAX_NUM_CPU_DEVICES (the tests' conftest sets its own); fails on a non-zero exit."""
    full = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    full.update(env, JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def free_port() -> str:
    """A TCP port of localhost that was free a moment ago (for a jax.distributed coordinator)."""
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        return str(s.getsockname()[1])


def processes_together(argvs, env=None, timeout=240, cwd=None):
    """``python argv`` for every argv at once (the processes of one jax.distributed run), on CPU with one
    device each (``env`` on top); their exit codes and (stdout, stderr). Killed after ``timeout`` s: processes
    that wait for each other forever fail the test instead of hanging the suite."""
    full = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    full.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=1")
    full.update(env or {})
    procs = [
        subprocess.Popen(
            [sys.executable, *argv], env=full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in argvs
    ]
    try:
        outputs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [p.returncode for p in procs], outputs


# tests of the CPU devices' programs (the suite's 4 forced host devices: chunk sizes, compiled-program counts)
# where the default backend is an accelerator (a GPU run of the suite): skipped there, not weakened here
# (a condition string, evaluated in the test's module when it runs: importing the helpers starts no backend)
on_cpu_devices = pytest.mark.skipif(
    "jax.default_backend() != 'cpu'", reason="counts the programs of the 4 CPU devices the suite forces"
)


def random_state(d, rng, rank=None, diagonal=False):
    """A random density matrix (d, d) (Hilbert–Schmidt measure for the given rank)."""
    rank = d if rank is None else rank
    if diagonal:
        p = rng.dirichlet(np.ones(d))
        if rank < d:
            p[rank:] = 0.0
            p /= p.sum()
        return np.diag(p).astype(complex)
    a = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    rho = a @ a.conj().T
    # Hermitian exactly: some BLAS kernels (AVX-512 zgemm) round a a† to ρ_ij ≠ conj(ρ_ji) by ~10⁻¹⁷, which a
    # reference reading the whole matrix (decimal Jacobi of its real embedding) then saw as non-symmetric
    rho = 0.5 * (rho + rho.conj().T)
    return rho / np.trace(rho)


def random_hermitian(d, rng):
    """A random Hermitian (d, d) matrix (Gaussian entries)."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return (a + a.conj().T) / 2


def random_traceless(d, rng):
    """A random traceless complex (d, d) matrix (Gaussian entries)."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return a - np.trace(a) / d * np.eye(d)


def random_unitary(d, rng):
    """A Haar-random unitary (d, d) by QR with phase correction."""
    z = (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_channel(d_in, d_out, rng, n_kraus=3):
    """Kraus operators (n, d_out, d_in) of a random CPTP map (isometry cut into blocks)."""
    u = random_unitary(d_out * n_kraus if d_out * n_kraus >= d_in else d_in, rng)
    v = u[:, :d_in][: d_out * n_kraus]
    v, _ = np.linalg.qr(v)  # isometry d_in -> d_out * n_kraus
    return v.reshape(n_kraus, d_out, d_in)


def apply_channel(kraus, rho):
    return sum(k @ rho @ k.conj().T for k in kraus)


def random_stochastic(d_in, d_out, rng):
    """A column-stochastic matrix (d_out, d_in): a classical channel p -> T p."""
    t = rng.random((d_out, d_in)) + 1e-3
    return t / t.sum(axis=0, keepdims=True)


def assert_same_chunk_statistics(ref, got, exact, tol):
    """Two chunk results (dicts of Moments/Counts/HigherMoments) of the same chunk by two programs:
    the same statistics, shapes and dtypes; counts equal; floats within ``tol`` of the field's scale
    in ``exact`` (a float64 result; its largest value, plus the data's spread σ for means and n σ³ for third
    central moments)."""
    assert sorted(got) == sorted(ref)
    for name in ref:
        for field, a, g, e in zip(ref[name]._fields, ref[name], got[name], exact[name]):
            assert (a is None) == (g is None), (name, field)
            if a is None:
                continue
            a, g, e = np.asarray(a), np.asarray(g), np.asarray(e)
            assert a.shape == g.shape and a.dtype == g.dtype, (name, field)
            if a.dtype.kind in "iu":
                np.testing.assert_array_equal(g, a, err_msg=f"{name}.{field}")
                continue
            scale = max(float(np.max(np.abs(e))), 1e-30)
            if field in ("mean", "m3") and getattr(exact[name], "m2", None) is not None:
                # the rounding of a mean and of a central third moment scales with the spread σ (n σ³ for m3,
                # which a near-symmetric sample's own |m3| can lie far below)
                n = int(np.max(exact[name].n))
                sigma = math.sqrt(float(np.max(exact[name].m2)) / n)
                scale += sigma if field == "mean" else n * sigma**3
            assert np.max(np.abs(g - a)) <= tol * scale, (name, field, np.max(np.abs(g - a)) / scale)


def numpy_resolved_eigenvalues(rho):
    """Eigen-decomposition of ρ (d, d) with NumPy, its eigenvalues resolved as docs/information.md §4 states: all of
    them, clipped from below at half the Ostrowski bound μ_min(M)·min_j ρ_jj, when ρ is certified full rank from its
    diagonal (μ_min of M = D^{−1/2} ρ D^{−1/2} above 64d²ε); else those above the rounding floor
    min(16dε, 1e-12)·‖ρ‖; the others set to 0."""
    lam, v = np.linalg.eigh(rho)
    d, eps, tiny = len(lam), np.finfo(float).eps, np.finfo(float).tiny
    diag = np.real(np.diag(rho))
    if np.all(diag > tiny):
        mu = np.linalg.eigvalsh(rho / np.sqrt(np.outer(diag, diag)))[0]
        if mu > 64 * d * d * eps:
            return np.maximum(lam, 0.5 * mu * diag.min()), v
    return np.where(lam > min(16 * d * eps, 1e-12) * np.abs(lam).max(), lam, 0.0), v


def numpy_divergence_to_diagonal(rho, log_t, a):
    """D_α(ρ‖τ) for a diagonal τ = diag(e^{log_t}) with NumPy (Petz below 1, Umegaki, sandwiched
    above), ρ's eigenvalues resolved as :func:`numpy_resolved_eigenvalues`: the independent route for a cold τ_S."""
    lam, v = numpy_resolved_eigenvalues(rho)
    if a == 1.0:
        return np.sum(lam * np.log(np.where(lam > 0, lam, 1.0))) - np.real(np.diag(rho)) @ log_t
    if a < 1.0:
        rho_a = (v * np.where(lam > 0, np.where(lam > 0, lam, 1.0) ** a, 0.0)) @ v.conj().T
        return np.log(np.real(np.diag(rho_a)) @ np.exp((1 - a) * log_t)) / (a - 1)
    gamma = -0.5 if np.isinf(a) else (1 - a) / (2 * a)
    s = np.exp(gamma * log_t)
    mu = np.clip(np.linalg.eigvalsh(s[:, None] * rho * s[None, :]), 0.0, None)
    return np.log(mu.max()) if np.isinf(a) else np.log(np.sum(mu**a)) / (a - 1)


def numpy_log_thermal(d, beta):
    """log p_k = −βk − log Z, Z = Σ_k e^{−βk}, for equally spaced levels k = 0, …, d − 1 (no underflow)."""
    e = np.arange(d, dtype=float)
    return -beta * e - np.log(np.sum(np.exp(-beta * e)))


def cold_coherent_qubit(beta, c):
    """``σ = [[p0, c√(p0p1)], [c√(p0p1), p1]]`` with p thermal at β (levels 0, 1), and its eigen-decomposition
    in closed form: ``(σ, u, log μ)`` with μ₊ = ½(1 + √((p0 − p1)² + 4σ01²)), μ₋ = det/μ₊ = p0 p1 (1 − c²)/μ₊
    (no cancellation), eigenvectors at the angle θ, tan 2θ = 2σ01/(p0 − p1); σ = u diag(μ) uᵀ."""
    log_p = numpy_log_thermal(2, beta)
    p0, p1 = np.exp(log_p)
    off = c * np.exp(0.5 * (log_p[0] + log_p[1]))
    sigma = np.array([[p0, off], [off, p1]], dtype=complex)
    big = 0.5 * (1.0 + np.sqrt((p0 - p1) ** 2 + 4 * off**2))
    log_small = log_p[0] + log_p[1] + np.log1p(-(c**2)) - np.log(big)
    theta = 0.5 * np.arctan2(2 * off, p0 - p1)
    u = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]], dtype=complex)
    return sigma, u, np.array([np.log(big), log_small])


def cold_coherent_block(log_p, c, i, j):
    """ρ = diag(p) with the coherence ``c√(p_i p_j)`` (real, |c| < 1) between levels i < j, p = e^{log_p} (p_i ≥ p_j),
    and its eigen-decomposition in closed form: ``(ρ, u, log μ)``, ρ = u diag(μ) uᵀ. The (i, j) block has
    μ_big = (p_i + p_j)/2 + √(((p_i − p_j)/2)² + c² p_i p_j) (a sum of positive terms) and
    μ_small = det/μ_big = p_i p_j (1 − c²)/μ_big (no cancellation), eigenvectors at the angle θ,
    tan 2θ = 2c√(p_i p_j)/(p_i − p_j); the other levels are eigenvectors with μ_k = p_k."""
    log_p = np.asarray(log_p, dtype=float)
    p = np.exp(log_p)
    off = c * np.exp(0.5 * (log_p[i] + log_p[j]))
    rho = np.diag(p).astype(complex)
    rho[i, j] = rho[j, i] = off
    big = 0.5 * (p[i] + p[j]) + np.sqrt((0.5 * (p[i] - p[j])) ** 2 + off**2)
    log_mu = log_p.copy()
    log_mu[i], log_mu[j] = np.log(big), log_p[i] + log_p[j] + np.log1p(-(c**2)) - np.log(big)
    theta = 0.5 * np.arctan2(2 * off, p[i] - p[j])
    u = np.eye(len(p), dtype=complex)
    u[i, i], u[j, i], u[i, j], u[j, j] = np.cos(theta), np.sin(theta), -np.sin(theta), np.cos(theta)
    return rho, u, log_mu


def log_petz_trace(u, log_mu, log_s, a):
    """log Tr(ρ^α σ^{1−α}) for ρ = u diag(e^{log μ}) u† and a diagonal σ = diag(e^{log s}): the log-sum-exp of
    α log μ_k + (1 − α) log s_j + log |u_jk|² over the pairs with u_jk ≠ 0 (every term positive, no cancellation)."""
    w = np.abs(u) ** 2
    terms = a * np.asarray(log_mu)[None, :] + (1 - a) * np.asarray(log_s)[:, None]
    terms = np.where(w > 0, terms + np.log(np.where(w > 0, w, 1.0)), -np.inf)
    m = terms.max()
    return m + np.log(np.sum(np.exp(terms - m)))


_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def counted_compilations():
    """The number of XLA compilations inside the block, in a one-element list (jax.monitoring)."""
    import jax  # here: importing the helpers does not import JAX before jaxthermo

    count = [0]

    def listener(event, duration, **kwargs):
        if event == _COMPILE_EVENT:
            count[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def model_a_chunk_run(model, rho0, edges, mask, *, n_steps, alphas, coherent, tiled, seed=2):
    """One chunk of model A over configurations 0…len(mask) − 1 (``mask`` marks the counted ones): the CPU
    program, or the GPU tile kernel in Pallas's interpreter (``tiled``; its jaxpr checked to hold the
    ``pallas_call``), both compiled, with the sums each uses (tests/ensemble/test_tile_kernel*.py)."""
    from functools import partial

    import jax
    import jax.numpy as jnp

    from jaxthermo.ensemble._kernel import model_a_chunk
    from jaxthermo.ensemble._statistics import folded_sums

    kernel = partial(
        model_a_chunk,
        n_steps=n_steps,
        alphas=alphas,
        coherent=coherent,
        histogram_method="compare" if tiled else "scatter",
        stacked=tiled,
        tile_kernel="interpret" if tiled else None,
    )
    idx = jnp.arange(mask.shape[0], dtype=jnp.uint32)
    args = (model, rho0, jax.random.key(seed), idx, mask, edges, edges)
    if tiled:
        assert "pallas_call" in str(jax.make_jaxpr(kernel)(*args))
    with folded_sums(not tiled):
        return jax.jit(kernel)(*args)


def numpy_swap(d):
    """The SWAP of two qudits, |a⟩|b⟩ → |b⟩|a⟩, as a NumPy (d², d²) matrix (independent of ``jaxthermo._qudit``)."""
    s = np.zeros((d * d, d * d))
    for a in range(d):
        for b in range(d):
            s[b * d + a, a * d + b] = 1
    return s
