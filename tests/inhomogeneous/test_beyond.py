"""Beyond the papers: qudits, coherent initial states, θ schedules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from tests.helpers import random_state

N_SE = 5.0


def _model(d=3, theta=0.4, sigma=0.1, **kw):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, distribution=jt.Gaussian(sigma), **kw)


@pytest.mark.parametrize("d", [3, 4])
def test_qudit_mean_work_closed_form_and_first_law(d):
    rho = jnp.eye(d) / d
    errors = []
    for sigma in (0.05, 0.025):
        model = _model(d, sigma=sigma)
        exact = jt.inhomogeneous.mean_collision(model, rho)[1]
        errors.append(float(exact.work - jt.inhomogeneous.small_delta_mean_work(model, sigma**2)))
        np.testing.assert_allclose(exact.work, jt.inhomogeneous.small_delta_mean_work(model, sigma**2), rtol=3e-3)
    np.testing.assert_allclose(errors[0] / errors[1], 16.0, rtol=0.05)  # the remainder is O(σ⁴)
    np.testing.assert_allclose(exact.work + exact.heat, exact.energy_change, atol=1e-16)
    assert exact.work > 0


@pytest.mark.parametrize("d", [2, 3])
def test_work_minus_free_energy_is_entropy_production(d):
    """β(W − ΔF_1) = S(ρ'_SR‖ρ'_S ⊗ τ(δ)) for the Hamiltonian kind, any ρ (coherent too): the reason
    ΔF_1 ≤ W holds. An independent identity joining two separately computed outputs."""
    rng = np.random.default_rng(d)
    model = _model(d, theta=0.7)
    for _ in range(4):
        rho = random_state(d, rng)
        delta = float(rng.normal(scale=0.2))
        laws = jt.collision_second_laws(model, rho, delta, [1.0], quantum=True)
        sigma = jt.entropy_production(model, rho, delta)
        np.testing.assert_allclose(1.0 * (laws.work - laws.free_energy_change[0]), sigma, atol=1e-12)


def test_coherence_leaves_work_and_heat_unchanged_but_adds_free_energy():
    """W and Q of a partial-swap collision depend only on the populations; coherence adds
    T·C(ρ) to F_1 (D(ρ‖τ_S) = D(Δρ‖τ_S) + C(ρ)) and decays collision by collision."""
    model = _model(2, theta=0.5)
    psi = jnp.array([np.sqrt(0.7), np.sqrt(0.3) * np.exp(0.4j)])
    rho = jnp.outer(psi, psi.conj())
    dephased = jnp.diag(jnp.diag(rho))
    for delta in (-0.1, 0.15):
        e_coh = jt.inhomogeneous.collide_generic(model, rho, delta).energetics
        e_inc = jt.inhomogeneous.collide_generic(model, dephased, delta).energetics
        np.testing.assert_allclose(e_coh, e_inc, atol=1e-14)
    f_coh = jt.free_energies(model, rho, [1.0], quantum=True)[0]
    f_inc = jt.free_energies(model, dephased, [1.0])[0]
    np.testing.assert_allclose(f_coh - f_inc, jt.coherence(rho), atol=1e-10)
    traj = jt.trajectory(model, rho, jnp.full(20, 0.05))
    c = [float(jt.coherence(s)) for s in traj.states]
    assert np.all(np.diff(c) < 0)
    # the averaged dynamics of coherences: |ρ̄_01| shrinks by |c² + i s c (q0 − q1)| per collision
    avg = jt.averaged_trajectory(model, rho, 5)
    q = jt.inhomogeneous.averaged_reservoir_populations(model)
    factor = abs(np.cos(0.5) ** 2 + 1j * np.sin(0.5) * np.cos(0.5) * (q[0] - q[1]))
    np.testing.assert_allclose(np.abs(avg.states[:, 0, 1]), abs(rho[0, 1]) * factor ** np.arange(6), rtol=1e-12)


def test_theta_schedule_frozen_monte_carlo_matches_averaged():
    thetas = jnp.linspace(0.6, 0.05, 15)
    model = _model(2, theta=thetas, sigma=0.2)
    rho0 = jnp.diag(jnp.array([0.1, 0.9]))
    avg = jt.averaged_trajectory(model, rho0, 15)
    mc = jt.frozen_ensemble_mean(
        model,
        rho0,
        jax.random.PRNGKey(4),
        20_000,
        15,
        lambda t: (t.work, jnp.real(t.states[-1, 0, 0])),
        chunk_size=10_000,
    )
    assert np.all(np.abs(mc.mean[0] - avg.work) <= N_SE * mc.stderr[0])
    assert abs(mc.mean[1] - float(jnp.real(avg.states[-1, 0, 0]))) <= N_SE * mc.stderr[1]
    # gradient of the accumulated mean work w.r.t. the whole schedule equals finite differences
    g = jax.grad(lambda th: jt.accumulated_mean_work(model.replace(theta=th), rho0, 15))(thetas)
    h = 1e-6
    e = jnp.zeros(15).at[3].set(h)
    fd = (
        jt.accumulated_mean_work(model.replace(theta=thetas + e), rho0, 15)
        - jt.accumulated_mean_work(model.replace(theta=thetas - e), rho0, 15)
    ) / (2 * h)
    np.testing.assert_allclose(g[3], fd, rtol=1e-6)


def test_qutrit_from_thermal_state_delta_f_infinity_exceeds_work():
    """The README's qutrit claim: from τ_S, ΔF_1 ≤ W but ΔF_∞ > W for every δ ≠ 0 tried."""
    model = _model(3, theta=0.3)
    laws = jax.vmap(lambda x: jt.collision_second_laws(model, jt.thermal_state(3, 1.0, 1.0), x, [1.0, np.inf]))(
        jnp.array([-0.3, -0.1, 0.1, 0.3])
    )
    assert np.all(laws.free_energy_change[:, 0] <= laws.work)
    assert np.all(laws.free_energy_change[:, 1] > laws.work)
