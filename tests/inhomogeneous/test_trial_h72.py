"""helper-72: model A's unitarity checks under vmap, the exact ξ = 1 work limit, the temperature kind's β_r < 0 tail
and the policy for g0 < 0 / β < 0 (docs/inhomogeneous.md §3, §5, §12)."""

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

import jaxthermo as jt
from jaxthermo._qudit import partial_swap

A = jt.inhomogeneous


# ---- a user Coupling that is not unitary, where U is built under vmap --------------------------------------------


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Twice(jt.Coupling):
    """2U: not unitary anywhere."""

    def unitary(self, model, theta, delta):
        return 2.0 * partial_swap(model.d, theta)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Stretched(jt.Coupling):
    """(1 + δ/2) U: unitary at δ = 0 only (the old averaged_trajectory checked δ = 0 alone)."""

    def unitary(self, model, theta, delta):
        return (1.0 + 0.5 * delta) * partial_swap(model.d, theta)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Swap(jt.Coupling):
    """The partial swap as a user's coupling (the full density-matrix route)."""

    def unitary(self, model, theta, delta):
        return partial_swap(model.d, theta)


RHO = jnp.diag(jnp.array([0.3, 0.7]))


def _model(coupling, d=2):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, coupling=coupling, distribution=jt.Gaussian(0.2))


@pytest.mark.parametrize("coupling", [Twice(), Stretched()], ids=["2U", "U(1+delta/2)"])
@pytest.mark.parametrize(
    "call",
    [
        lambda m: A.single_collision_samples(m, RHO, jax.random.key(0), 64),
        lambda m: A.single_collision_histogram(m, RHO, jax.random.key(0), 64, "heat"),
        lambda m: A.mean_collision(m, RHO),
        lambda m: A.mean_heat(m, RHO),
        lambda m: A.averaged_trajectory(m, RHO, 3),
    ],
    ids=["samples", "histogram", "mean_collision", "mean_heat", "averaged_trajectory"],
)
def test_non_unitary_user_coupling_is_refused_under_vmap(coupling, call):
    """Each of these built U under vmap (check_unitary sees tracers) and ran 2U without a word: heats 4x the unitary
    ones. U(1 + δ/2) passed averaged_trajectory's δ = 0 check as well."""
    name = type(coupling).__name__
    with pytest.raises(ValueError, match=rf"{name}\.unitary is not unitary"):
        call(_model(coupling))


def test_unitary_user_coupling_still_runs_and_agrees():
    """The check lets a unitary user coupling through; its mean heat (full density matrix at every node) equals the
    partial swap's closed form, and its samples equal the closed-form collisions at the same δ's."""
    user, builtin = _model(Swap()), _model(jt.PartialSwap())
    rho = RHO
    np.testing.assert_allclose(A.mean_heat(user, rho), A.mean_heat(builtin, rho), rtol=1e-12)
    a = A.single_collision_samples(user, rho, jax.random.key(1), 32)
    b = A.single_collision_samples(builtin, rho, jax.random.key(1), 32)
    np.testing.assert_allclose(a.energetics.heat, b.energetics.heat, rtol=1e-10, atol=1e-15)


# ---- collision_number_scaling: the exact ξ = 1 work limit ---------------------------------------------------------


def _q(d, x):
    """Thermal populations of g s_z at βg = x (NumPy, independent of the package)."""
    m = np.arange(d) - (d - 1) / 2
    e = -x * (m - m.max()) if x >= 0 else -x * (m - m.min())
    w = np.exp(e)
    return w / w.sum(), m


@pytest.mark.parametrize("d, beta, sigma, c", [(2, 1.0, 0.2, 1.5), (4, 2.0, 0.3, 0.7)])
def test_work_limit_is_the_exact_expectation(d, beta, sigma, c):
    """sin²θ = c/N, centred Gaussian, Hamiltonian kind: W̄_N = N sin²θ (−g0 E[δ Σ_j m_j q_j(δ)]) for every N
    (docs/inhomogeneous.md §3), so the limit is c·(−g0 E[δ Σ_j m_j q_j(δ)]), here by SciPy's adaptive quadrature.
    ``work_limit`` was the O(σ²) formula, 0.4 % low for the qubit at σ = 0.2 (now ``work_limit_small_sigma``)."""
    g0 = 1.3
    model = jt.InhomogeneousReservoir(d, beta, g0, 0.1, distribution=jt.Gaussian(sigma))
    rho0 = jnp.diag(jnp.linspace(2.0, 1.0, d) / jnp.sum(jnp.linspace(2.0, 1.0, d)))

    def integrand(x):
        q, m = _q(d, beta * g0 * (1 + x))
        return np.exp(-0.5 * (x / sigma) ** 2) / np.sqrt(2 * np.pi) / sigma * x * np.dot(m, q)

    ref = -g0 * c * integrate.quad(integrand, -12 * sigma, 12 * sigma, points=[0.0], epsabs=0, epsrel=1e-13)[0]
    res = A.collision_number_scaling(model, rho0, [50], c)
    np.testing.assert_allclose(res.work_limit, ref, rtol=1e-11)
    np.testing.assert_allclose(res.accumulated_work, ref, rtol=1e-10)  # exactly c·X at every N (centred law)
    dq, _ = A.population_derivatives(model)
    small = -g0 * c * sigma**2 * float(np.dot(np.arange(d), np.asarray(dq)))
    np.testing.assert_allclose(res.work_limit_small_sigma, small, rtol=1e-12)


