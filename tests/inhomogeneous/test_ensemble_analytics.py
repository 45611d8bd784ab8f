"""Ensemble analytics of model A against Monte Carlo over frozen configurations,
closed forms and finite differences."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous import (
    population_derivatives,
    small_delta_mean_energy_change,
    small_delta_mean_heat,
    small_delta_mean_work,
)

N_SE = 5.0
KEY = jax.random.PRNGKey(7)


def _model(d=2, kind="hamiltonian", theta=0.3, sigma=0.1, dist=None):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=dist or jt.Gaussian(sigma))


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("dist", [jt.Gaussian(0.15), jt.Uniform(0.5), jt.TwoPoint(0.2)], ids=lambda x: type(x).__name__)
def test_averaged_trajectory_closed_form_and_frozen_monte_carlo(d, dist):
    """ρ̄_r = τ̄ − (τ̄ − ρ0)cos^{2r}θ ([ATO-preprint] eq. (10)) and the MC mean of frozen trajectories."""
    model = _model(d, dist=dist)
    rho0 = jnp.diag(jnp.linspace(1.0, 0.2, d) / jnp.sum(jnp.linspace(1.0, 0.2, d)))
    n = 12
    avg = jt.averaged_trajectory(model, rho0, n)
    tau_bar = jt.averaged_reservoir_state(model)
    closed = tau_bar - (tau_bar - rho0) * (np.cos(0.3) ** (2 * np.arange(n + 1)))[:, None, None]
    np.testing.assert_allclose(avg.states, closed, atol=1e-14)
    mc = jt.frozen_ensemble_mean(
        model, rho0, KEY, 20_000, n, lambda t: (jnp.real(t.states), t.work, t.heat), chunk_size=5000
    )
    (states, work, heat), (s_se, w_se, h_se) = mc.mean, mc.stderr
    assert np.all(np.abs(states - np.real(avg.states)) <= N_SE * s_se + 1e-15)
    assert np.all(np.abs(work - avg.work) <= N_SE * w_se + 1e-15)
    assert np.all(np.abs(heat - avg.heat) <= N_SE * h_se + 1e-15)
    np.testing.assert_allclose(avg.work + avg.heat, avg.energy_change, atol=1e-15)


def test_frozen_ensemble_independent_of_chunk_size():
    model = _model()
    rho0 = jnp.diag(jnp.array([0.6, 0.4]))
    obs = lambda t: t.work
    a = jt.frozen_ensemble_mean(model, rho0, KEY, 1000, 5, obs, chunk_size=1000)
    b = jt.frozen_ensemble_mean(model, rho0, KEY, 1000, 5, obs, chunk_size=300)
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)


def test_qubit_tau_bar_thermal_hotter_qutrit_not_thermal():
    q2 = jt.inhomogeneous.averaged_reservoir_populations(_model(2, sigma=0.3))
    qs = jt.thermal_populations(2, 1.0, 1.0)
    assert q2[0] < qs[0]  # hotter: less ground-state population ([ATO19] §II.C)
    q3 = jt.inhomogeneous.averaged_reservoir_populations(_model(3, sigma=0.3))
    # thermal ⇔ log q_j linear in j ⇔ q1² = q0 q2; the Gaussian mixture breaks it at O(σ²)
    assert abs(float(q3[1] ** 2 - q3[0] * q3[2])) > 1e-4


@pytest.mark.parametrize("d", [2, 3])
def test_mean_work_against_monte_carlo_and_rho_independence(d):
    model = _model(d, sigma=0.2)
    rng = np.random.default_rng(0)
    rho = np.diag(rng.dirichlet(np.ones(d)))
    w = jt.mean_work(model, rho)
    _, e = jt.single_collision_samples(model, rho, KEY, 200_000)
    assert abs(float(jnp.mean(e.work)) - w) < N_SE * float(jnp.std(e.work)) / np.sqrt(2e5)
    np.testing.assert_allclose(jt.mean_work(model, np.eye(d) / d), w, rtol=1e-12)  # centred G: no ρ
    assert w > 0


def test_second_order_heat_and_energy_use_the_half():
    """A misprint (docs/misprints.md): [ATO19] eqs. (26), (28) print q''σ²; the ½ matches the exact quadrature."""
    sigma = 0.1
    for kind in ("hamiltonian", "temperature"):
        model = _model(kind=kind, sigma=sigma)
        rho = jnp.diag(jnp.array([0.9, 0.1]))
        exact = jt.inhomogeneous.mean_collision(model, rho)[1]
        dq, ddq = population_derivatives(model)
        q = jt.thermal_populations(2, 1.0, 1.0)
        m = jnp.array([-0.5, 0.5])
        s2 = np.sin(0.3) ** 2
        extra = dq if kind == "hamiltonian" else 0.0
        misprint_q = s2 * jnp.sum(m * (q - jnp.array([0.9, 0.1]) + (extra + ddq) * sigma**2))
        misprint_u = s2 * jnp.sum(m * (q - jnp.array([0.9, 0.1]) + ddq * sigma**2))
        gap = abs(float(misprint_q - small_delta_mean_heat(model, rho, sigma**2)))
        assert abs(float(small_delta_mean_heat(model, rho, sigma**2) - exact.heat)) < 0.01 * gap
        assert abs(float(misprint_q - exact.heat)) > 0.9 * gap
        gap_u = abs(float(misprint_u - small_delta_mean_energy_change(model, rho, sigma**2)))
        assert abs(float(small_delta_mean_energy_change(model, rho, sigma**2) - exact.energy_change)) < 0.01 * gap_u
        assert abs(float(misprint_u - exact.energy_change)) > 0.9 * gap_u


def test_accumulated_work_sign_against_monte_carlo():
    """A misprint (docs/misprints.md): [ATO19] eq. (19) W̄_N = −Σ W̄_r has the wrong sign; MC gives W̄_N = N W̄_r > 0."""
    n, sigma = 20, 0.2
    model = _model(theta=0.3, sigma=sigma)
    rho0 = jnp.diag(jnp.array([0.3, 0.7]))
    exact = float(jt.accumulated_mean_work(model, rho0, n))
    mc = jt.frozen_ensemble_mean(model, rho0, KEY, 40_000, n, lambda t: jnp.sum(t.work), chunk_size=10_000)
    predicted = n * float(small_delta_mean_work(model, sigma**2))
    misprint = -predicted
    assert abs(mc.mean - exact) < N_SE * mc.stderr
    assert abs(mc.mean - predicted) < N_SE * mc.stderr + 0.02 * predicted  # O(σ⁴) truncation
    assert abs(mc.mean - misprint) > 20 * mc.stderr


def test_collision_number_scaling():
    """sin²θ = c/N: W̄_N → g0 c σ² q0'(0) and D(ρ̄_N, τ̄) → e^{−c} D(ρ0, τ̄) ([ATO-preprint] eq. (17))."""
    model = _model(sigma=0.05)
    rho0 = jnp.diag(jnp.array([0.95, 0.05]))
    res = jt.collision_number_scaling(model, rho0, [4, 40, 400], c=1.5, xi=1.0)
    dq, _ = population_derivatives(model)
    np.testing.assert_allclose(res.work_limit_small_sigma, 1.5 * 0.05**2 * float(dq[0]), rtol=1e-12)
    assert abs(res.work_limit / res.work_limit_small_sigma - 1) < 1e-3  # exact vs O(σ²): O(σ²) relative
    assert abs(res.accumulated_work[-1] / res.work_limit - 1) < 1e-3
    assert abs(res.trace_distance[-1] / res.trace_distance_limit - 1) < 0.01
    # exact identity at every N: D(ρ̄_N, τ̄) = cos^{2N}θ D(ρ0, τ̄)
    tau_bar = jt.averaged_reservoir_state(model)
    d0 = float(jt.trace_distance(rho0, tau_bar))
    np.testing.assert_allclose(res.trace_distance, np.cos(res.theta) ** (2 * res.n) * d0, rtol=1e-10)
    frozen = jt.collision_number_scaling(model, rho0, [40, 400], c=1.5, xi=1.5)
    diverging = jt.collision_number_scaling(model, rho0, [40, 400], c=1.5, xi=0.5)
    assert frozen.accumulated_work[1] < 0.5 * frozen.accumulated_work[0]
    assert frozen.trace_distance[1] > 0.9 * d0
    assert diverging.accumulated_work[1] > 2.5 * diverging.accumulated_work[0]


