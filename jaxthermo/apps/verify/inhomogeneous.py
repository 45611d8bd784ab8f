"""Verification checks of model A (docs/inhomogeneous.md): published numbers, identities and the three
misprints of docs/misprints.md, each recomputed by an independent route and cited."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..._information import trace_distance
from ..._qudit import thermal_state
from ...ensemble import frozen_ensemble_mean
from ...inhomogeneous import (
    Gaussian,
    InhomogeneousReservoir,
    approximate_second_law_epsilon,
    averaged_reservoir_populations,
    averaged_reservoir_state,
    averaged_trajectory,
    collision_number_scaling,
    collision_second_laws,
    entropy_production,
    free_energies,
    mean_collision,
    population_derivatives,
    quadratic_coefficients,
    single_collision_samples,
    small_delta_mean_heat,
    small_delta_mean_work,
    work_density,
    work_support,
)
from ._check import Check, CheckOutcome
from ._random import random_density_matrix

A = float(np.exp(-1.0))
KEY = jax.random.PRNGKey(2019)


def _model(theta=0.1, sigma=0.02, kind="hamiltonian", d=2):
    return InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=Gaussian(sigma))


def _rho(p0):
    return jnp.diag(jnp.array([p0, 1.0 - p0]))


def _derivative():
    dq, ddq = population_derivatives(_model())
    ok1, ok2 = abs(float(dq[0]) - A / (1 + A) ** 2), abs(float(ddq[0]) - A * (A - 1) / (1 + A) ** 3)
    return CheckOutcome(
        max(ok1, ok2) < 1e-13,
        f"q0'(0) = {float(dq[0]):.6f} = βg0 a/(1+a)², q0''(0) = {float(ddq[0]):.6f} (autodiff vs closed form)",
    )


def _gaussian_mean(f, sigma, split=False):
    """E_G f(δ), G = N(0, σ²), by SciPy's adaptive quad (split at δ = 0 for a kink there)."""
    from scipy import integrate

    def weighted(x):
        return f(x) * np.exp(-0.5 * (x / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))

    pieces = [(-12 * sigma, 0.0), (0.0, 12 * sigma)] if split else [(-12 * sigma, 12 * sigma)]
    return sum(integrate.quad(weighted, a, b, epsabs=1e-15, epsrel=1e-12, limit=200)[0] for a, b in pieces)


def _qubit_q0(delta):
    """Ground population of τ(δ) for βg0 = 1: 1/(1 + e^{−(1+δ)})."""
    return 1.0 / (1.0 + np.exp(-(1.0 + delta)))


def _tau_bar_hotter():
    sigma = 0.2
    q = averaged_reservoir_populations(_model(sigma=sigma))
    beta_eff = float(np.log(q[0] / q[1]))
    q0_bar = _gaussian_mean(_qubit_q0, sigma)
    reference = float(np.log(q0_bar / (1 - q0_bar)))
    return CheckOutcome(
        beta_eff < 1.0 and abs(beta_eff - reference) < 1e-10,
        f"qubit τ̄ (σ = 0.2) is thermal at β_eff g0 = {beta_eff:.8f} < βg0 = 1 (SciPy quad of q0(δ): {reference:.8f})",
    )


def _mean_work_sigma2():
    model = _model(theta=0.3, sigma=0.01)
    exact = float(mean_collision(model, jnp.eye(2) / 2)[1].work)
    approx = float(small_delta_mean_work(model, 0.01**2))
    rel = abs(exact / approx - 1)
    return CheckOutcome(
        rel < 1e-3 and approx > 0,
        f"W̄_r = g0 q0' σ² sin²θ = {approx:.4e} vs quadrature {exact:.4e} (rel. diff {rel:.1e}, O(σ²))",
    )


def _work_bound(p0):
    """[ATO-preprint] eq. (B7) for βg0 = 1: y = W/(g0 sin²θ) ≥ −(p0 a − p1)²/(4a)."""
    return -((p0 * A - (1 - p0)) ** 2) / (4 * A)