def test_work_limit_of_a_law_that_is_not_centred():
    """An Empirical law with E[δ] ≠ 0 makes W̄_r depend on the state: the limit adds (1 − e^{−c})[W̄(π/2; ρ_0) −
    W̄(π/2; τ̄)] (the relaxation's share). Against a hand sum over the averaged dynamics in NumPy at N = 10⁵
    (W̄_N differs from its limit by O(c²/N))."""
    samples = np.array([0.3, -0.1, 0.45, 0.05])
    beta, g0, c, n = 1.0, 1.0, 1.2, 100_000
    model = jt.InhomogeneousReservoir(2, beta, g0, 0.1, distribution=jt.Empirical(jnp.asarray(samples)))
    p0 = np.array([0.9, 0.1])
    res = A.collision_number_scaling(model, jnp.diag(jnp.asarray(p0)), [10], c)
    qs = np.array([_q(2, beta * g0 * (1 + x))[0] for x in samples])  # (4, 2)
    m = np.array([-0.5, 0.5])
    s2 = c / n
    q_bar = qs.mean(axis=0)
    p, total = p0.copy(), 0.0
    for _ in range(n):  # W_r = E[(g_r − g0) Σ_j m_j (p_j − q_j(δ))] s² (docs/inhomogeneous.md §2)
        total += s2 * np.mean(g0 * samples * ((p - qs) @ m))
        p = p + s2 * (q_bar - p)
    np.testing.assert_allclose(res.work_limit, total, rtol=5e-5)
    assert abs(res.work_limit_small_sigma / res.work_limit - 1) > 1e-3  # the σ² formula misses the E[δ] terms


# ---- the temperature kind's β_r < 0 tail of a Gaussian law ----------------------------------------------------------


def _gaussian(x, sigma):
    return np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)


def test_negative_temperature_tail_is_warned_and_integrated():
    """βg0 = 100, σ = 0.1, temperature kind: the old warning (only when 5σ > 1) was silent, yet the qudits with
    δ < −1 (β_r < 0, probability Φ(−10) = 7.6·10⁻²⁴) make up 5.5 % of q̄_1 = 9.6·10⁻²³. The warning names σ, that
    probability and a bound on the share, which must not be below the true share (SciPy on both sides of δ = −1);
    the quadrature keeps the tail (the law is not truncated) and agrees with SciPy over the whole line."""
    beta, sigma = 100.0, 0.1
    with pytest.warns(UserWarning, match=r"sigma=0\.1: probability 7\.62e-24 of delta < -1") as record:
        model = jt.InhomogeneousReservoir(2, beta, 1.0, 0.1, kind="temperature", distribution=jt.Gaussian(sigma))
    text = str(record[0].message)
    q1 = lambda x: _gaussian(x, sigma) * _q(2, beta * (1 + x))[0][1]
    opts = dict(epsabs=0, epsrel=1e-12, limit=200)
    below = integrate.quad(q1, -3.0, -1.0, **opts)[0]
    above = integrate.quad(q1, -1.0, -0.5, **opts)[0] + integrate.quad(q1, -0.5, 1.0, points=[0.0], **opts)[0]
    share = below / (below + above)
    assert 0.01 < share < 1  # the tail matters here: 5.5 % of q̄_1
    bound = text.split("make up to ")[1].split(" ")[0]
    assert bound == "all" or float(bound) >= share
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q_bar = np.asarray(A.averaged_reservoir_populations(model))
    np.testing.assert_allclose(q_bar[1], below + above, rtol=1e-10)
    np.testing.assert_allclose(special.ndtr(-1 / sigma), 7.62e-24, rtol=1e-3)  # the probability the warning names


def test_mild_tails_stay_silent_and_the_sampler_draws_the_same_law():
    """βg0 = 20, σ = 0.1: δ < −1 makes up at most 2Φ(−10)/q_1(0) ≈ 7·10⁻¹⁵ of q̄_1: no warning. The ensemble's
    draws are the untruncated law as well: Gaussian(0.5).sample gives δ < −1 at the rate Φ(−2) = 0.02275, as
    the quadrature counts it (P(δ < −1) of the rule vs SciPy's ndtr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jt.InhomogeneousReservoir(2, 20.0, 1.0, 0.1, kind="temperature", distribution=jt.Gaussian(0.1))
    law = jt.Gaussian(0.5)
    n = 200_000
    draws = np.asarray(law.sample(jax.random.key(3), (n,), jnp.float64))
    p = special.ndtr(-2.0)
    assert abs(np.mean(draws < -1) - p) < 5 * np.sqrt(p * (1 - p) / n)
    ref = _gaussian(np.linspace(-1, 0, 3), 0.5)  # a non-zero density at and below δ = −1: no truncation
    np.testing.assert_allclose(np.asarray(law.pdf(jnp.linspace(-1.0, 0.0, 3))), ref, rtol=1e-14)


# ---- g0 < 0, β < 0: legal, warned with the policy in the text ---------------------------------------------------


@pytest.mark.parametrize("beta, g0, name", [(-1.0, 1.0, "beta"), (1.0, -1.0, "g0")])
def test_inverted_reservoir_is_legal_and_says_so(beta, g0, name):
    """Only βg0 enters τ: β = −1, g0 = 1 and β = 1, g0 = −1 are the same population-inverted reservoir qudit, a
    legal negative-temperature state; the warning names the parameter and the docs' policy. The averaged state is
    the NumPy thermal state at βg0 = −1, its top level the fuller one."""
    with pytest.warns(UserWarning, match=rf"{name}=-1\.0: .*legal.*'Signs'"):
        model = jt.InhomogeneousReservoir(2, beta, g0, 0.1, distribution=jt.TwoPoint(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q_bar = np.asarray(A.averaged_reservoir_populations(model))
    np.testing.assert_allclose(q_bar, _q(2, -1.0)[0], rtol=1e-14)
    assert q_bar[1] > q_bar[0]