def test_epsilon_of_approximate_second_laws():
    """ε = D(τ_S, τ̄) ≤ E_G D(τ_S, τ(δ)) ≈ √(2/π) βg0 a/(1+a)² σ ([ATO19] §V)."""
    a = np.exp(-1.0)
    for sigma in (0.01, 0.05):
        eps = jt.approximate_second_law_epsilon(_model(sigma=sigma))
        assert eps.epsilon <= eps.upper_bound
        analytic = np.sqrt(2 / np.pi) * a / (1 + a) ** 2 * sigma
        np.testing.assert_allclose(eps.small_sigma, analytic, rtol=1e-12)
        assert abs(eps.upper_bound / analytic - 1) < 0.05 * sigma / 0.01
        assert eps.epsilon < 0.05 * eps.upper_bound  # ε is O(σ²), the bound O(σ)


def test_mean_work_gradients_match_analytic_derivatives():
    """∂W̄_r/∂θ = 2 sinθ cosθ g0 q0'(0) σ² and ∂W̄_r/∂σ = 2σ g0 q0' sin²θ (docs/ensemble.md), to O(σ⁴)."""
    sigma, theta = 0.02, 0.3
    rho = jnp.eye(2) / 2

    def w(th, s):
        return jt.mean_work(_model(theta=th, dist=jt.Gaussian(s)), rho)

    dq0 = float(population_derivatives(_model())[0][0])
    g_theta = jax.grad(w, 0)(theta, sigma)
    g_sigma = jax.grad(w, 1)(theta, sigma)
    np.testing.assert_allclose(g_theta, 2 * np.sin(theta) * np.cos(theta) * dq0 * sigma**2, rtol=1e-3)
    np.testing.assert_allclose(g_sigma, 2 * sigma * dq0 * np.sin(theta) ** 2, rtol=1e-3)
    fd = (w(theta + 1e-5, sigma) - w(theta - 1e-5, sigma)) / 2e-5
    np.testing.assert_allclose(g_theta, fd, rtol=1e-6)