def _work_lower_bound():
    """The support of G_W against eq. (B7), and exact samples against the bound: never below it, and for
    p0 = 0.721 (vertex δ = −(q0 − p0)/(2q0') ≈ −σ/2, inside the samples) reaching it, so that a bound too low
    fails too (for p0 ∈ {0, ½, 0.9, 1} the vertex lies 9–37σ out and no sample comes near it)."""
    worst, reach = np.inf, np.inf
    for p0 in (1.0, 0.5, 0.0, 0.9, 0.721):
        model, rho = _model(sigma=0.05), _rho(p0)
        y_min = float(work_support(model, rho)[0])
        formula = _work_bound(p0)
        if abs(y_min - formula) > 1e-12:
            return CheckOutcome(False, f"support {y_min} ≠ formula {formula}")
        _, e = single_collision_samples(model, rho, KEY, 100_000)
        y = np.asarray(e.work) / np.sin(0.1) ** 2
        margin = (y.min() - formula) / np.ptp(y)
        worst = min(worst, margin)
        if p0 == 0.721:
            reach = margin
    return CheckOutcome(
        bool(worst > -1e-3 and reach < 1e-3),
        f"min exact W ≥ −sin²θ (p0a − p1)²/(4βa) over 5×10⁵ samples (worst margin {worst:.1e} of the range); "
        f"p0 = 0.721, vertex inside the samples: reached within {reach:.1e} of the range",
    )


def _work_density_mc():
    from scipy import integrate

    model, rho = _model(), _rho(0.5)
    _, e = single_collision_samples(model, rho, KEY, 200_000)
    y = np.asarray(e.work) / np.sin(0.1) ** 2
    edges = np.quantile(y, np.linspace(0.01, 0.99, 21))
    dens = jax.jit(lambda t: work_density(model, rho, t))
    prob = np.array([integrate.quad(lambda t: float(dens(t)), a, b)[0] for a, b in zip(edges[:-1], edges[1:])])
    counts, _ = np.histogram(y, bins=edges)
    chi2 = float(np.sum((counts - y.size * prob) ** 2 / (y.size * prob)))
    dof = len(prob) - 1
    return CheckOutcome(
        chi2 < dof + 5 * np.sqrt(2 * dof), f"σ = 0.02, p0 = ½: χ² = {chi2:.1f} for {dof} dof (exact MC vs G_W)"
    )


def _misprint_discriminant():
    from scipy import integrate

    model, rho = _model(), _rho(0.5)
    a, b, _ = quadratic_coefficients(model, rho, "work")
    lo = float(work_support(model, rho)[0])
    dens = jax.jit(lambda t: work_density(model, rho, t))
    bad = jax.jit(lambda t: dens(t) * jnp.sqrt(jnp.abs(b**2 + 4 * a * t)) / jnp.sqrt(jnp.abs(a**2 + 4 * t * b)))
    ok = integrate.quad(lambda t: float(dens(t)), lo, 0.05, limit=200)[0]
    wrong = integrate.quad(lambda t: float(bad(t)), lo, 0.05, limit=200)[0]
    return CheckOutcome(
        abs(ok - 1) < 1e-6 and abs(wrong - 1) > 0.1,
        f"∫G_W dy = {ok:.7f} with D = (q0−p0)² + 4q0'y; {wrong:.4f} with the printed D = q0'² + 4y(q0−p0)",
    )


def _misprint_half():
    sigma = 0.1
    model, rho = _model(theta=0.3, sigma=sigma, kind="temperature"), _rho(0.75)
    _, e = single_collision_samples(model, rho, KEY, 1_000_000)
    q_mc, se = float(jnp.mean(e.heat)), float(jnp.std(e.heat)) / 1000.0
    right = float(small_delta_mean_heat(model, rho, sigma**2))
    _, ddq = population_derivatives(model)
    m = jnp.array([-0.5, 0.5])  # s_z levels
    wrong = right + float(np.sin(0.3) ** 2 * jnp.sum(m * 0.5 * ddq) * sigma**2)  # q''σ² instead of ½q''σ²
    z_ok, z_bad = abs(q_mc - right) / se, abs(q_mc - wrong) / se
    return CheckOutcome(
        z_ok < 5 and z_bad > 20,
        f"mean heat (temperature kind, σ = 0.1): ½q'' off by {z_ok:.1f} SE, printed q'' off by {z_bad:.0f} SE (10⁶ exact "
        "samples)",
    )


