"""Model A with couplings other than the partial swap (helper-68, session 26).

References: the full density matrix in NumPy float64 with U = exp(−i t_int (H_S + H_r − g_int S)) from SciPy's
``expm`` ([ATO-preprint] appendix A1), the first law, and the partial swap's closed form (docs/inhomogeneous.md).
"""

import numpy as np
import pytest

import jaxthermo as jt
from tests.helpers import numpy_swap, random_hermitian, random_state

A = jt.inhomogeneous


def _sz(d):
    return np.diag(np.arange(d) - (d - 1) / 2)


def _q(d, y):
    w = np.exp(-y * (np.arange(d) - (d - 1) / 2))
    return w / w.sum()


def _exact_unitary(d, g0, theta, g_int, delta):
    """U = exp(−i t_int (H_S + H_r − g_int S)), t_int = θ/g_int, Hamiltonian kind, SciPy float64."""
    from scipy.linalg import expm

    h = np.kron(g0 * _sz(d), np.eye(d)) + np.kron(np.eye(d), g0 * (1 + delta) * _sz(d)) - g_int * numpy_swap(d)
    return expm(-1j * theta / g_int * h)


def _numpy_collision(d, beta, g0, u, rho, delta):
    """(ρ', W, Q, ΔU) of one collision through the full density matrix in float64 (docs/conventions.md §8)."""
    tau = np.diag(_q(d, beta * g0 * (1 + delta)))
    h_s, h_r = g0 * _sz(d), g0 * (1 + delta) * _sz(d)
    x = np.kron(rho, tau)
    x_new = u @ x @ u.conj().T
    t = x_new.reshape(d, d, d, d)
    rho_new, tau_new = np.einsum("ajbj->ab", t), np.einsum("jajb->ab", t)
    h_tot = np.kron(h_s, np.eye(d)) + np.kron(np.eye(d), h_r)
    work = np.trace(h_tot @ (x_new - x)).real
    return rho_new, work, -np.trace(h_r @ (tau_new - tau)).real, np.trace(h_s @ (rho_new - rho)).real


# ---- float32 runs of ExactUnitary -----------------------------------------------------------------------


def test_float32_exact_unitary_trajectory_heat():
    """Σ Q over 4000 collisions of a float32 ExactUnitary trajectory (θ = 0.01, g_int = 5) was 1.5 % off
    float64: each heat was a difference Tr[H_r τ'] − Tr[H_r τ] of O(1) numbers (~ε‖H‖ per collision, 10⁻⁸
    against a heat of ~10⁻⁶), and the float32 U, unitary to ~ε only, biased ρ at every collision. Reference:
    the full density matrix in NumPy float64."""
    d, g0, theta, g_int, n = 2, 1.0, 0.01, 5.0, 4000
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=g0, theta=theta, coupling=jt.ExactUnitary(g_int))
    rho0 = np.array([[0.75, 0.1], [0.1, 0.25]], complex)
    deltas = np.tile([-0.2, 0.2], n // 2)
    units = {x: _exact_unitary(d, g0, theta, g_int, x) for x in (-0.2, 0.2)}
    rho, sums = rho0, np.zeros(3)
    for x in deltas:
        rho, *e = _numpy_collision(d, 1.0, g0, units[x], rho, x)
        sums += e
    got = A.trajectory(model, rho0.astype(np.complex64), deltas.astype(np.float32))
    got_sums = [np.sum(np.asarray(v, float)) for v in (got.work, got.heat, got.energy_change)]
    np.testing.assert_allclose(got_sums, sums, rtol=3e-4)
    np.testing.assert_allclose(np.asarray(got.states[-1]), rho, atol=2e-5)


# ---- a user's coupling that is not a (d², d²) unitary ----------------------------------------------------


def _user_coupling(make):
    import dataclasses

    import jax

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass(frozen=True)
    class Faulty(jt.Coupling):
        def unitary(self, model, theta, delta):
            return make(model.d, theta)

    return Faulty()


def _swap_unitary(d, theta):
    import jax.numpy as jnp

    s = jnp.asarray(numpy_swap(d))
    return jnp.cos(theta) * jnp.eye(d * d) + 1j * jnp.sin(theta) * s


_RHO = np.diag([0.6, 0.4]).astype(complex)
_CALLS = {
    "collide": lambda m: A.collide(m, _RHO, 0.1),
    "collision_step": lambda m: A.collision_step(m, _RHO, 0.1, theta=0.2),
    "collide_generic": lambda m: A.collide_generic(m, _RHO, 0.1),
    "trajectory": lambda m: A.trajectory(m, _RHO, [0.1, -0.1, 0.3]),
}
_FAULTS = {
    "twice": lambda d, theta: 2 * _swap_unitary(d, theta),  # ‖U†U − 1‖ = 3
    "d_by_d": lambda d, theta: np.eye(d, dtype=complex),
    "batched": lambda d, theta: np.broadcast_to(np.eye(d * d, dtype=complex), (2, d * d, d * d)),
}


@pytest.mark.parametrize("fault", sorted(_FAULTS))
@pytest.mark.parametrize("call", sorted(_CALLS))
def test_user_coupling_must_return_one_unitary(fault, call):
    """A coupling returning 2U ran in trajectory without a word (Tr ρ renormalised, Σ Q −0.163 for the swap's
    −0.0408); a (d, d) matrix was refused as 'unitary has shape (2, 2)', naming no coupling. Now a ValueError
    naming Faulty.unitary."""
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, coupling=_user_coupling(_FAULTS[fault]))
    with pytest.raises(ValueError, match=r"Faulty\.unitary"):
        _CALLS[call](model)


