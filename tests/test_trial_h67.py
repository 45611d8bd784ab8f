"""Information measures and second laws, helper-67 (session 26).

ΔF_α of a weak collision (docs/information.md §3): the difference D_α(p') − D_α(p) of two nearly equal
divergences lost ε D_α/|ΔD_α| (θ = 10⁻⁵: 10⁻⁶–10⁻⁵ relative; θ = 10⁻⁸: 0 for every α). Against the definition
in 60-digit decimal arithmetic, with the collision p' = p + sin²θ (q(δ) − p) done in decimals too.
"""

import functools
from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, renyi_divergence_change_log, renyi_divergence_log

INF = float("inf")


def _sin(x):
    x = Decimal(x)
    term, total, n = x, x, 1
    while abs(term) > Decimal(10) ** -80:
        term = -term * x * x / ((n + 1) * (n + 2))
        n += 2
        total += term
    return total


def _thermal(d, beta_g):
    """Decimal populations of ``beta_g · s_z`` (level j at j − (d − 1)/2), as jaxthermo's thermal states."""
    w = [(-Decimal(beta_g) * (Decimal(j) - Decimal(d - 1) / 2)).exp() for j in range(d)]
    z = sum(w)
    return [x / z for x in w]


def _renyi(p, q, alpha):
    """D_α(p‖q) of Decimal populations by its definition (docs/information.md §2)."""
    if alpha == 1:
        return sum(pj * (pj / qj).ln() for pj, qj in zip(p, q) if pj > 0)
    if alpha == INF:
        return max((pj / qj).ln() for pj, qj in zip(p, q) if pj > 0)
    if alpha == -INF:
        return max((qj / pj).ln() for pj, qj in zip(p, q))
    a = Decimal(alpha)
    s = sum(pj**a * qj ** (1 - a) for pj, qj in zip(p, q) if pj > 0)
    return (1 if alpha > 0 else -1) * s.ln() / (a - 1)


def _exact_change(p, beta, delta, theta, alphas, kind="hamiltonian"):
    """β ΔF_α = D_α(p'‖τ_S) − D_α(p‖τ_S) of one partial-swap collision, p' = p + sin²θ (q(δ) − p), 60 digits; p is
    normalised in decimals (D_α near α = 1 is ill-conditioned in Σ p − 1)."""
    getcontext().prec = 60
    d = len(p)
    p = [Decimal(float(x)) for x in p]
    total = sum(p)
    p = [x / total for x in p]
    # both kinds: τ(δ) is thermal at βg0(1 + δ) (g0 = 1)
    q = _thermal(d, Decimal(beta) * (1 + Decimal(delta)))
    s2 = _sin(theta) ** 2
    p_new = [pj + s2 * (qj - pj) for pj, qj in zip(p, q)]
    tau = _thermal(d, Decimal(beta))
    return np.array([float(_renyi(p_new, tau, a) - _renyi(p, tau, a)) for a in alphas])


@functools.cache
def _laws(alphas, quantum=False):
    """βΔF_α of one collision, compiled once per dimension and kind (the model's numbers are traced)."""

    def laws(model, p, delta):
        return model.beta * jt.collision_second_laws(model, jnp.diag(p), delta, list(alphas), quantum=quantum)[1]

    return jax.jit(laws)


_change = jax.jit(renyi_divergence_change_log)

ALPHAS = [-3.0, 0.01, 0.5, 1.0 - 1e-7, 1.0, 1.001, 2.0, 7.0, 50.0, INF, -INF]


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("beta", [0.01, 1.0, 40.0])
def test_weak_collision_free_energy_changes_against_decimals(d, beta):
    """βΔF_α of one collision within 10⁻¹² relative for θ from 10⁻⁸ to 0.7, both kinds, a random mixed state
    and one near τ_S (the old difference: 1.0 at θ = 10⁻⁸, where p' rounds to p; ~10⁻⁶ at θ = 10⁻⁵)."""
    rng = np.random.default_rng(int(10 * beta) + d)
    tau = np.asarray(jt.thermal_state(d, beta, 1.0)).diagonal().real
    near = tau * (1 + 0.01 * rng.standard_normal(d))
    states = [rng.dirichlet(np.ones(d)), near / near.sum()]
    worst = 0.0
    for kind, p in zip(("hamiltonian", "temperature"), states):
        delta = float(rng.uniform(-0.3, 0.3))
        for theta in (1e-8, 1e-5, 0.7):
            model = jt.InhomogeneousReservoir(d, beta, 1.0, theta, kind=kind, distribution=jt.Gaussian(0.05))
            got = np.asarray(_laws(tuple(ALPHAS))(model, p, delta))
            ref = _exact_change(p, beta, delta, theta, ALPHAS)
            worst = max(worst, float(np.max(np.abs(got - ref) / np.abs(ref))))
    # 3·10⁻¹³ near τ_S: the rounding of q(δ) against q − p (an input's)
    assert worst < 1e-12


