"""The stroboscopic map (docs/coherent.md; [WCCM] eqs. (1)–(2)) against an independent SciPy computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import collide, cycle, qubit_example
from tests.coherent.helpers import random_model_arrays, reference_collision
from tests.helpers import random_state


@pytest.mark.parametrize("dims", [(2, 2), (2, 3), (3, 3)])
def test_step_matches_scipy_reference(dims):
    rng = np.random.default_rng(10 + sum(dims))
    p = random_model_arrays(*dims, rng, tau=0.05)
    model = jt.CoherentCollisionModel(**p)
    rho = random_state(dims[0], rng)
    rs, ra, x = jt.stroboscopic_step(model, rho)
    ers, era, ex = reference_collision(p, rho)
    np.testing.assert_allclose(rs, ers, atol=1e-12)
    np.testing.assert_allclose(ra, era, atol=1e-12)
    np.testing.assert_allclose(x, ex, atol=1e-12)


def test_energetics_first_law_and_zero_global_work():
    rng = np.random.default_rng(20)
    p = random_model_arrays(3, 2, rng, tau=0.1)
    model = jt.CoherentCollisionModel(**p)
    rho = random_state(3, rng)
    c = collide(model, rho)
    ers, era, _ = reference_collision(p, rho)
    rho_a = np.asarray(jt.coherent.ancilla_state(model))
    q_a = np.real(np.trace(p["H_A"] @ (era - rho_a)))
    de = np.real(np.trace(p["H_S"] @ (ers - rho)))
    np.testing.assert_allclose(c.ancilla_heat, q_a, atol=1e-13)
    np.testing.assert_allclose(c.energy_change, de, atol=1e-13)
    assert abs(float(c.work)) < 1e-13  # strict energy conservation: no global work
    assert abs(float(c.energy_change - (c.work - c.ancilla_heat))) < 1e-13  # ΔE_S = W − Q_A
    assert abs(float(c.energy_change)) > 1e-4  # the check is not vacuous


def test_global_work_is_computed_when_energy_is_not_conserved():
    m = qubit_example()
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.warns(UserWarning):
        model = jt.CoherentCollisionModel(m.H_S, m.H_A, np.kron(sx, sx), 1.0, m.chi, 0.1, 0.05)
    c = collide(model, np.diag([0.7, 0.3]))
    assert abs(float(c.work)) > 1e-4
    assert abs(float(c.energy_change - (c.work - c.ancilla_heat))) < 1e-13


def test_trajectory_is_repeated_steps_and_keeps_float32():
    m = qubit_example(lam=0.3, tau=0.02)
    rho0 = jnp.array([[0.3, 0.1j], [-0.1j, 0.7]])
    traj = jt.stroboscopic_trajectory(m, rho0, 7)
    rho = rho0
    for n in range(7):
        rho = jt.stroboscopic_step(m, rho)[0]
        np.testing.assert_allclose(traj.states[n + 1], rho, atol=1e-14)
    assert traj.ancilla_heat.shape == (7, 1)
    m32 = qubit_example(lam=0.3, tau=0.02, dtype=jnp.float32)
    t32 = jt.stroboscopic_trajectory(m32, rho0.astype(jnp.complex64), 7)
    assert t32.states.dtype == jnp.complex64 and t32.ancilla_heat.dtype == jnp.float32
    np.testing.assert_allclose(t32.states, traj.states, atol=2e-6)


def test_multispecies_cycle_rescales_time_and_coupling():
    hot, cold = qubit_example(beta=0.4, lam=0.2, tau=0.04), qubit_example(beta=2.0, lam=-0.1, tau=0.04, g=0.7)
    pair = jt.MultiSpeciesModel((hot, cold))
    rho = np.diag([0.6, 0.4]).astype(complex)
    out = cycle(pair, rho)
    # independent: each collision lasts τ/2 with V·2/√τ, i.e. exp(−i(τ/2)H0 − i√τ V)
    for k, s in enumerate((hot, cold)):
        p = dict(
            H_S=np.asarray(s.H_S),
            H_A=np.asarray(s.H_A),
            V=np.asarray(s.V),
            beta=s.beta,
            chi=np.asarray(s.chi),
            lam=s.lam,
            tau=s.tau,
        )
        d = 2
        h0 = np.kron(p["H_S"], np.eye(d)) + np.kron(np.eye(d), p["H_A"])
        from scipy.linalg import expm

        u = expm(-1j * (0.02 * h0 + np.sqrt(0.04) * p["V"]))
        ra = np.asarray(jt.coherent.ancilla_state(s))
        x = u @ np.kron(rho, ra) @ u.conj().T
        rho = np.einsum("abcb->ac", x.reshape(2, 2, 2, 2))
        np.testing.assert_allclose(out.system[k], rho, atol=1e-13)
    with pytest.raises(ValueError, match="tau"):
        jt.MultiSpeciesModel((hot, cold.replace(tau=0.05)))


def test_step_is_jittable_and_vmappable_over_lambda():
    m = qubit_example(tau=0.02)
    rho = jnp.diag(jnp.array([0.5, 0.5])).astype(complex)
    lams = jnp.linspace(-1.0, 1.0, 5)
    batched = jax.jit(jax.vmap(lambda lam: jt.stroboscopic_step(m.replace(lam=lam), rho)[0]))(lams)
    for lam, r in zip(lams, batched):
        np.testing.assert_allclose(r, jt.stroboscopic_step(m.replace(lam=float(lam)), rho)[0], atol=1e-14)


def test_collision_result_speaks_the_package_vocabulary():
    """One energetics vocabulary (docs/conventions.md): heat INTO the system, Q = −Q_A of [WCCM]."""
    rng = np.random.default_rng(21)
    m = qubit_example(lam=0.3, tau=0.05)
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.warns(UserWarning):  # global work, so that the first law has three non-zero terms
        m_work = jt.CoherentCollisionModel(m.H_S, m.H_A, np.kron(sx, sx), 1.0, m.chi, 0.1, 0.05)
    for model in (m, m_work):
        rho = random_state(2, rng)
        c = collide(model, rho)
        assert isinstance(c, jt.CollisionResult) and isinstance(c.energetics, jt.Energetics)
        assert c._fields == ("system", "ancilla", "joint", "energetics")
        assert c.energetics._fields == ("work", "heat", "energy_change")
        assert (c.work, c.heat, c.energy_change) == tuple(c.energetics)
        rho_a = np.asarray(jt.coherent.ancilla_state(model))
        q_a = np.real(np.trace(np.asarray(model.H_A) @ (np.asarray(c.ancilla) - rho_a)))
        np.testing.assert_allclose(c.ancilla_heat, q_a, atol=1e-14)
        assert float(c.heat) == -float(c.ancilla_heat) and abs(float(c.heat)) > 1e-4
        assert abs(float(c.energy_change - (c.work + c.heat))) < 1e-13  # first law ΔE_S = W + Q
    assert abs(float(c.work)) > 1e-4  # the model with global work has W ≠ 0


def test_step_and_trajectory_are_named_tuples_with_the_energetics_of_each_collision():
    m = qubit_example(lam=0.3, tau=0.02)
    rho0 = jnp.array([[0.3, 0.1j], [-0.1j, 0.7]])
    step = jt.stroboscopic_step(m, rho0)
    assert isinstance(step, jt.coherent.StroboscopicStep) and step._fields == ("system", "ancilla", "joint")
    rs, ra, x = step
    c = collide(m, rho0)
    for got, want in ((rs, c.system), (ra, c.ancilla), (x, c.joint)):
        np.testing.assert_array_equal(got, want)
    traj = jt.stroboscopic_trajectory(m, rho0, n_steps=3)
    assert traj._fields == ("states", "work", "heat", "energy_change")
    rho = rho0
    for n in range(3):
        c = collide(m, rho)
        for name in ("work", "heat", "energy_change", "ancilla_heat"):
            np.testing.assert_allclose(getattr(traj, name)[n, 0], getattr(c, name), atol=1e-15)
        rho = c.system
    np.testing.assert_array_equal(traj.ancilla_heat, -traj.heat)
    np.testing.assert_allclose(traj.energy_change, traj.work + traj.heat, atol=1e-14)


def test_deprecated_n_collisions_keyword_warns_and_gives_the_same_trajectory():
    m = qubit_example(lam=0.3, tau=0.02)
    rho0 = jnp.array([[0.3, 0.1j], [-0.1j, 0.7]])
    new = jt.stroboscopic_trajectory(m, rho0, n_steps=5)
    with pytest.warns(DeprecationWarning, match=r"n_collisions=.*n_steps="):
        old = jt.stroboscopic_trajectory(m, rho0, n_collisions=5)
    for a, b in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(old)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(jt.stroboscopic_trajectory(m, rho0, 5).states, new.states)
    with pytest.raises(TypeError, match="n_steps"):
        jt.stroboscopic_trajectory(m, rho0, 5, n_collisions=5)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_steps"):
            jt.stroboscopic_trajectory(m, rho0, bad)
