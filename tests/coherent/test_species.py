"""Several ancilla species (docs/coherent.md; [WCCM] eqs. (18)–(20)) and a non-equilibrium steady state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import ancilla_heat_rate, collision_thermodynamics, cycle, qubit_example
from tests.coherent.helpers import random_model_arrays
from tests.helpers import random_state


def _pair(tau=0.01, lam_hot=0.3, lam_cold=-0.2):
    hot = qubit_example(omega=1.0, g=0.8, beta=0.3, lam=lam_hot, tau=tau)
    cold = qubit_example(omega=1.0, g=0.5, beta=3.0, lam=lam_cold, tau=tau)
    return jt.MultiSpeciesModel((hot, cold))


def test_master_equation_is_additive_over_species():
    rng = np.random.default_rng(120)
    a = jt.CoherentCollisionModel(**random_model_arrays(2, 3, rng))
    # a second species on the same (rotated) system: the qubit coupling written in the H_S eigenbasis
    b = qubit_example(beta=2.0, lam=0.1, tau=float(a.tau))
    _, u = np.linalg.eigh(np.asarray(a.H_S))
    ub = np.kron(u, np.eye(2))
    b = b.replace(H_S=a.H_S, V=ub @ np.asarray(b.V) @ ub.conj().T)
    both = jt.MultiSpeciesModel((a, b))
    rho = random_state(2, rng)
    h_part = -1j * (np.asarray(a.H_S) @ rho - rho @ np.asarray(a.H_S))
    expected = np.asarray(jt.master_equation_rhs(a, rho)) + np.asarray(jt.master_equation_rhs(b, rho)) - h_part
    np.testing.assert_allclose(jt.master_equation_rhs(both, rho), expected, atol=1e-13)
    # first law with sums over species (eq. 19), and the per-species heats
    wc, qi = jt.coherent_work_rate(both, rho), jt.incoherent_heat_rate(both, rho)
    assert wc.shape == (2,) and qi.shape == (2,)
    np.testing.assert_allclose(float(jt.coherent.energy_rate(both, rho)), float(jnp.sum(wc + qi)), atol=1e-14)
    np.testing.assert_allclose(ancilla_heat_rate(both, rho), -(wc + qi), atol=1e-14)


def test_stroboscopic_cycles_converge_to_the_additive_limit():
    rho = random_state(2, np.random.default_rng(121))
    errs, heat_errs = [], []
    for tau in (4e-3, 2e-3, 1e-3):
        pair = _pair(tau)
        out = cycle(pair, rho)
        errs.append(
            np.max(np.abs((np.asarray(out.system[-1]) - rho) / tau - np.asarray(jt.master_equation_rhs(pair, rho))))
        )
        heat_errs.append(np.max(np.abs(np.asarray(out.ancilla_heat) / tau - np.asarray(ancilla_heat_rate(pair, rho)))))
    for e in (errs, heat_errs):
        assert e[2] < e[1] < e[0]
        assert 0.8 < np.log2(e[1] / e[2]) < 1.2  # linear in τ for the qubit


def test_second_law_with_several_species():
    rho = random_state(2, np.random.default_rng(122))
    pair = _pair()
    pi = float(jt.entropy_production_rate(pair, rho))
    betas = np.array([0.3, 3.0])
    expected = float(jt.coherent.entropy_rate(pair, rho)) - float(
        np.sum(betas * np.asarray(jt.incoherent_heat_rate(pair, rho)))
    )
    np.testing.assert_allclose(pi, expected, atol=1e-14)
    assert pi >= 0
    # Π = lim Σ_cycle/τ, with Σ_cycle the sum of each collision's I + S(ρ'_j‖ρ_j) (eq. 20)
    errs = []
    for tau in (2e-3, 1e-3, 5e-4):
        p = _pair(tau)
        r = jnp.asarray(rho)
        total = 0.0
        for s in p.species:
            total += float(collision_thermodynamics(s, r, n_species=2).entropy_production)
            r = jt.coherent.collide(s, r, n_species=2).system
        errs.append(abs(total / tau - pi))
    assert errs[2] < errs[1] < errs[0] and errs[2] < 0.01 * pi


def _analytic_ness_currents(omega, gs, betas, lams):
    """Driven amplitude damping between two baths (Bloch equations): steady z, y and per-bath
    Ẇ_C^j = Ω λ_j g_j y, Q̇_inc^j = (Ω/2)[−Γ_j z + γ_j⁺ − γ_j⁻]."""
    p0 = 1 / (1 + np.exp(-np.asarray(betas) * omega))
    gm, gp = np.asarray(gs) ** 2 * p0, np.asarray(gs) ** 2 * (1 - p0)
    gam = np.sum(gm + gp)
    drive = float(np.sum(np.asarray(lams) * np.asarray(gs)))
    z0 = np.sum(gp - gm) / gam
    z = z0 / (1 + 8 * drive**2 / (gam**2 + 4 * omega**2))
    y = -4 * drive * gam * z / (gam**2 + 4 * omega**2)
    work = omega * np.asarray(lams) * np.asarray(gs) * y
    heat = omega / 2 * (-(gm + gp) * z + gp - gm)
    return work, heat


@pytest.mark.parametrize("lams", [(0.0, 0.0), (0.3, -0.2), (0.6, 0.6)])
def test_non_equilibrium_steady_state_heat_currents(lams):
    pair = _pair(lam_hot=lams[0], lam_cold=lams[1])
    ss = jt.steady_state(pair)
    work, heat = _analytic_ness_currents(1.0, (0.8, 0.5), (0.3, 3.0), lams)
    np.testing.assert_allclose(jt.coherent_work_rate(pair, ss), work, atol=1e-13)
    np.testing.assert_allclose(jt.incoherent_heat_rate(pair, ss), heat, atol=1e-13)
    # steady state: energy balance, and heat flows from the hot bath without coherence
    np.testing.assert_allclose(np.sum(work + heat), 0.0, atol=1e-14)
    if lams == (0.0, 0.0):
        assert heat[0] > 0 > heat[1]
        np.testing.assert_allclose(work, 0.0, atol=1e-15)
    else:
        assert np.max(np.abs(work)) > 1e-3
    # entropy production at the NESS: Ṡ = 0, Π = −Σ β_j Q̇_inc^j ≥ 0
    pi = float(jt.entropy_production_rate(pair, ss))
    np.testing.assert_allclose(pi, -np.sum(np.array([0.3, 3.0]) * heat), atol=1e-12)
    assert pi > 0


def test_stroboscopic_steady_state_approaches_the_ness():
    pair = _pair(tau=2e-3, lam_hot=0.3, lam_cold=-0.2)
    traj = jax.jit(jt.stroboscopic_trajectory, static_argnums=2)(pair, jnp.eye(2, dtype=complex) / 2, 4000)
    late = traj.states[-1]
    np.testing.assert_allclose(late, jt.steady_state(pair), atol=5e-3)
    # per-cycle ancilla heat / τ approaches the analytic steady currents −(Ẇ_C^j + Q̇_inc^j)
    work, heat = _analytic_ness_currents(1.0, (0.8, 0.5), (0.3, 3.0), (0.3, -0.2))
    np.testing.assert_allclose(np.asarray(traj.ancilla_heat[-1]) / 2e-3, -(work + heat), atol=5e-3)


def test_species_with_different_ancilla_dimensions_match_sequential_collisions():
    qubit = qubit_example(lam=0.3, tau=0.01)
    sm, a3 = jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.diag(jnp.array([1.0, 1.0]), 1)
    chi3 = jnp.zeros((3, 3)).at[0, 1].set(1.0).at[1, 0].set(1.0)
    qutrit = jt.CoherentCollisionModel(
        qubit.H_S, jnp.diag(jnp.array([0.0, 1.0, 2.0])), jnp.kron(sm.T, a3) + jnp.kron(sm, a3.T), 2.0, chi3, 0.1, 0.01
    )
    pair = jt.MultiSpeciesModel((qubit, qutrit))
    rho = jnp.array([[0.6, 0.1], [0.1, 0.4]])
    traj = jt.stroboscopic_trajectory(pair, rho, 3)
    state, work, heat = rho, [], []
    for _ in range(3):
        row_w, row_q = [], []
        for s in pair.species:
            c = jt.coherent.collide(s, state, n_species=2)
            state = c.system
            row_w.append(float(c.work))
            row_q.append(float(c.heat))
        work.append(row_w)
        heat.append(row_q)
    np.testing.assert_allclose(traj.states[-1], state, atol=1e-14)
    np.testing.assert_allclose(traj.work, work, atol=1e-14)
    np.testing.assert_allclose(traj.heat, heat, atol=1e-14)
    c = cycle(pair, rho)
    assert [x.shape for x in c.ancilla] == [(2, 2), (3, 3)] and c.system.shape == (2, 2, 2)