def test_user_coupling_that_is_unitary_runs():
    """The same coupling with U = exp(iθS) runs, and its trajectory is the partial swap's closed form."""
    deltas = np.array([0.1, -0.1, 0.3])
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, coupling=_user_coupling(_swap_unitary))
    got = A.trajectory(model, _RHO, deltas)
    want = A.trajectory(model.replace(coupling=jt.PartialSwap()), _RHO, deltas)
    for a, b in zip((got.states, got.work, got.heat), (want.states, want.work, want.heat)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-14)


# ---- energetics of collide_unitary / ExactUnitary against the full density matrix ------------------------


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_collide_unitary_non_diagonal_hamiltonians(dtype):
    """Random U, coherent states and non-diagonal H_S, H_A (qubit ⊗ qutrit): W, Q, ΔU, ρ_S', ρ_A' equal the
    plain formulas of docs/conventions.md §8 in NumPy float64, and ΔU = W + Q."""
    from scipy.linalg import expm

    rng = np.random.default_rng(68)
    rho_s, rho_a = random_state(2, rng), random_state(3, rng)
    h_s, h_a = random_hermitian(2, rng), random_hermitian(3, rng)
    u = expm(-1j * random_hermitian(6, rng))
    x = np.kron(rho_s, rho_a)
    x_new = u @ x @ u.conj().T
    t = x_new.reshape(2, 3, 2, 3)
    s_new, a_new = np.einsum("ajbj->ab", t), np.einsum("jajb->ab", t)
    h_tot = np.kron(h_s, np.eye(3)) + np.kron(np.eye(2), h_a)
    want = [np.trace(h_tot @ (x_new - x)).real, -np.trace(h_a @ (a_new - rho_a)).real]
    want.append(np.trace(h_s @ (s_new - rho_s)).real)
    got = jt.collide_unitary(*(np.asarray(v, dtype) for v in (rho_s, rho_a, u, h_s, h_a)))
    tol = 1e-13 if dtype == np.complex128 else 3e-6
    np.testing.assert_allclose([float(v) for v in got.energetics], want, atol=tol)
    np.testing.assert_allclose(np.asarray(got.system), s_new, atol=tol)
    np.testing.assert_allclose(np.asarray(got.ancilla), a_new, atol=tol)
    np.testing.assert_allclose(np.asarray(got.joint), x_new, atol=tol)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_exact_unitary_qutrit_against_full_density_matrix(kind):
    """d = 3, an interaction −g_int S that does not commute with H_S + H_r (δ ≠ 0), a coherent ρ: the collision
    equals SciPy's exp(−i t_int (H_S + H_r − g_int S)) on ρ ⊗ τ(δ), heat Q = −Tr[(τ' − τ) H_r], ΔU = W + Q."""
    from scipy.linalg import expm

    d, beta, g0, theta, g_int, delta = 3, 0.7, 1.3, 0.4, 0.8, 0.25
    model = jt.InhomogeneousReservoir(d, beta=beta, g0=g0, theta=theta, kind=kind, coupling=jt.ExactUnitary(g_int))
    rho = random_state(d, np.random.default_rng(3))
    g_r = g0 * (1 + delta) if kind == "hamiltonian" else g0
    beta_r = beta if kind == "hamiltonian" else beta * (1 + delta)
    h = np.kron(g0 * _sz(d), np.eye(d)) + np.kron(np.eye(d), g_r * _sz(d)) - g_int * numpy_swap(d)
    u = expm(-1j * theta / g_int * h)
    tau = np.diag(_q(d, beta_r * g_r))
    x = np.kron(rho, tau)
    x_new = u @ x @ u.conj().T
    t = x_new.reshape(d, d, d, d)
    rho_new, tau_new = np.einsum("ajbj->ab", t), np.einsum("jajb->ab", t)
    h_tot = np.kron(g0 * _sz(d), np.eye(d)) + np.kron(np.eye(d), g_r * _sz(d))
    work = np.trace(h_tot @ (x_new - x)).real
    heat = -np.trace(g_r * _sz(d) @ (tau_new - tau)).real
    got = A.collide(model, rho, delta)
    np.testing.assert_allclose(np.asarray(got.state), rho_new, atol=1e-13)
    np.testing.assert_allclose([float(got.work), float(got.heat)], [work, heat], atol=1e-13)
    np.testing.assert_allclose(float(got.energy_change), work + heat, atol=1e-13)


@pytest.mark.parametrize("d", [2, 3])
def test_exact_unitary_strong_coupling_is_the_partial_swap(d):
    """g_int → ∞ at fixed θ: exp(−i t_int (H_0 + ΔH − g_int S)) → exp(iθS), the partial swap ([ATO-preprint]
    appendix A1); at g_int = 10⁶ the collision differs from the closed form by O(θ g0/g_int)."""
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.4, coupling=jt.ExactUnitary(1e6))
    rho = random_state(d, np.random.default_rng(d))
    got = A.collide(model, rho, 0.3)
    want = A.collide(model.replace(coupling=jt.PartialSwap()), rho, 0.3)
    np.testing.assert_allclose(np.asarray(got.state), np.asarray(want.state), atol=1e-6)
    np.testing.assert_allclose([float(v) for v in got.energetics], [float(v) for v in want.energetics], atol=1e-6)


def test_averaged_trajectory_refuses_a_non_unitary_coupling():
    """averaged_trajectory with a coupling returning 2U ran without a word (Σ Q̄ over 3 collisions −0.132); now a
    ValueError naming Faulty.unitary (checked at δ = 0 for each θ_r)."""
    coupling = _user_coupling(_FAULTS["twice"])
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, coupling=coupling, distribution=jt.TwoPoint(0.2))
    with pytest.raises(ValueError, match=r"Faulty\.unitary"):
        A.averaged_trajectory(model, _RHO, 3)
