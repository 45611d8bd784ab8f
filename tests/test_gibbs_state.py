"""`gibbs_state` for β of either sign and bad input (jaxthermo/_qudit.py; docs/conventions.md §6).

Before: the smallest eigenvalue of h was subtracted whatever the sign of β, so e^{−βh} overflowed for
β < 0 (β = −800 on diag(0, 1): NaN), β = ±∞ or NaN gave NaN, and a non-Hermitian h a matrix that is no
state, all without a word.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import jaxthermo as jt


def _random_hermitian(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d)) + 1j * np.random.default_rng(seed + 1).normal(size=(d, d))
    return 0.5 * (a + a.conj().T)


@pytest.mark.parametrize("beta", [-2.5, -0.7, 0.0, 0.7])
def test_either_sign_against_scipy(beta):
    h = _random_hermitian(4, 3)
    w = scipy.linalg.expm(-beta * h)
    np.testing.assert_allclose(np.asarray(jt.gibbs_state(h, beta)), w / np.trace(w), atol=1e-13)


@pytest.mark.parametrize("beta", [-800.0, -1e300, 1e300])
def test_very_large_beta_gives_the_extreme_eigenspace(beta):
    """|β| → ∞: the maximally mixed state on the eigenspace of the largest (β < 0) or smallest (β > 0)
    eigenvalue, here doubly degenerate in a rotated basis (where |β| magnifies the rounding of the
    eigenvalues: NaN at ±1e300 before), from NumPy's eigenvectors."""
    u = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    levels = [0.0, 2.0, 2.0] if beta < 0 else [2.0, 0.0, 0.0]
    h = u @ np.diag(levels) @ u.T
    space = u[:, 1:]
    np.testing.assert_allclose(np.asarray(jt.gibbs_state(h, beta)), space @ space.T / 2, atol=1e-12)


def test_derivative_at_negative_beta_against_finite_differences():
    h = jnp.asarray(_random_hermitian(3, 7))
    f = lambda b: jnp.real(jt.gibbs_state(h, b)[0, 0])
    eps = 1e-6
    np.testing.assert_allclose(jax.grad(f)(-1.3), (f(-1.3 + eps) - f(-1.3 - eps)) / (2 * eps), rtol=1e-7)


@pytest.mark.parametrize("beta", [np.inf, -np.inf, np.nan])
def test_a_beta_that_is_not_finite_is_refused(beta):
    with pytest.raises(ValueError, match="beta must be finite"):
        jt.gibbs_state(np.diag([0.0, 1.0]), beta)


def test_a_non_hermitian_h_is_refused():
    with pytest.raises(ValueError, match="h is not Hermitian"):
        jt.gibbs_state(np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0)


def test_a_qobj_h_is_accepted():
    qutip = pytest.importorskip("qutip")
    expected = np.asarray(jt.gibbs_state(np.diag([1.0, -1.0]), 0.4))
    np.testing.assert_allclose(np.asarray(jt.gibbs_state(qutip.sigmaz(), 0.4)), expected, atol=1e-15)
