"""The Hermiticity check of Hamiltonians is relative to the matrix's own scale, and allows a float32
matrix its rounding (jaxthermo._validation.check_hermitian)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import jaxthermo as jt
from jaxthermo.assignment import GlobalModel


def _random_hermitian(d, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return 0.5 * (a + a.conj().T)


@pytest.mark.parametrize("unit", [1.0, 1e-11, 1e-200])
def test_a_small_non_hermitian_hamiltonian_is_refused(unit):
    # an anti-Hermitian part as large as the matrix itself: with the scale max(1, max|h|), 1e-11|0><1| passed
    lower = unit * np.array([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="h_system is not Hermitian"):
        GlobalModel(lower, np.zeros((4, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="h is not Hermitian"):
        jt.gibbs_state(lower, 1.0)


@pytest.mark.parametrize("unit", [1e-11, 1e-200])
def test_a_small_hermitian_hamiltonian_is_accepted_and_exact(unit):
    h = unit * _random_hermitian(3, 0)
    beta = 0.3 / unit  # βh of order one
    want = scipy.linalg.expm(-beta * h)
    want /= np.trace(want)
    np.testing.assert_allclose(np.asarray(jt.gibbs_state(h, beta)), want, atol=1e-13)


def test_a_float32_hamiltonian_may_carry_its_rounding():
    # a Hermitian matrix rounded to float32 entry by entry after a product: an asymmetry of a few ulp,
    # which the absolute 1e-10 refused ("h is not Hermitian: max |h − h†| = 6e-08")
    h64 = _random_hermitian(4, 1)
    u = scipy.linalg.expm(1j * _random_hermitian(4, 2))
    rotated = (u @ h64 @ u.conj().T).astype(np.complex64)
    rotated32 = (u.astype(np.complex64) @ h64.astype(np.complex64)) @ u.conj().T.astype(np.complex64)
    assert np.max(np.abs(rotated32 - rotated32.conj().T)) > 1e-10  # the case: not exactly Hermitian
    got = np.asarray(jt.gibbs_state(rotated32, 0.7))
    assert got.dtype == np.complex64
    want = scipy.linalg.expm(-0.7 * rotated.astype(np.complex128))
    np.testing.assert_allclose(got, want / np.trace(want), atol=2e-6)
    # a float32 matrix with a real anti-Hermitian part is still refused
    with pytest.raises(ValueError, match="h is not Hermitian"):
        jt.gibbs_state(rotated32 + np.complex64(1e-3) * np.triu(np.ones((4, 4), np.complex64), 1), 0.7)


def test_states_keep_their_tolerance():
    # a state's scale is its trace (1): a ρ with an asymmetry below the state tolerance passes as before
    rho = np.diag([0.5, 0.5]).astype(complex)
    rho[0, 1] = 1e-9
    jt.gibbs_state(np.diag([0.0, 1.0]), 1.0)  # the module works
    model = jt.InhomogeneousReservoir(d=2, beta=1.0, g0=1.0, theta=0.3)
    jt.trajectory(model, rho, np.zeros(2))
    rho[0, 1] = 1e-6
    with pytest.raises(ValueError, match="rho.*not Hermitian"):
        jt.trajectory(model, rho, np.zeros(2))
