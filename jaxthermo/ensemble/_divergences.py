"""D_α(ρ‖τ_S) inside the ensemble kernel, specialised to the static α's of a run (docs/ensemble.md §2).

The reference functions (:func:`~jaxthermo.renyi_divergence_log`,
:func:`~jaxthermo.quantum_renyi_divergence`) accept any α and evaluate every branch (α → 1 window,
α = 0, ±∞) before selecting one, and the quantum ones diagonalise ρ and τ_S with LAPACK. In the
ensemble the α's are Python floats fixed for the run and τ_S is diagonal, so each α needs only
its own branch, and for a qubit every quantum divergence has a closed form:

* ρ = [[p0, c], [c*, p1]] (p1 = 1 − p0, given to its own precision by the ensemble) has eigenvalues λ± = (1 ± r)/2, r = √((2p0 − 1)² + 4|c|²), and
  f(ρ) = (f(λ+) + f(λ−))/2 · 1 + (f(λ+) − f(λ−))/2 · (ρ − ½)/(r/2), so the diagonal of ρ^α is
  (f+ + f−)/2 ± (f+ − f−)/2 · (2p0 − 1)/r: Petz ``Tr ρ^α τ^{1−α}`` needs no eigenvectors;
* Umegaki: Σ λ log λ − Σ_j ρ_jj log t_j, for qubits and diagonal states as a sum of terms ≥ 0 accurate
  relative to its value (:func:`relative_entropy_term`, :func:`_umegaki_qubit`);
* sandwiched: τ^γ ρ τ^γ (γ = (1 − α)/2α, −½ at α = ∞) is the 2×2 matrix
  [[s0² p0, s0 s1 c], [s0 s1 c*, s1² p1]] (s_j = t_j^γ), whose eigenvalues are
  μ± = (T ± √((s0²p0 − s1²p1)² + 4 s0² s1² |c|²))/2, T its trace.

For coherent states of any d (:func:`quantum_divergences_thermal`) τ_S is still diagonal, so the
Umegaki divergence needs only the eigenvalues λ of ρ and the sandwiched ones only the eigenvalues μ
of the elementwise-scaled matrix s_i s_j ρ_ij (s_j = t_j^γ = exp(γ log t_j)) — one ``eigvalsh``
per α > 1 and none with eigenvectors (docs/information.md §4; sandwiched divergence:
Müller-Lennert et al., J. Math. Phys. 54, 122203 (2013); its role in the second laws:
[BHNOW15] Brandão et al., PNAS 112, 3275 (2015)).

Support: ρ^α (Petz, α < 1) runs over ρ's resolved eigenvalues, as in the reference functions
(docs/information.md §4): all of them when ρ is certified full rank from its diagonal, else those
above the rounding floor min(16dε, t)·‖ρ‖ (t = 1e-12, float32 1e-6); the qubit closed form takes
λ− = det ρ/λ+ there (free of the cancellation in (1 − r)/2), so a cold ρ's e^{−βΔE} enters with its
relative precision. τ_S has full rank at every finite β and enters through its log-populations (the
qubit closed form as well, given them by :func:`qubit_quantum_divergences`; with the populations alone,
support wherever they do not underflow), as in
:func:`~jaxthermo.divergences_to_thermal`, so D_α of a coherent ρ stays finite for a cold τ_S. Tests
compare every α with the reference functions (tests/ensemble/test_speed_paths.py).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from .._elementary import largest, log, log_positive
from .._information import (
    about_largest_term,
    classical_alpha_window,
    divergences_to_thermal,
    log_thermal_populations,
    relative_entropy_term,
    renyi_term,
    support_tolerance,
    umegaki_from_spectrum,
    xlogx,
)
from .._qudit import thermal_populations
from ._small_eigvalsh import eigvalsh_small

# largest d for which eigvalsh_small beats LAPACK on CPU (benchmarks/RESULTS_ensemble.md)
_SMALL_EIGVALSH_MAX_D = 8


# largest d whose levels the classical D_α take one by one (below); above it, arrays along the level axis
_LEVELS_ONE_BY_ONE_MAX_D = 8


def _each(f, *levels):
    """``f`` applied to each level: lists of the d components (small d) or arrays with the levels last."""
    return [f(*xs) for xs in zip(*levels)] if isinstance(levels[0], list) else f(*levels)


def _level_sum(xs):
    return sum(xs) if isinstance(xs, list) else jnp.sum(xs, axis=-1)


def _level_all(xs):
    return functools.reduce(jnp.logical_and, xs) if isinstance(xs, list) else jnp.all(xs, axis=-1)


def _classical_one(ps, log_q, alpha: float):
    """Classical D_α(p‖q) for one static α > 0 (or ∞) and a full-support q given by log q.

    ``ps`` and ``log_q`` are lists of the d components (arrays of the batch shape) for d ≤ 8: the sums and
    maxima over the levels are then elementwise, which XLA's CPU backend vectorises over the batch
    (a reduction over a short minor axis it does not; d = 6: ×2.8 per evaluation). For larger d they are
    arrays with the levels last (one by one, the program grew with d: D_∞ alone took 8.8 s to compile at
    d = 30, D_1 and D_∞ together 205 s at d = 50; as arrays 0.5 s, and D_1 costs the same per level).
    """
    if alpha == 1.0:  # Σ_j [p_j log(p_j/q_j) − p_j + q_j], each term ≥ 0 and accurate relative to itself
        return _level_sum(_each(lambda p, lq: relative_entropy_term(p - jnp.exp(lq), jnp.exp(lq), lq), ps, log_q))
    if math.isinf(alpha):
        return _classical_max_divergence(ps, log_q)
    pos = _each(lambda p: p > 0, ps)
    logp = _each(lambda p, ok: log(jnp.where(ok, p, 1.0)), ps, pos)
    expo = _each(lambda ok, lp, lq: jnp.where(ok, alpha * lp + (1.0 - alpha) * lq, -jnp.inf), pos, logp, log_q)
    m = _maximum(expo)
    log_sum = m + jnp.log(_level_sum(_each(lambda e: jnp.exp(e - _expand(m, e)), expo)))
    # D_α ≪ 1 (full support, |α log p_j/q_j| ≤ 40): log1p(α(α − 1) Σ_j q_j g_α(log p_j/q_j)), terms accurate
    # relative to their value, as the reference renyi_divergence_log (the log of the sum cancelled to ~ε)
    bound = 40.0 / max(1.0, alpha)
    x = _each(lambda ok, lp, lq: jnp.where(ok, lp - lq, 0.0), pos, logp, log_q)  # to |log p|ε: the floor's scale
    small = (jnp.abs(log_sum) < 0.5) & _level_all(_each(lambda ok, xj: ok & (jnp.abs(xj) <= bound), pos, x))
    terms = _each(lambda p, xj, lq: renyi_term(p, jnp.exp(lq), jnp.clip(xj, -bound, bound), alpha), ps, x, log_q)
    gap = alpha * (alpha - 1.0) * _level_sum(terms)
    return jnp.where(small, jnp.log1p(jnp.maximum(gap, -0.5)), log_sum) / (alpha - 1.0)


def _expand(m, e):
    """A per-configuration ``m`` against ``e``: itself for one level, a trailing axis for arrays of levels."""
    return m if m.ndim == e.ndim else m[..., None]


def _classical_max_divergence(ps, log_q):
    """D_∞(p‖q) = max_j log(p_j/q_j) with one logarithm instead of d (docs/ensemble.md §2).

    The level b of the largest ratio is found without logarithms: j beats b where
    p_j > p_b · e^{log q_j − log q_b} (constants of τ_S; an exponential that overflows or
    underflows still decides correctly, and a level with p_b = 0 always loses), then
    D_∞ = log p_b − log q_b, the same number as the maximum of the d differences. (Arrays of
    levels, d > 8: that maximum, d logarithms; the comparisons above grow as d².)
    """
    if not isinstance(ps, list):
        return largest(jnp.where(ps > 0, log(jnp.where(ps > 0, ps, 1.0)) - log_q, -jnp.inf))
    best_p, best_lq, best = ps[0], log_q[0], None
    for j in range(1, len(ps)):
        scale = jnp.exp(log_q[j] - log_q[0])  # e^{log q_j − log q_b} for the b of each configuration
        for b in range(1, j):
            scale = jnp.where(best == b, jnp.exp(log_q[j] - log_q[b]), scale)
        wins = (ps[j] > best_p * scale) | (best_p == 0)
        best_p, best_lq = jnp.where(wins, ps[j], best_p), jnp.where(wins, log_q[j], best_lq)
        if j < len(ps) - 1:
            best = jnp.where(wins, j, 0 if best is None else best)
    return log(best_p) - best_lq


def _maximum(xs):
    if not isinstance(xs, list):
        return largest(xs)
    out = xs[0]
    for x in xs[1:]:  # the first of tied entries keeps its tangent (jnp.maximum split it evenly); NaN propagates
        out = jnp.where((x > out) | jnp.isnan(x), x, out)
    return out


def _classical_static_ok(alpha: float, dtype) -> bool:
    return alpha > 0 and (alpha == 1.0 or abs(alpha - 1.0) >= classical_alpha_window(dtype))


def classical_divergences(p, beta, g, alphas):
    """D_α(p‖τ_S) of populations p (..., d) for each static α, shape (..., n_alpha).

    Equal to :func:`~jaxthermo.divergences_to_thermal` (``quantum=False``); α's outside
    (0, ∞] or inside the α → 1 window go through that reference route.
    """
    d = p.shape[-1]
    log_q = log_thermal_populations(d, jnp.asarray(beta).astype(p.dtype), jnp.asarray(g).astype(p.dtype))
    if d <= _LEVELS_ONE_BY_ONE_MAX_D:
        ps, lqs = [p[..., j] for j in range(d)], [log_q[..., j] for j in range(d)]
    else:
        ps, lqs = p, log_q
    cols = []
    for a in alphas:
        if _classical_static_ok(a, p.dtype):
            cols.append(_classical_one(ps, lqs, a))
        else:
            cols.append(divergences_to_thermal(_diag(p), beta, g, (a,), quantum=False)[..., 0])
    return jnp.stack(cols, axis=-1)


def classical_divergences_static(alphas, dtype) -> bool:
    """Whether every α of ``alphas`` has its own branch in :func:`classical_divergence_columns`."""
    return all(_classical_static_ok(float(a), dtype) for a in alphas)


def classical_divergence_columns(ps, log_q, alphas):
    """Classical D_α(p‖q) as a list of columns, one per α, for populations ``ps`` and ``log q``
    given as lists of the d components (α's with :func:`classical_divergences_static`)."""
    return [_classical_one(ps, log_q, float(a)) for a in alphas]


def _diag(p):
    return p[..., :, None] * jnp.eye(p.shape[-1], dtype=p.dtype)


def _alpha_window(columns, alphas, dtype):
    """``columns(alphas)`` (a list, one column per α) with the α's within the window of 1 (1e-6, float32 1e-3) taken
    as ``D_1 + (α − 1) D'``, D' = ±(4D_{1±h} − D_{1±2h} − 3D_1)/2h on α's side (h = 1e-3, float32 0.03; sandwiched
    above 1, Petz below: one family per side, as their second derivatives differ; both of slope V/2 at 1, V the
    relative-entropy variance, docs/information.md §4). ``log Tr(·)/(α − 1)`` loses
    ε/|α − 1| there: a coherent qubit's D_α was 2.5e-3 from D_1 at α = 1 ± 1e-14. Where the slope is not finite (ρ
    outside τ_S's support) the direct value is kept. Static: a run without such α's computes nothing more."""
    alphas = [float(a) for a in alphas]
    f32 = jnp.dtype(dtype) in (jnp.float32, jnp.complex64)
    window, h = (1e-3, 0.03) if f32 else (1e-6, 1e-3)
    near = [0.0 < abs(a - 1.0) < window for a in alphas]
    if not any(near):
        return columns(alphas)
    sides = sorted({1.0 if a > 1.0 else -1.0 for a, close in zip(alphas, near) if close})
    extra = [1.0] + [1.0 + k * side * h for side in sides for k in (1, 2)]
    cols = columns(alphas + extra)
    values = dict(zip(extra, cols[len(alphas) :]))
    out = []
    for a, close, direct in zip(alphas, near, cols):
        if not close:
            out.append(direct)
            continue
        side = 1.0 if a > 1.0 else -1.0
        d1, one, two = values[1.0], values[1.0 + side * h], values[1.0 + 2.0 * side * h]
        slope = side * (4.0 * one - two - 3.0 * d1) / (2.0 * h)
        finite = jnp.isfinite(slope)
        out.append(jnp.where(finite, d1 + (a - 1.0) * jnp.where(finite, slope, 0.0), direct))
    return out


def qubit_quantum_divergences(p0, x, y, beta, g, alphas, p1=None):
    """Quantum D_α(ρ‖τ_S) of qubits carried as (p0, x, y) (ρ_01 = x + iy), shape (..., n_alpha).

    Petz below α = 1, Umegaki at 1, sandwiched above (as :func:`~jaxthermo.quantum_renyi_divergence`),
    in closed form (module docstring). ``p1``: the excited population to its own precision (the
    ensemble's carried rare population, :func:`~jaxthermo.ensemble._fused.qubit_populations`), default
    ``1 − p0``. Raises for α < 0 as the reference does.
    """
    dt = p0.dtype
    beta, g = jnp.asarray(beta).astype(dt), jnp.asarray(g).astype(dt)
    t = thermal_populations(2, beta, g)
    log_t = log_thermal_populations(2, beta, g)
    log_t = (log_t[..., 0], log_t[..., 1])
    columns = qubit_divergence_columns(p0, x, y, t[..., 0], t[..., 1], alphas, log_t=log_t, p1=p1)
    return jnp.stack(columns, axis=-1)


def qubit_divergence_columns(p0, x, y, t0, t1, alphas, log_t=None, p1=None):
    """:func:`_qubit_columns` with the α's next to 1 from :func:`_alpha_window`."""
    return _alpha_window(lambda al: _qubit_columns(p0, x, y, t0, t1, al, log_t=log_t, p1=p1), alphas, p0.dtype)


def _qubit_columns(p0, x, y, t0, t1, alphas, log_t=None, p1=None):
    """:func:`qubit_quantum_divergences` as a list of columns, one per α, given τ_S's populations
    ``t0, t1`` (elementwise only: also the body of the GPU tile kernel) and, optionally, their logarithms
    ``log_t = (log t0, log t1)`` (per-model constants, as t0, t1 are). With ``log_t`` τ_S has full rank at
    every finite β, as in :func:`~jaxthermo.divergences_to_thermal`: D_α stays finite where t1 underflows
    (βg ≳ 745; the populations alone made D_1, D_2, D_∞ of a coherent ρ +∞ there, while the reference and
    the mean state's divergence were finite: 214.6 for D_1 at βg = 800), and α > 1 takes the largest
    factor e^{2c}, c = max_j γ log t_j, out of t_j^{2γ} (which overflowed beyond βg ≈ 709/(2|γ|)).

    ``p1`` (default ``1 − p0``): the excited population to its own precision. D_α for α > 1 depends on
    p1/t1, which for a cold τ_S (t1 ~ e^{−βg}) needs p1 far below ε: recomputed as 1 − p0 it rounded to 0
    (D_2 0 and D_∞ 0 instead of log 2 and 50 for p1 = e^{−50}, t1 = e^{−100}). Every term below takes
    both populations as given, so the one that τ_S makes rare keeps its relative precision."""
    dt = p0.dtype
    tol = support_tolerance(dt)
    # τ_S's populations are computed to relative precision: every normal positive one is support
    # (a fixed 1e-12 made D_α of a coherent ρ +∞ for βg ≳ 28); t^{2γ} ≤ 1/t stays finite
    tiny = jnp.finfo(dt).tiny
    full = log_t is not None  # full support, by the logarithms: no mask, no mismatch
    on0, on1 = (True, True) if full else (t0 >= tiny, t1 >= tiny)
    p1 = 1.0 - p0 if p1 is None else p1
    c2 = x * x + y * y
    z = p0 - p1
    r = jnp.sqrt(z * z + 4.0 * c2)
    lam_p = 0.5 * (1.0 + r)
    # Umegaki: λ− = (1 − r)/2 carries an absolute error ~ε, which moves λ− log λ− by ≲ ε|log ε| (no cut at α = 1);
    # kept there, on the default call's path, as the cheaper form (a division per configuration cost 25 %)
    lam_m = 0.5 * (1.0 - r)
    # Petz (α < 1): λ− = det ρ/λ+, free of cancellation, so a cold ρ's small eigenvalue keeps its relative
    # precision; it enters ρ^α when resolved, as in the reference's resolved spectrum of ρ (docs/information.md §4):
    # always when ρ is certified full rank from its diagonal, μ_min(D^{−1/2}ρD^{−1/2}) = 1 − |c|/√(p0p1) > 64d²ε
    # (d = 2), else above the rounding floor min(16dε, tol)·λ+ (below it λ− is noise, whose α-th power would count)
    det_m = (p0 * p1 - c2) / lam_p
    eps = float(jnp.finfo(dt).eps)
    certified = (p0 > tiny) & (p1 > tiny) & (c2 < (p0 * p1) * (1.0 - 256.0 * eps) ** 2)
    resolved_m = certified | (det_m > min(32.0 * eps, tol) * lam_p)
    nz = jnp.where(r > 0, z / jnp.where(r > 0, r, 1.0), 0.0)
    # weight of ρ outside supp τ_S (the reference decides this at 10·tol)
    mismatch = False if full else (jnp.where(on0, 0.0, p0) + jnp.where(on1, 0.0, p1)) > 10 * tol
    mark = (lambda val: val) if full else (lambda val: jnp.where(mismatch, jnp.inf, val))
    cols = []
    for a in alphas:
        a = float(a)
        if a < 0:
            raise ValueError(f"alpha={a}: the Petz divergence is implemented for alpha >= 0")
        if a == 1.0:
            if full:
                log_t0, log_t1 = log_t
            else:
                log_t0 = jnp.where(on0, jnp.log(jnp.where(on0, t0, 1.0)), 0.0)
                log_t1 = jnp.where(on1, jnp.log(jnp.where(on1, t1, 1.0)), 0.0)
            if full:  # Σ_j [λ_j log(λ_j/t_j) − λ_j + t_j] + s g (log t0 − log t1), _umegaki_qubit
                val = _umegaki_qubit(p0, p1, c2, z, r, t0, t1, log_t0, log_t1)
            else:
                val = xlogx(lam_p, log_positive) + xlogx(lam_m, log_positive) - (p0 * log_t0 + p1 * log_t1)
            cols.append(mark(val))
        elif a < 1.0:
            f_p = lam_p**a  # λ+ ≥ ½
            f_m = jnp.where(resolved_m, jnp.maximum(det_m, tiny) ** a, 0.0)
            mean, half = 0.5 * (f_p + f_m), 0.5 * (f_p - f_m)
            k0, k1 = mean + half * nz, mean - half * nz  # (ρ^α)_jj
            if full:  # Σ_j k_j e^{e_j}, e_j = (1 − α) log t_j, about its larger term (_dominant_level)
                shift, w0, w1 = _dominant_level(k0, k1, (1.0 - a) * log_t[0], (1.0 - a) * log_t[1])
            else:
                shift = 0.0
                w0 = jnp.where(on0, jnp.where(on0, t0, 1.0) ** (1.0 - a), 0.0)
                w1 = jnp.where(on1, jnp.where(on1, t1, 1.0) ** (1.0 - a), 0.0)
            tr = k0 * w0 + k1 * w1
            val = (log(tr) + shift) / (a - 1.0)
            if a == 0.0:  # D_0 = −log Tr Π_ρ τ_S ≥ 0, exactly 0 for a full-rank ρ (t0 + t1 = 1 ± ε gave −5.6·10⁻¹⁷)
                val = jnp.where((resolved_m & on0 & on1) | (val <= 0), 0.0, val)
            cols.append(val)
        else:
            gamma = -0.5 if math.isinf(a) else (1.0 - a) / (2.0 * a)
            if full:  # s_j² = t_j^{2γ} e^{−2c} about the larger diagonal entry p_j t_j^{2γ} (_dominant_level)
                c2 = jnp.minimum(c2, p0 * p1)  # |ρ01|² ≤ p0 p1 (rounding): no inf·0 below
                two_c, s0, s1 = _dominant_level(p0, p1, 2.0 * gamma * log_t[0], 2.0 * gamma * log_t[1])
                c = 0.5 * two_c
            else:
                c = 0.0
                s0 = jnp.where(on0, jnp.where(on0, t0, 1.0) ** (2 * gamma), 0.0)  # s_j² = t_j^{2γ}
                s1 = jnp.where(on1, jnp.where(on1, t1, 1.0) ** (2 * gamma), 0.0)
            a00, a11 = s0 * p0, s1 * p1
            half_tr = 0.5 * (a00 + a11)
            disc = 0.5 * jnp.sqrt((a00 - a11) ** 2 + 4.0 * (s0 * s1) * c2)
            mu_p, mu_m = half_tr + disc, half_tr - disc
            if math.isinf(a):
                val = log_positive(mu_p) + 2.0 * c
            else:
                mu_m = jnp.where(mu_m > 0, mu_m, 0.0)
                pw_m = jnp.where(mu_m > 0, jnp.where(mu_m > 0, mu_m, 1.0) ** a, 0.0)
                val = (log_positive(mu_p**a + pw_m) + 2.0 * a * c) / (a - 1.0)
            cols.append(mark(val))
    return cols


def _umegaki_qubit(p0, p1, c2, z, r, t0, t1, log_t0, log_t1):
    """Umegaki D_1(ρ‖τ_S) of a qubit accurate relative to its value: with λ_(j) the eigenvalue that continues
    level j's population (λ_(0) = p0 + sg, λ_(1) = p1 − sg, g = 2|c|²/(r + |z|) ≥ 0, s the sign of z = p0 − p1),
    Σ_k λ_k log λ_k − Σ_j p_j log t_j = Σ_j [λ_(j) log(λ_(j)/t_j) − λ_(j) + t_j] + sg (log t0 − log t1): two terms
    ≥ 0 (:func:`relative_entropy_term`, deviations (p_j − t_j) ± sg without cancellation) and one that is ≥ 0
    wherever ρ orders its populations as τ_S does. The spectra's Σ λ log λ cancelled against Σ p log t to ~ε:
    D_1 = 1.9e-16 for 4.0e-17 (βg = 40, |c| = 1e-9) and for a diagonal ρ 1.9e-16 for 2.1e-20."""
    denom = r + jnp.abs(z)
    g = jnp.where(denom > 0, 2.0 * c2 / jnp.where(denom > 0, denom, 1.0), 0.0)
    sg = jnp.where(z >= 0, g, -g)
    terms = relative_entropy_term((p0 - t0) + sg, t0, log_t0) + relative_entropy_term((p1 - t1) - sg, t1, log_t1)
    return terms + sg * (log_t0 - log_t1)


def _dominant_level(k0, k1, e0, e1):
    """``(e_b, w0, w1)`` for Σ_j k_j e^{e_j} (k_j ≥ 0 per configuration, e_j per-model constants) about its
    larger term b: Σ_j k_j e^{e_j} = e^{e_b} (k0 w0 + k1 w1), w_b = 1, the other w = e^{e_o − e_b} (a constant).

    Factoring out max_j e^{e_j} instead lost everything where ρ has no weight on that level: the ground state
    against a cold τ_S had the sandwiched D_∞ −0.69 at βg = 500 and 91.6 at βg = 800 (true 0), its D_2 −∞
    (docs/information.md §4). b is found by one comparison with the constant e^{e_1 − e_0}, exact also where it
    overflows (k1 e^{e_1 − e_0} > k0); a term whose k is 0 gets weight 0 (never ∞·0). The exponentials are
    per-model constants (no transcendental function per configuration); the weights are taken from copies
    clipped below overflow, which they never reach where selected (w_o ≤ k_b/k_o), so no branch holds an
    ∞ (finite reverse-mode derivatives)."""
    d10 = e1 - e0
    big = math.log(float(jnp.finfo(jnp.result_type(d10)).max)) - 1.0
    top1 = k1 * jnp.exp(d10) > k0  # 0 · ∞ = NaN compares False: k1 = 0 never tops
    ratio, inverse = jnp.exp(jnp.minimum(d10, big)), jnp.exp(jnp.minimum(-d10, big))
    w0 = jnp.where(top1, jnp.where(k0 > 0, inverse, 0.0), 1.0)
    w1 = jnp.where(top1, 1.0, jnp.where(k1 > 0, ratio, 0.0))
    return jnp.where(top1, e1, e0), w0, w1


def _cross(a, b):
    """a × b of complex 3-vectors given as tuples of (...) arrays (bilinear: (a × b)·a = 0)."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm2(v):
    return sum(jnp.real(x) ** 2 + jnp.imag(x) ** 2 for x in v)


def _select(conds, options):
    """Elementwise choice among tuples of arrays: the first option whose condition holds, else the last."""
    out = options[-1]
    for c, o in zip(conds[::-1], options[-2::-1]):
        out = tuple(jnp.where(c, x, y) for x, y in zip(o, out))
    return out


def _quad(u, e, w):
    """u^H E w for a Hermitian 3×3 E given as a nested tuple of (...) arrays."""
    return sum(jnp.conj(u[i]) * sum(e[i][j] * w[j] for j in range(3)) for i in range(3))


def eigvalsh3(a):
    """Eigenvalues (unsorted) of Hermitian (..., 3, 3) matrices without LAPACK, to ≈ ε‖a‖.

    The trigonometric (Cardano) formula — q = Tr a/3, p² = Tr (a − q)²/6, r = det(a − q)/2p³,
    λ = q + 2p cos(acos(r)/3 + 2πk/3) — loses accuracy (√ε) for a nearly degenerate pair (r → ±1,
    e.g. the two zero eigenvalues of a pure state), but always gives the eigenvalue farthest from the
    other two (λ_max for r ≥ 0, λ_min for r < 0) to ≈ ε‖a‖. Its eigenvector v is the largest cross
    product of two rows of a − λ; λ = v†av, and the pair are the eigenvalues of the 2×2 compression
    of a − q to v⊥ (closed form). v is held fixed under differentiation: v spans an invariant
    subspace, so the first-order change of every eigenvalue is that of the compressed matrices.
    """
    e_d = [jnp.real(a[..., i, i]) for i in range(3)]
    q = (e_d[0] + e_d[1] + e_d[2]) / 3.0
    e = [[(e_d[i] - q) if i == j else a[..., i, j] for j in range(3)] for i in range(3)]
    n01, n02, n12 = (jnp.real(e[i][j]) ** 2 + jnp.imag(e[i][j]) ** 2 for i, j in ((0, 1), (0, 2), (1, 2)))
    d0, d1, d2 = (jnp.real(e[i][i]) for i in range(3))
    ec = jax.lax.stop_gradient(e)
    p2 = jax.lax.stop_gradient((d0 * d0 + d1 * d1 + d2 * d2 + 2.0 * (n01 + n02 + n12)) / 6.0)
    det = jax.lax.stop_gradient(
        d0 * d1 * d2 + 2.0 * jnp.real(e[0][1] * e[1][2] * jnp.conj(e[0][2])) - d0 * n12 - d1 * n02 - d2 * n01
    )
    p_pos = p2 > 0
    p = jnp.sqrt(jnp.where(p_pos, p2, 1.0))
    r = jnp.clip(jnp.where(p_pos, det / (2.0 * p * p2), 0.0), -1.0, 1.0)
    phi = jnp.arccos(r) / 3.0
    # the isolated eigenvalue (shifted by q): largest for r ≥ 0, smallest for r < 0
    lam_s = jnp.where(p_pos, 2.0 * p * jnp.where(r >= 0, jnp.cos(phi), jnp.cos(phi + 2.0 * math.pi / 3.0)), 0.0)
    rows = [tuple(ec[i][j] - (lam_s if i == j else 0.0) for j in range(3)) for i in range(3)]
    crosses = [_cross(rows[0], rows[1]), _cross(rows[0], rows[2]), _cross(rows[1], rows[2])]
    norms = [_norm2(c) for c in crosses]
    v = _select([(norms[0] >= norms[1]) & (norms[0] >= norms[2]), norms[1] >= norms[2]], crosses)
    nv = jnp.maximum(jnp.maximum(norms[0], norms[1]), norms[2])
    one, zero = jnp.ones_like(q), jnp.zeros_like(q)
    v_ok = nv > 0
    inv = jnp.where(v_ok, 1.0 / jnp.sqrt(jnp.where(v_ok, nv, 1.0)), 0.0)
    v = tuple(jnp.where(v_ok, x * inv, u) for x, u in zip(v, (one, zero, zero)))
    # u1 = conj(v × e_k) ⊥ v with k the smallest |v_k| (|u1|² = 1 − |v_k|² ≥ 2/3); u2 = conj(v × u1)
    m = [jnp.real(x) ** 2 + jnp.imag(x) ** 2 for x in v]
    cands = [
        (zero, jnp.conj(v[2]), -jnp.conj(v[1])),
        (-jnp.conj(v[2]), zero, jnp.conj(v[0])),
        (jnp.conj(v[1]), -jnp.conj(v[0]), zero),
    ]
    u1 = _select([(m[0] <= m[1]) & (m[0] <= m[2]), m[1] <= m[2]], cands)
    u1 = tuple(x / jnp.sqrt(_norm2(u1)) for x in u1)
    u2 = tuple(jnp.conj(x) for x in _cross(v, u1))
    v, u1, u2 = (tuple(jax.lax.stop_gradient(x) for x in w) for w in (v, u1, u2))
    lam_v = jnp.real(_quad(v, e, v))
    b00, b11 = jnp.real(_quad(u1, e, u1)), jnp.real(_quad(u2, e, u2))
    b01 = _quad(u1, e, u2)
    mid = 0.5 * (b00 + b11)
    h2 = 0.25 * (b00 - b11) ** 2 + jnp.real(b01) ** 2 + jnp.imag(b01) ** 2
    h_pos = h2 > 0
    half = jnp.where(h_pos, jnp.sqrt(jnp.where(h_pos, h2, 1.0)), 0.0)
    return q[..., None] + jnp.stack([lam_v, mid + half, mid - half], axis=-1)


def _ascending(lam):
    """(..., d) values in ascending order by an odd-even transposition network of compare-exchanges (no
    sort call: XLA's CPU sort of the rows cost ≈ 95 ns per qutrit and 290 ns per d = 8 row); NaN last.

    Each exchange is one ``where`` on one comparison, so a value and its tangent move together. With
    ``jnp.minimum``/``jnp.maximum`` the tangent of the larger value was chosen by ``x == max(x, y)``, which
    fails where XLA recomputes x in another fusion with other rounding: under ``jit`` with vmapped
    tangents (``jt.ensemble(..., wrt=...)``) ∂λ_max of some qutrits was 0, and ∂⟨D_∞⟩/∂θ 5 % off."""
    cols = [lam[..., j] for j in range(lam.shape[-1])]
    for sweep in range(len(cols)):
        for j in range(sweep % 2, len(cols) - 1, 2):
            a, b = cols[j], cols[j + 1]
            swap = jax.lax.stop_gradient((a > b) | jnp.isnan(a))
            cols[j], cols[j + 1] = jnp.where(swap, b, a), jnp.where(swap, a, b)
    return jnp.stack(cols, axis=-1)


@jax.custom_jvp
def eigvalsh3_fast(a):
    """Ascending eigenvalues of Hermitian (..., 3, 3) matrices: the values from the batch-vectorised
    QR routine (:func:`~jaxthermo.ensemble._small_eigvalsh.eigvalsh_small`, faster than
    :func:`eigvalsh3` per matrix), the derivatives from :func:`eigvalsh3` (LAPACK-free, unlike the
    QR routine's own derivative)."""
    return _ascending(eigvalsh_small(a))


@eigvalsh3_fast.defjvp
def _eigvalsh3_fast_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    _, dlam = jax.jvp(lambda x: _ascending(eigvalsh3(x)), (a,), (da,))
    return eigvalsh3_fast(a), dlam


def _eigvalsh(a):
    """Ascending eigenvalues of Hermitian (..., d, d) matrices without LAPACK for 3 ≤ d ≤ 8 (for d = 3 with
    the derivatives of :func:`eigvalsh3`), faster than LAPACK's per-matrix calls there
    (benchmarks/bench_small_eigvalsh.py); LAPACK above."""
    d = a.shape[-1]
    if d == 3:
        return eigvalsh3_fast(a)
    if 4 <= d <= _SMALL_EIGVALSH_MAX_D:
        return _ascending(eigvalsh_small(a))
    return jnp.linalg.eigvalsh(a)


def quantum_divergences_thermal(rho, beta, g, alphas):
    """Quantum D_α(ρ‖τ_S) of coherent states ρ (..., d, d) of any d, shape (..., n_alpha).

    Equal to :func:`~jaxthermo.divergences_to_thermal` (``quantum=True``) with eigenvalues only
    (module docstring): Umegaki at α = 1 (Σ λ log λ − Σ_j ρ_jj log t_j), sandwiched above
    (eigenvalues μ of s_i s_j ρ_ij, s_j = t_j^{(1−α)/2α}; log Σ μ^α/(α − 1), log max μ at α = ∞).
    α < 1 (Petz) goes through the reference route for that α only; α's next to 1 by :func:`_alpha_window`.
    """
    rho = jnp.asarray(rho)
    columns = _alpha_window(lambda al: _quantum_columns(rho, beta, g, al), alphas, rho.dtype)
    return jnp.stack(columns, axis=-1)


def _quantum_columns(rho, beta, g, alphas):
    """:func:`quantum_divergences_thermal` as a list of columns, one per α."""
    d = rho.shape[-1]
    rdt = jnp.real(rho).dtype
    beta_, g_ = jnp.asarray(beta).astype(rdt), jnp.asarray(g).astype(rdt)
    # τ_S has full rank at every finite β: it enters through its log-populations only (finite)
    log_t = log_thermal_populations(d, beta_, g_)
    diag = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
    # every matrix whose eigenvalues an α ≥ 1 needs (ρ for α = 1, s ρ s above), diagonalised in
    # ONE call on a stacked batch: one trace of the eigenvalue routine however many α's
    alphas = tuple(float(a) for a in alphas)
    mats, shift = {}, {}
    for a in alphas:
        if a == 1.0:
            mats[a] = rho
        elif a > 1.0:  # s_j = t_j^γ = e^{m} e^{γ log t_j − m}, e^{2m} the largest diagonal entry's factor
            gamma = -0.5 if math.isinf(a) else (1.0 - a) / (2.0 * a)
            log_s2, two_m = about_largest_term(diag, 2.0 * gamma * log_t)
            shift[a] = 0.5 * two_m[..., 0]
            s = jnp.exp(0.5 * log_s2)
            mats[a] = s[..., :, None] * rho * s[..., None, :]
    eig = dict(zip(mats, _eigvalsh(jnp.stack(list(mats.values()))))) if mats else {}
    cols = []
    for a in alphas:
        if a < 1.0:
            cols.append(divergences_to_thermal(rho, beta, g, (a,), quantum=True)[..., 0].astype(rdt))
            continue
        if a == 1.0:
            val = umegaki_from_spectrum(eig[a], diag, log_t)
        elif math.isinf(a):
            val = log_positive(eig[a][..., -1]) + 2.0 * shift[a]  # the largest (ascending; not jnp.max: _ascending)
        else:
            mu = eig[a]
            pos = mu > 0
            total = jnp.sum(jnp.where(pos, jnp.where(pos, mu, 1.0) ** a, 0.0), axis=-1)
            val = (log(total) + 2.0 * a * shift[a]) / (a - 1.0)
        cols.append(val)
    return cols
