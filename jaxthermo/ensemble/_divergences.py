"""D_α(ρ‖τ_S) inside the ensemble kernel, specialised to the static α's of a run (docs/ensemble.md §2).

The reference functions (:func:`~jaxthermo.renyi_divergence_log`,
:func:`~jaxthermo.quantum_renyi_divergence`) accept any α and evaluate every branch (α → 1 window,
α = 0, ±∞) before selecting one, and the quantum ones diagonalise ρ and τ_S with LAPACK. In the
ensemble the α's are Python floats fixed for the run and τ_S is diagonal, so each α needs only
its own branch, and for a qubit every quantum divergence has a closed form:

* ρ = [[p0, c], [c*, 1 − p0]] has eigenvalues λ± = (1 ± r)/2, r = √((2p0 − 1)² + 4|c|²), and
  f(ρ) = (f(λ+) + f(λ−))/2 · 1 + (f(λ+) − f(λ−))/2 · (ρ − ½)/(r/2), so the diagonal of ρ^α is
  (f+ + f−)/2 ± (f+ − f−)/2 · (2p0 − 1)/r: Petz ``Tr ρ^α τ^{1−α}`` needs no eigenvectors;
* Umegaki: Σ λ log λ − Σ_j ρ_jj log t_j;
* sandwiched: τ^γ ρ τ^γ (γ = (1 − α)/2α, −½ at α = ∞) is the 2×2 matrix
  [[s0² p0, s0 s1 c], [s0 s1 c*, s1² p1]] (s_j = t_j^γ), whose eigenvalues are
  μ± = (T ± √((s0²p0 − s1²p1)² + 4 s0² s1² |c|²))/2, T its trace.

The support conventions of the reference functions are kept (eigenvalues ≤ 1e-12 in float64,
1e-6 in float32, count as zero; +∞ when ρ has weight outside supp τ_S and α > 1). Tests compare
every α with the reference functions (tests/ensemble/test_speed_paths.py).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .._information import _tol, divergences_to_thermal, log_thermal_populations
from .._qudit import thermal_populations


def _classical_one(p, log_q, alpha: float):
    """Classical D_α(p‖q) for one static α > 0 (or ∞) and a full-support q given by log q."""
    pos = p > 0
    logp = jnp.log(jnp.where(pos, p, 1.0))
    if alpha == 1.0:
        return jnp.sum(jnp.where(pos, p * (logp - log_q), 0.0), axis=-1)
    if math.isinf(alpha):
        return jnp.max(jnp.where(pos, logp - log_q, -jnp.inf), axis=-1)
    expo = jnp.where(pos, alpha * logp + (1.0 - alpha) * log_q, -jnp.inf)
    m = jnp.max(expo, axis=-1)
    return (m + jnp.log(jnp.sum(jnp.exp(expo - m[..., None]), axis=-1))) / (alpha - 1.0)


def _classical_static_ok(alpha: float, dtype) -> bool:
    window = 1e-6 if jnp.dtype(dtype) == jnp.float64 else 1e-3
    return alpha > 0 and (alpha == 1.0 or abs(alpha - 1.0) >= window)


def classical_divergences(p, beta, g, alphas):
    """D_α(p‖τ_S) of populations p (..., d) for each static α, shape (..., n_alpha).

    Equal to :func:`~jaxthermo.divergences_to_thermal` (``quantum=False``); α's outside
    (0, ∞] or inside the α → 1 window go through that reference route.
    """
    d = p.shape[-1]
    log_q = log_thermal_populations(d, jnp.asarray(beta).astype(p.dtype), jnp.asarray(g).astype(p.dtype))
    cols = []
    for a in alphas:
        if _classical_static_ok(a, p.dtype):
            cols.append(_classical_one(p, log_q, a))
        else:
            cols.append(divergences_to_thermal(_diag(p), beta, g, (a,), quantum=False)[..., 0])
    return jnp.stack(cols, axis=-1)


def _diag(p):
    return p[..., :, None] * jnp.eye(p.shape[-1], dtype=p.dtype)


def _xlogx(x):
    pos = x > 0
    return jnp.where(pos, x * jnp.log(jnp.where(pos, x, 1.0)), 0.0)


def qubit_quantum_divergences(p0, x, y, beta, g, alphas):
    """Quantum D_α(ρ‖τ_S) of qubits carried as (p0, x, y) (ρ_01 = x + iy), shape (..., n_alpha).

    Petz below α = 1, Umegaki at 1, sandwiched above (as :func:`~jaxthermo.quantum_renyi_divergence`),
    in closed form (module docstring). Raises for α < 0 as the reference does.
    """
    dt = p0.dtype
    tol = _tol(dt)
    t = thermal_populations(2, jnp.asarray(beta).astype(dt), jnp.asarray(g).astype(dt))
    t0, t1 = t[..., 0], t[..., 1]
    on0, on1 = t0 > tol, t1 > tol
    p1 = 1.0 - p0
    c2 = x * x + y * y
    z = p0 - p1
    r = jnp.sqrt(z * z + 4.0 * c2)
    lam_p = 0.5 * (1.0 + r)
    lam_m = 0.5 * (1.0 - r)
    nz = jnp.where(r > 0, z / jnp.where(r > 0, r, 1.0), 0.0)
    # weight of ρ outside supp τ_S (the reference decides this at 10·tol)
    outside = jnp.where(on0, 0.0, p0) + jnp.where(on1, 0.0, p1)
    mismatch = outside > 10 * tol
    cols = []
    for a in alphas:
        a = float(a)
        if a < 0:
            raise ValueError(f"alpha={a}: the Petz divergence is implemented for alpha >= 0")
        if a == 1.0:
            log_t0 = jnp.where(on0, jnp.log(jnp.where(on0, t0, 1.0)), 0.0)
            log_t1 = jnp.where(on1, jnp.log(jnp.where(on1, t1, 1.0)), 0.0)
            val = _xlogx(lam_p) + _xlogx(lam_m) - (p0 * log_t0 + p1 * log_t1)
            cols.append(jnp.where(mismatch, jnp.inf, val))
        elif a < 1.0:
            f_p = jnp.where(lam_p > tol, jnp.where(lam_p > tol, lam_p, 1.0) ** a, 0.0)
            f_m = jnp.where(lam_m > tol, jnp.where(lam_m > tol, lam_m, 1.0) ** a, 0.0)
            mean, half = 0.5 * (f_p + f_m), 0.5 * (f_p - f_m)
            w0 = jnp.where(on0, jnp.where(on0, t0, 1.0) ** (1.0 - a), 0.0)
            w1 = jnp.where(on1, jnp.where(on1, t1, 1.0) ** (1.0 - a), 0.0)
            tr = (mean + half * nz) * w0 + (mean - half * nz) * w1
            cols.append(jnp.log(tr) / (a - 1.0))
        else:
            gamma = -0.5 if math.isinf(a) else (1.0 - a) / (2.0 * a)
            s0 = jnp.where(on0, jnp.where(on0, t0, 1.0) ** (2 * gamma), 0.0)  # s_j² = t_j^{2γ}
            s1 = jnp.where(on1, jnp.where(on1, t1, 1.0) ** (2 * gamma), 0.0)
            a00, a11 = s0 * p0, s1 * p1
            half_tr = 0.5 * (a00 + a11)
            disc = 0.5 * jnp.sqrt((a00 - a11) ** 2 + 4.0 * s0 * s1 * c2)
            mu_p, mu_m = half_tr + disc, half_tr - disc
            if math.isinf(a):
                val = jnp.log(mu_p)
            else:
                mu_m = jnp.where(mu_m > 0, mu_m, 0.0)
                pw_m = jnp.where(mu_m > 0, jnp.where(mu_m > 0, mu_m, 1.0) ** a, 0.0)
                val = jnp.log(mu_p**a + pw_m) / (a - 1.0)
            cols.append(jnp.where(mismatch, jnp.inf, val))
    return jnp.stack(cols, axis=-1)
