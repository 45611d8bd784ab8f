"""Model B under a physicist's trial (helper-63): qutrits, several species of ancillae, long runs.

Independent routes: the full system+ancilla collision in NumPy/SciPy (tensor product, U = exp(−iτ(H_S + H_A) − i√τV),
partial trace), a Lindblad form built from V's matrix elements (tests/coherent/helpers.py), closed forms.
"""

import warnings

import jax.numpy as jnp
import numpy as np
from scipy.linalg import expm

import jaxthermo.coherent as cb
from tests.coherent.helpers import gibbs, ptrace

# a qutrit ladder H = diag(0, 1, 2) and its lowering operator
H3 = np.diag([0.0, 1.0, 2.0])
A3 = np.diag(np.sqrt([1.0, 2.0]), 1)
H2 = np.diag([0.0, 1.0])
SM = np.array([[0.0, 1.0], [0.0, 0.0]])


def quiet_model(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cb.CoherentCollisionModel(*args, **kwargs)


def numpy_cycle(species, rho, tau):
    """One cycle of the m species in NumPy: each collision exp(−i(τ/m)(H_S + H_A) − i√τV) on ρ_S ⊗ (ρ_th + √τλχ)."""
    m = len(species)
    for h_s, h_a, v, beta, chi, lam in species:
        d_s, d_a = len(h_s), len(h_a)
        rho_a = gibbs(h_a, beta) + np.sqrt(tau) * lam * chi
        h0 = np.kron(h_s, np.eye(d_a)) + np.kron(np.eye(d_s), h_a)
        u = expm(-1j * ((tau / m) * h0 + np.sqrt(tau) * v))
        rho = ptrace(u @ np.kron(rho, rho_a) @ u.conj().T, d_s, d_a, 0)
    return rho


def test_species_of_mixed_precision_run_in_the_wider_one():
    """A float32 species before a float64 one: stroboscopic_trajectory failed inside lax.scan ('carry input and carry
    output must have equal types': complex64 carry, complex128 result). Now the carry takes the promoted dtype, and the
    run follows NumPy's sequential collisions to float32 precision."""
    tau = 0.01
    v = np.kron(SM.T, SM) + np.kron(SM, SM.T)
    hot = cb.qubit_example(beta=0.5, lam=0.2, tau=tau, dtype=jnp.float32)
    cold = cb.qubit_example(beta=2.0, lam=0.1, tau=tau)
    pair = cb.MultiSpeciesModel((hot, cold))
    rho0 = np.array([[0.3, 0.2], [0.2, 0.7]])
    traj = cb.stroboscopic_trajectory(pair, rho0, 20)
    assert traj.states.dtype == jnp.complex128
    h = np.diag([-0.5, 0.5])
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    rho = rho0.astype(complex)
    for _ in range(20):
        rho = numpy_cycle([(h, h, v, 0.5, sx, 0.2), (h, h, v, 2.0, sx, 0.1)], rho, tau)
    np.testing.assert_allclose(np.asarray(traj.states[-1]), rho, atol=1e-6)
    # the master equation of the pair is that of the float64 model with both species
    ref = cb.MultiSpeciesModel((cb.qubit_example(beta=0.5, lam=0.2, tau=tau), cold))
    np.testing.assert_allclose(np.asarray(cb.steady_state(pair)), np.asarray(cb.steady_state(ref)), atol=1e-6)