def _misprint_sign():
    n, sigma = 20, 0.2
    model = _model(theta=0.3, sigma=sigma)
    mc = frozen_ensemble_mean(model, _rho(0.3), KEY, 20_000, n, lambda t: jnp.sum(t.work), chunk_size=10_000)
    predicted = n * float(small_delta_mean_work(model, sigma**2))
    z_ok = abs(float(mc.mean) - predicted) / float(mc.stderr)
    z_bad = abs(float(mc.mean) + predicted) / float(mc.stderr)
    ok = predicted > 0 and z_bad > 20 and abs(float(mc.mean) / predicted - 1) < 0.03
    return CheckOutcome(
        ok,
        (
            f"W̄_N (N = 20) by MC = {float(mc.mean):.4e} ± {float(mc.stderr):.1e}; +N g0 q0' σ² sin²θ = {predicted:.4e} "
            f"({z_ok:.1f} SE, O(σ⁴) apart); the printed −Σ W̄_r is {z_bad:.0f} SE off"
        ),
    )


def _trace_distance_contraction():
    model = _model(theta=0.25, sigma=0.1)
    rho0 = _rho(0.95)
    n = 30
    avg = averaged_trajectory(model, rho0, n)
    tau_bar = averaged_reservoir_state(model)
    lhs = float(trace_distance(avg.states[-1], tau_bar))
    rhs = float(np.cos(0.25) ** (2 * n) * trace_distance(rho0, tau_bar))
    mc = frozen_ensemble_mean(model, rho0, KEY, 20_000, n, lambda t: jnp.real(t.states[-1, 0, 0]), chunk_size=10_000)
    z = abs(float(mc.mean) - float(jnp.real(avg.states[-1, 0, 0]))) / float(mc.stderr)
    return CheckOutcome(
        abs(lhs - rhs) < 1e-13 and z < 5,
        f"D(ρ̄_30, τ̄) = {lhs:.6e} = cos^60θ D(ρ0, τ̄); frozen-MC mean state within {z:.1f} SE",
    )


def _scaling():
    model = _model(sigma=0.05)
    res = collision_number_scaling(model, _rho(0.95), [500], c=2.0)
    rw = res.accumulated_work[0] / res.work_limit_small_sigma  # the paper's σ² law, not the exact limit
    rd = res.trace_distance[0] / res.trace_distance_limit
    return CheckOutcome(
        abs(rw - 1) < 1e-3 and abs(rd - 1) < 0.01,
        f"sin²θ = 2/N, N = 500: W̄_N/(g0 c σ² q0') = {rw:.5f}, D/(e^{{−c}}D0) = {rd:.4f}",
    )


def _delta_f1_below_work():
    """ΔF_1 ≤ W, and the identity β(W − ΔF_1) = S(ρ'_SR ‖ ρ'_S ⊗ τ(δ)) of docs/inhomogeneous.md §9 against the
    full density matrix (the inequality alone passed a W too large by any positive amount)."""
    rng = np.random.default_rng(0)
    worst, gap = -np.inf, 0.0
    deltas = jnp.linspace(-0.3, 0.3, 31)
    for d in (2, 3):
        model = _model(theta=0.4, d=d)
        for _ in range(5):
            p = rng.dirichlet(np.ones(d))
            rho = jnp.diag(jnp.asarray(p))
            laws = jax.vmap(lambda x: collision_second_laws(model, rho, x, [1.0]))(deltas)
            excess = np.asarray(laws.work - laws.free_energy_change[:, 0])  # β = 1
            worst = max(worst, float(-excess.min()))
            ref = np.array([_joint_entropy_production(model, np.diag(p), float(x)) for x in deltas])
            gap = max(gap, float(np.max(np.abs(excess - ref))))
    return CheckOutcome(
        worst <= 1e-15 and gap < 1e-13,
        f"max(ΔF_1 − W) = {worst:.2e} ≤ 0; max |β(W − ΔF_1) − S(ρ'_SR ‖ ρ'_S ⊗ τ(δ))| = {gap:.1e} (full density "
        "matrix) over δ ∈ [−0.3, 0.3], d = 2, 3, random diagonal states",
    )


def _delta_f3_above_work():
    model, rho = _model(), _rho(0.75)
    deltas = jnp.linspace(0.11, 0.2, 10)
    laws = jax.vmap(lambda x: collision_second_laws(model, rho, x, [1.0, 3.0]))(deltas)
    gap = np.asarray(laws.free_energy_change[:, 1] - laws.work)
    ok = np.all(gap > 0) and np.all(np.asarray(laws.free_energy_change[:, 0] - laws.work) <= 0)
    return CheckOutcome(
        bool(ok), f"θ = 0.1, p0 = 0.75, δ ∈ [0.11, 0.2]: β(ΔF_3 − W) ≥ {gap.min():.2e} > 0 while ΔF_1 ≤ W"
    )


