"""Continuous-time limit (docs/coherent.md; [WCCM] eqs. (6)–(8)): rhs, Lindbladian, exact propagation against
QuTiP ``mesolve``, steady state, batching."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip

import jaxthermo as jt
from jaxthermo.coherent import qubit_example
from tests.coherent.helpers import lindblad_rhs, random_model_arrays, reference_lindblad
from tests.helpers import random_state

QUTIP_OPTIONS = {"atol": 1e-13, "rtol": 1e-13, "nsteps": 100000}


def _qutip_solution(p, rho0, times):
    h, jumps = reference_lindblad(p)
    d = rho0.shape[0]
    res = qutip.mesolve(qutip.Qobj(h), qutip.Qobj(rho0), times, [qutip.Qobj(j) for j in jumps], options=QUTIP_OPTIONS)
    assert all(s.shape == (d, d) for s in res.states)
    return np.array([s.full() for s in res.states])


def test_qubit_example_is_driven_amplitude_damping():
    g, beta, lam = 0.8, 0.7, 0.3
    m = qubit_example(omega=1.3, g=g, beta=beta, lam=lam)
    sx = np.array([[0, 1], [1, 0]])
    np.testing.assert_allclose(jt.coherent_drive(m), g * sx, atol=1e-15)
    p0 = 1 / (1 + np.exp(-beta * 1.3))
    sm = np.array([[0, 1], [0, 0]])
    rho = random_state(2, np.random.default_rng(0))
    expected = lindblad_rhs(np.asarray(m.H_S) + lam * g * sx, [g * np.sqrt(p0) * sm, g * np.sqrt(1 - p0) * sm.T], rho)
    np.testing.assert_allclose(jt.master_equation_rhs(m, rho), expected, atol=1e-14)


@pytest.mark.parametrize("dims", [(2, 2), (2, 3), (3, 2)])
def test_rhs_and_liouvillian_match_independent_lindblad_form(dims):
    rng = np.random.default_rng(30 + sum(dims))
    p = random_model_arrays(*dims, rng)
    model = jt.CoherentCollisionModel(**p)
    h, jumps = reference_lindblad(p)
    rho = random_state(dims[0], rng)
    np.testing.assert_allclose(jt.master_equation_rhs(model, rho), lindblad_rhs(h, jumps, rho), atol=1e-13)
    lv = np.asarray(jt.liouvillian(model))
    np.testing.assert_allclose((lv @ rho.reshape(-1)).reshape(rho.shape), lindblad_rhs(h, jumps, rho), atol=1e-13)
    # trace preservation and Hermiticity preservation of the generator
    assert np.max(np.abs(np.trace(np.asarray(jt.master_equation_rhs(model, rho))))) < 1e-14


@pytest.mark.parametrize("dims", [(2, 2), (3, 2)])
def test_propagation_matches_qutip_mesolve(dims):
    rng = np.random.default_rng(40 + sum(dims))
    p = random_model_arrays(*dims, rng)
    model = jt.CoherentCollisionModel(**p)
    rho0 = random_state(dims[0], rng)
    times = np.linspace(0.0, 3.0, 31)
    ours = np.asarray(jt.propagate(model, rho0, times))
    np.testing.assert_allclose(ours, _qutip_solution(p, rho0, times), atol=1e-8)
    # non-uniform times take the per-interval path; same answer
    t2 = np.array([0.1, 0.25, 0.3, 1.7, 3.0])
    np.testing.assert_allclose(
        np.asarray(jt.propagate(model, rho0, t2)), _qutip_solution(p, rho0, np.r_[0.0, t2])[1:], atol=1e-8
    )


def test_batched_propagation_equals_member_by_member():
    m = qubit_example(tau=0.01)
    lams = jnp.linspace(-2.0, 2.0, 6)
    betas = jnp.array([[0.5], [2.0]])  # broadcasts to a (2, 6) batch
    batch = jt.CoherentCollisionModel(m.H_S, m.H_A, m.V, betas, m.chi, lams, 0.01)
    rho0 = jnp.diag(jnp.array([0.1, 0.9])).astype(complex)
    times = jnp.linspace(0, 2, 11)
    out = jt.propagate(batch, rho0, times)
    assert out.shape == (2, 6, 11, 2, 2)
    for i in range(2):
        for j in range(6):
            single = m.replace(beta=float(betas[i, 0]), lam=float(lams[j]))
            np.testing.assert_allclose(out[i, j], jt.propagate(single, rho0, times), atol=1e-13)
    assert jt.steady_state(batch).shape == (2, 6, 2, 2)
    assert jt.liouvillian(batch).shape == (2, 6, 4, 4)


def test_steady_state_is_a_fixed_point_and_matches_qutip():
    rng = np.random.default_rng(50)
    p = random_model_arrays(3, 2, rng)
    model = jt.CoherentCollisionModel(**p)
    ss = np.asarray(jt.steady_state(model))
    assert np.max(np.abs(np.asarray(jt.master_equation_rhs(model, ss)))) < 1e-12
    h, jumps = reference_lindblad(p)
    q = qutip.steadystate(qutip.Qobj(h), [qutip.Qobj(j) for j in jumps]).full()
    np.testing.assert_allclose(ss, q, atol=1e-9)
    # long-time propagation lands on it
    late = np.asarray(jt.propagate(model, np.eye(3) / 3, np.array([0.0, 200.0])))[-1]
    np.testing.assert_allclose(late, ss, atol=1e-9)


def test_qubit_steady_state_matches_bloch_equations():
    omega, g, beta, lam = 1.0, 0.6, 0.8, 0.5
    m = qubit_example(omega=omega, g=g, beta=beta, lam=lam)
    ss = np.asarray(jt.steady_state(m))
    p0 = 1 / (1 + np.exp(-beta * omega))
    gm, gp = g**2 * p0, g**2 * (1 - p0)
    gam, big_l = gm + gp, lam * g
    z0 = (gp - gm) / gam
    z = z0 / (1 + 8 * big_l**2 / (gam**2 + 4 * omega**2))
    y = -4 * big_l * gam * z / (gam**2 + 4 * omega**2)
    x = -2 * omega * y / gam
    sx, sy, sz = np.array([[0, 1], [1, 0]]), np.array([[0, 1j], [-1j, 0]]), np.diag([-1.0, 1.0])
    expected = 0.5 * (np.eye(2) + x * sx + y * sy + z * sz)
    np.testing.assert_allclose(ss, expected, atol=1e-13)


def test_propagate_rejects_bad_times_and_is_jittable():
    m = qubit_example()
    with pytest.raises(ValueError, match="times"):
        jt.propagate(m, np.eye(2) / 2, np.array([1.0, 0.5]))
    f = jax.jit(lambda lam, t: jt.propagate(m.replace(lam=lam), np.eye(2) / 2, t))
    t = jnp.linspace(0, 1, 4)
    np.testing.assert_allclose(f(0.3, t), jt.propagate(m.replace(lam=0.3), np.eye(2) / 2, t), atol=1e-13)


def test_float32_propagation_stays_float32():
    m32 = qubit_example(lam=0.3, dtype=jnp.float32)
    rho0 = jnp.eye(2, dtype=jnp.complex64) / 2
    out = jt.propagate(m32, rho0, np.linspace(0, 2, 5).astype(np.float32))
    assert out.dtype == jnp.complex64 and jt.steady_state(m32).dtype == jnp.complex64
    ref = jt.propagate(qubit_example(lam=0.3), rho0.astype(complex), np.linspace(0, 2, 5))
    np.testing.assert_allclose(out, ref, atol=1e-5)