def test_theta_schedule_in_averaged_dynamics():
    """Per-collision angles θ_r: ρ̄_N = τ̄ − (τ̄ − ρ0) Π_r cos²θ_r, and the frozen MC agrees."""
    thetas = jnp.linspace(0.05, 0.6, 10)
    model = _model(theta=thetas, sigma=0.1)
    rho0 = jnp.diag(jnp.array([0.2, 0.8]))
    avg = jt.averaged_trajectory(model, rho0, 10)
    tau_bar = jt.averaged_reservoir_state(model)
    np.testing.assert_allclose(avg.states[-1], tau_bar - (tau_bar - rho0) * np.prod(np.cos(thetas) ** 2), atol=1e-14)
    np.testing.assert_allclose(avg.work, [small_delta_mean_work(_model(theta=t), 0.01) for t in thetas], rtol=2e-3)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class _SwapThroughTheDensityMatrix(jt.Coupling):
    """The partial swap's unitary as a user coupling: no closed form, so every collision runs
    through the full density matrix on each quadrature node."""

    def unitary(self, model, theta, delta):
        return jt.inhomogeneous.PartialSwap().unitary(model, theta, delta)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
@pytest.mark.parametrize("d", [2, 3])
def test_averaged_partial_swap_from_three_averages_equals_the_average_of_collisions(kind, d):
    """The averaged partial swap uses q̄, E[g_r q] and ḡ taken once; the route on the nodes averages
    full density-matrix collisions. A cold reservoir with a wide G puts the turn of τ(δ) inside."""
    model = jt.InhomogeneousReservoir(d, beta=20.0, g0=1.0, theta=0.4, kind=kind, distribution=jt.Gaussian(0.3))
    nodes = model.replace(coupling=_SwapThroughTheDensityMatrix())
    rho = np.asarray(jt.thermal_state(d, 0.3, 1.0), complex)
    rho[0, 1], rho[1, 0] = 0.1 + 0.05j, 0.1 - 0.05j
    fast, slow = jt.inhomogeneous.mean_collision(model, rho), jt.inhomogeneous.mean_collision(nodes, rho)
    np.testing.assert_allclose(fast.state, slow.state, atol=1e-15)
    for a, b in zip(fast.energetics, slow.energetics):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    fast_t, slow_t = jt.averaged_trajectory(model, rho, 5), jt.averaged_trajectory(nodes, rho, 5)
    np.testing.assert_allclose(fast_t.states, slow_t.states, atol=1e-15)
    np.testing.assert_allclose(fast_t.work, slow_t.work, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fast_t.heat, slow_t.heat, rtol=1e-12, atol=1e-15)