@pytest.mark.parametrize("d", [2, 3])
def test_weak_collision_from_pure_and_rank_deficient_states(d):
    """A level populated from 0 (pure ground or top state, a mixture without the top level): ΔD_α for α > 0 and
    +∞ within 10⁻¹² (the old difference: 1.0 at θ = 10⁻⁸ for α ≥ 1 and at α = ∞ for θ ≤ 10⁻⁴)."""
    alphas = [0.01, 0.5, 1.0, 1.0 + 1e-7, 2.0, 50.0, INF]
    states = [[1.0] + [0.0] * (d - 1), [0.0] * (d - 1) + [1.0], [0.5, 0.5] + [0.0] * (d - 2)]
    worst = 0.0
    for beta in (0.1, 40.0):
        for p in states:
            p = np.array(p)
            for theta in (1e-8, 1e-4):
                model = jt.InhomogeneousReservoir(d, beta, 1.0, theta, distribution=jt.Gaussian(0.05))
                got = np.asarray(_laws(tuple(alphas))(model, p, 0.1))
                ref = _exact_change(p, beta, 0.1, theta, alphas)
                worst = max(worst, float(np.max(np.abs(got - ref) / np.abs(ref))))
    assert worst < 1e-12


def test_change_function_matches_difference_for_large_changes():
    """:func:`renyi_divergence_change_log` against 60-digit decimals for changes of every size (x = Δp/p from 10⁻¹²
    to 10⁸, levels emptied to 10⁻³ of themselves), where it switches to the difference of the divergences."""
    getcontext().prec = 60
    rng = np.random.default_rng(7)
    alphas = np.array([-2.0, 0.3, 1.0, 1.5, 20.0, INF, -INF])
    log_t = log_thermal_populations(3, 2.0, 1.0)
    worst = 0.0
    for size in (1e-12, 1e-6, 1e-2, 0.5, 0.999):
        for _ in range(3):
            p = rng.dirichlet(np.ones(3))
            target = rng.dirichlet(np.ones(3) * 0.3)
            dp = size * (target - p)
            dp[0] = -(dp[1] + dp[2])
            got = np.asarray(_change(p[None, :], dp[None, :], log_t, alphas))
            pd = [Decimal(float(x)) for x in p]
            pn = [x + Decimal(float(y)) for x, y in zip(pd, dp)]
            norm = sum(pd)
            pd, pn = [x / norm for x in pd], [x / norm for x in pn]
            t_exact = [Decimal(float(x)).exp() for x in np.asarray(log_t)]  # the float log t as given
            ref = np.array([float(_renyi(pn, t_exact, a) - _renyi(pd, t_exact, a)) for a in alphas])
            worst = max(worst, float(np.max(np.abs(got - ref) / np.abs(ref))))
    assert worst < 1e-11


def test_weak_collision_gradient_in_theta():
    """d(βΔF_α)/dθ at θ = 10⁻³ (forward mode) against a central difference of the decimal ΔD_α."""
    alphas = [0.5, 1.0, 2.0, INF]
    p = np.array([0.5, 0.3, 0.2])
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 1e-3, distribution=jt.Gaussian(0.05))

    def change(theta):
        return jt.collision_second_laws(model.replace(theta=theta), jnp.diag(p), 0.1, alphas).free_energy_change

    h = 1e-12
    ref = (
        _exact_change(p, 1.0, 0.1, Decimal("1e-3") + Decimal(h), alphas)
        - _exact_change(p, 1.0, 0.1, Decimal("1e-3") - Decimal(h), alphas)
    ) / (2 * h)
    np.testing.assert_allclose(np.asarray(jax.jit(jax.jacfwd(change))(1e-3)), ref, rtol=1e-6)


