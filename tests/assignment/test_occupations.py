"""Fermi and Bose occupations of the quadratic reservoirs' initial state ([CVS25]): R(0) = f(β(h − μ))
for a diagonal h against the closed forms computed in Python's ``math`` (relative accuracy at cold
modes, where the occupation is ~e^{−βε}), and ∂R/∂β against the analytic derivative −ε f(1 ∓ f)."""

import math

import jax
import numpy as np
import pytest

from jaxthermo import QuadraticReservoirs

# mode energies ε − μ; β = 1 so x = ε − μ; negative ones are occupied for fermions
ENERGIES = {"fermion": [-30.0, -1.0, 0.3, 5.0, 20.0, 40.0, 300.0], "boson": [0.3, 5.0, 20.0, 40.0, 300.0]}


def _exact(statistics, x):
    """n(x) and dn/dx from exp of a negative argument only (no cancellation)."""
    if statistics == "fermion":
        n = math.exp(-x) / (1.0 + math.exp(-x)) if x > 0 else 1.0 / (1.0 + math.exp(x))
        return n, -n * (1.0 - n)
    n = math.exp(-x) / -math.expm1(-x)
    return n, -n * (1.0 + n)


def _model(statistics, beta):
    e = np.asarray(ENERGIES[statistics])
    return QuadraticReservoirs(
        np.diag(e), np.diag([1.0]), np.zeros((e.size, 1)), beta1=beta, beta2=1.0, statistics=statistics
    )


@pytest.mark.parametrize("statistics", ["fermion", "boson"])
def test_cold_mode_occupations_are_relatively_accurate(statistics):
    n = len(ENERGIES[statistics])
    r = np.real(np.diag(_model(statistics, 1.0).initial_correlations()))[:n]
    exact = np.array([_exact(statistics, x)[0] for x in ENERGIES[statistics]])
    np.testing.assert_allclose(r, exact, rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("statistics", ["fermion", "boson"])
def test_occupation_derivative_in_beta_is_relatively_accurate(statistics):
    n = len(ENERGIES[statistics])

    def occupations(beta):
        return jax.numpy.real(jax.numpy.diag(_model(statistics, beta).initial_correlations()))[:n]

    d = np.asarray(jax.jacfwd(occupations)(1.0))
    exact = np.array([x * _exact(statistics, x)[1] for x in ENERGIES[statistics]])  # dn/dβ = ε·n'(βε)
    np.testing.assert_allclose(d, exact, rtol=1e-13, atol=0.0)
