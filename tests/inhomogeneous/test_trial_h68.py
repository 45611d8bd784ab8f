"""Model A with couplings other than the partial swap (helper-68, session 26).

References: the full density matrix in NumPy float64 with U = exp(−i t_int (H_S + H_r − g_int S)) from SciPy's
``expm`` ([ATO-preprint] appendix A1), the first law, and the partial swap's closed form (docs/inhomogeneous.md).
"""

import numpy as np

import jaxthermo as jt
from tests.helpers import numpy_swap

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