def test_change_is_consistent_with_divergences_away_from_small_changes():
    """For a strong collision ΔD_α equals the difference of :func:`renyi_divergence_log` (both accurate there)."""
    p = jnp.array([0.2, 0.5, 0.3])
    dp = jnp.array([0.3, -0.2, -0.1])
    log_t = log_thermal_populations(3, 1.0, 1.0)
    alphas = jnp.array([-2.0, 0.0, 0.5, 1.0, 3.0, INF, -INF])
    got = _change(p, dp, log_t, alphas[:, None])
    ref = jax.jit(lambda a: renyi_divergence_log(p + dp, log_t, a) - renyi_divergence_log(p, log_t, a))(alphas[:, None])
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-13, atol=1e-15)


def test_weak_collision_quantum_route_on_diagonal_states(d=3):
    """``quantum=True`` on diagonal states (the quantum D_α are the classical ones there): βΔF_α within 10⁻¹² of the
    decimals (the difference of the quantum divergences: 1.0 at θ = 10⁻⁸, 7·10⁻⁵ at θ = 10⁻⁵), equal to the
    populations route."""
    alphas = [0.0, 0.5, 1.0, 2.0, INF]
    p = np.linspace(3.0, 1.0, d) / np.linspace(3.0, 1.0, d).sum()
    for theta in (1e-8, 1e-5):
        model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, distribution=jt.Gaussian(0.05))
        got = np.asarray(_laws(tuple(alphas), True)(model, p, 0.1))
        np.testing.assert_allclose(got, _exact_change(p, 1.0, 0.1, theta, alphas), rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(got, np.asarray(_laws(tuple(alphas))(model, p, 0.1)))


def _decimal_qubit_coherence(p0, c):
    """C = H(p) − S(ρ) of ρ = [[p0, c], [c, 1 − p0]] (c real) in 60 digits, from the eigenvalues in closed form."""
    getcontext().prec = 60
    p0, c = Decimal(p0), Decimal(c)
    p1 = 1 - p0
    r = ((p0 - p1) ** 2 + 4 * c * c).sqrt()
    lam = [(1 + r) / 2, (1 - r) / 2]
    return float(sum(x * x.ln() for x in lam) - p0 * p0.ln() - p1 * p1.ln())


@pytest.mark.parametrize("c", [1e-9, 1e-6, 1e-3, 0.3])
def test_coherence_of_weakly_coherent_qubit(c):
    """Relative entropy of coherence within 10⁻¹³ relative (H(p) − S(ρ): 0 for 2.1·10⁻¹⁸ at |ρ₀₁| = 10⁻⁹, 2.4·10⁻⁵
    off at 10⁻⁶); the phase of ρ₀₁ does not matter."""
    rho = np.array([[0.7, c * 1j], [-c * 1j, 0.3]])
    np.testing.assert_allclose(float(jt.coherence(rho)), _decimal_qubit_coherence(0.7, c), rtol=1e-13)


def test_coherence_of_weakly_coherent_qutrit():
    """d = 3, coherences 10⁻⁶ (0↔1 real, 1↔2 imaginary, none 0↔2, so no third-order term): against the second-order
    perturbation C = ½ Σ_{i≠j} |ρ_ij|² (log p_i − log p_j)/(p_i − p_j) (relative remainder ~10⁻¹²), within 10⁻⁶
    (H(p) − S(ρ): 2.4·10⁻⁵ off)."""
    p = np.array([0.5, 0.3, 0.2])
    c = 1e-6
    rho = np.diag(p).astype(complex)
    rho[0, 1] = rho[1, 0] = c
    rho[1, 2], rho[2, 1] = 1j * c, -1j * c
    f01 = (np.log(p[0]) - np.log(p[1])) / (p[0] - p[1])
    f12 = (np.log(p[1]) - np.log(p[2])) / (p[1] - p[2])
    np.testing.assert_allclose(float(jt.coherence(rho)), c * c * (f01 + f12), rtol=1e-6)