def _renyi(p, q, alpha):
    """Classical D_α(p‖q) of [BHNOW15] (docs/information.md §2), NumPy, full-support p and q."""
    if alpha == np.inf:
        return float(np.log(np.max(p / q)))
    if alpha == 1.0:
        return float(np.sum(p * np.log(p / q)))
    return float(np.sign(alpha) / (alpha - 1) * np.log(np.sum(p**alpha * q ** (1 - alpha))))


def _violation_from_thermal():
    """βΔF_α = D_α(ρ̄_30‖τ_S) > 0 from τ_S, against ρ̄_30 = τ̄ − (τ̄ − τ_S)cos^60θ with τ̄ by SciPy quad and the
    classical D_α in NumPy (``> 0`` alone holds for any ρ̄_30 ≠ τ_S), and βΔF_0 = 0 (supports unchanged)."""
    alphas = [-2.0, 0.0, 0.5, 1.0, 2.0, 10.0, np.inf]
    theta, sigma, n = 0.5, 0.2, 30
    model = _model(theta=theta, sigma=sigma)
    avg = averaged_trajectory(model, thermal_state(2, 1.0, 1.0), n)
    f = free_energies(model, avg.states[jnp.array([0, -1])], alphas)
    df = np.asarray(f[1] - f[0])
    q0, q0_bar = _qubit_q0(0.0), _gaussian_mean(_qubit_q0, sigma)
    p0 = q0_bar - (q0_bar - q0) * np.cos(theta) ** (2 * n)
    p, q = np.array([p0, 1 - p0]), np.array([q0, 1 - q0])
    ref = np.array([0.0 if a == 0 else _renyi(p, q, a) for a in alphas])
    rel = float(np.max(np.abs(df - ref)[ref > 0] / ref[ref > 0]))
    positive = np.delete(df, 1)
    return CheckOutcome(
        bool(np.all(positive > 0) and abs(df[1]) < 1e-15 and rel < 1e-8),
        f"τ_S → τ̄: βΔF_α > 0 for α ∈ {{−2, ½, 1, 2, 10, ∞}} (min {positive.min():.2e}; NumPy D_α(ρ̄_30‖τ_S) with "
        f"SciPy τ̄: rel. diff {rel:.1e}); α = 0: {df[1]:.1e} (supports unchanged)",
    )


def _joint_entropy_production(model, rho, delta):
    """S(ρ'_SR ‖ ρ'_S ⊗ τ(δ)) from the full (d², d²) density matrix in NumPy: U = cos θ 1 + i sin θ S
    (docs/conventions.md §5), τ(δ) of g_r = g0(1 + δ) (Hamiltonian kind), logarithms by eigh."""
    d, theta = model.d, float(model.theta)
    m = np.arange(d) - (d - 1) / 2
    w = np.exp(-model.beta * model.g0 * (1 + delta) * (m - m[0]))
    tau = np.diag(w / w.sum())
    swap = np.eye(d * d)[[(j % d) * d + j // d for j in range(d * d)]]
    u = np.cos(theta) * np.eye(d * d) + 1j * np.sin(theta) * swap
    joint = u @ np.kron(np.asarray(rho), tau) @ u.conj().T
    system = np.trace(joint.reshape(d, d, d, d), axis1=1, axis2=3)

    def log_h(x):
        e, v = np.linalg.eigh(x)
        return (v * np.log(e)) @ v.conj().T

    return float(np.real(np.trace(joint @ (log_h(joint) - log_h(np.kron(system, tau))))))


def _entropy_production():
    """The library's ΔS against the full density matrix: the library clamps its rounding below 0 to 0 and
    sums non-negative terms for diagonal states, so ``ΔS ≥ 0`` alone could not fail."""
    rng = np.random.default_rng(3)
    worst, smallest = 0.0, np.inf
    for d in (2, 3):
        model = _model(theta=0.6, d=d)
        for coherent in (True, False):
            for _ in range(3):
                rho = random_density_matrix(d, rng) if coherent else np.diag(rng.dirichlet(np.ones(d)))
                delta = rng.normal(scale=0.3)
                got = float(entropy_production(model, jnp.asarray(rho), delta))
                ref = _joint_entropy_production(model, rho, delta)
                worst = max(worst, abs(got - ref) / ref)
                smallest = min(smallest, got)
    return CheckOutcome(
        worst < 1e-9 and smallest > 0,
        f"S(ρ'_SR ‖ ρ'_S ⊗ τ(δ)) vs the full density matrix: rel. diff ≤ {worst:.1e} over random coherent and "
        f"diagonal states, d = 2, 3; min {smallest:.2e} > 0",
    )


def _epsilon():
    """ε and its bound against SciPy quad of |E_G q0(δ) − q0| and E_G|q0(δ) − q0| (qubit: D = |Δq0|); the
    inequality ε ≤ bound alone holds by construction and passed any ε below 3·10⁻³."""
    sigma = 0.02
    eps = approximate_second_law_epsilon(_model(sigma=sigma))
    q0 = _qubit_q0(0.0)
    eps_ref = abs(_gaussian_mean(lambda x: _qubit_q0(x) - q0, sigma))
    bound_ref = _gaussian_mean(lambda x: abs(_qubit_q0(x) - q0), sigma, split=True)
    estimate = np.sqrt(2 / np.pi) * A / (1 + A) ** 2 * sigma
    e, b = float(eps.epsilon), float(eps.upper_bound)
    ok = bool(
        e <= b
        and abs(e / eps_ref - 1) < 1e-8
        and abs(b / bound_ref - 1) < 1e-10
        and abs(float(eps.small_sigma) / estimate - 1) < 1e-12
        and abs(b / estimate - 1) < 1e-3
    )
    return CheckOutcome(
        ok,
        f"ε = D(τ_S, τ̄) = {e:.6e} (SciPy {eps_ref:.6e}) ≤ E_G D(τ_S, τ(δ)) = {b:.6e} (SciPy {bound_ref:.6e}) "
        f"≈ √(2/π) βg0 a/(1+a)² σ = {estimate:.6e}",
    )


CHECKS = [
    Check("model A: q0'(0), q0''(0) closed forms", "[ATO-preprint] eq. (B5); [ATO19] after eq. (30)", _derivative),
    Check("model A: qubit τ̄ thermal at a higher temperature", "[ATO-preprint] Sec. II.C", _tau_bar_hotter),
    Check("model A: small-δ mean work g0 q0' σ² sin²θ > 0", "[ATO-preprint] eq. (14)", _mean_work_sigma2),
    Check("model A: lower bound of single-collision work", "[ATO-preprint] eq. (B7)", _work_lower_bound),
    Check("model A: G_W(y) vs exact Monte Carlo, σ = 0.02", "[ATO19] eq. (16), Fig. 1", _work_density_mc),
    Check("model A: misprint — discriminant of G_W", "[ATO19] eq. (16); docs/misprints.md §3", _misprint_discriminant),
    Check(
        "model A: misprint — ½ of the second-order Taylor term",
        "[ATO19] eqs. (26), (28), (30); docs/misprints.md §2",
        _misprint_half,
    ),
    Check(
        "model A: misprint — sign of accumulated work",
        "[ATO19] eq. (19) vs [ATO-preprint] eq. (15); docs/misprints.md §1",
        _misprint_sign,
    ),
    Check(
        "model A: D(ρ̄_N, τ̄) = cos^{2N}θ D(ρ0, τ̄)",
        "[ATO-preprint] eq. (16); [ATO19] eq. (20)",
        _trace_distance_contraction,
    ),
    Check("model A: sin²θ = c/N scaling of W̄_N and D", "[ATO-preprint] eq. (17); [ATO19] eq. (21)", _scaling),
    Check("model A: ΔF_1 ≤ W", "[ATO19] Sec. V, Fig. 4", _delta_f1_below_work),
    Check(
        "model A: ΔF_3 ≤ W fails beyond δ* = ln 3 − 1 ≈ 0.099 (p0 = 0.75)",
        "[ATO19] Fig. 4; [ATO-preprint] Fig. 2",
        _delta_f3_above_work,
    ),
    Check("model A: every second law violated from τ_S", "[ATO19] Sec. V, eqs. (31)–(33)", _violation_from_thermal),
    Check(
        "model A: entropy production ΔS = S(ρ'_SR ‖ ρ'_S ⊗ τ(δ)) > 0, full density matrix",
        "[ATO19] Sec. V",
        _entropy_production,
    ),
    Check("model A: ε of the approximate second laws", "[ATO19] Sec. V; [ATO-preprint] Sec. IV", _epsilon),
]
