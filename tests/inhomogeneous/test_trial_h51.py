"""Helper-51 (session 21): relative accuracy of small divergences and entropy productions of model A.

References are independent of the library: the definitions evaluated in 250-digit ``decimal`` arithmetic
(qubits: eigenvalues in closed form), the states' entries taken exactly as the floats passed.
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, quantum_divergence_to_diagonal

getcontext().prec = 250


def _xlogx(x):
    return x * x.ln() if x > 0 else Decimal(0)


def _decimal_umegaki_to_thermal(rho, beta, g):
    """S(ρ‖τ) = −S(ρ) − Σ_j ρ_jj log t_j − Tr ρ + Tr τ of a 2×2 ρ against τ = diag(e^{log t}), log t the float
    log-populations of the thermal state of g s_z at β that the library uses (rounded in their last bit, which moves
    D by ~ε² t_j: as much as D itself for c = 1e-9), in decimals: the relative entropy Tr ρ(log ρ − log τ) − Tr ρ +
    Tr τ, ≥ 0 also for float entries, whose trace is 1 only to rounding (≲ 1e-16, which the value 4e-17 at βg = 40
    would not resolve otherwise)."""
    p0, p1 = Decimal(float(rho[0, 0].real)), Decimal(float(rho[1, 1].real))
    o = Decimal(float(rho[0, 1].real)) ** 2 + Decimal(float(rho[0, 1].imag)) ** 2
    z = p0 - p1
    r = (z * z + 4 * o).sqrt()
    lam_plus = (p0 + p1 + r) / 2
    lam_minus = (p0 * p1 - o) / lam_plus
    log_t = [Decimal(float(x)) for x in np.asarray(log_thermal_populations(2, beta, g))]
    trace_tau = sum(x.exp() for x in log_t)
    return _xlogx(lam_plus) + _xlogx(lam_minus) - p0 * log_t[0] - p1 * log_t[1] - (p0 + p1) + trace_tau


def _cold_coherent(beta_g, c):
    """ρ with the thermal populations at βg and the coherence c√(p0 p1) (real)."""
    a = Decimal(-beta_g).exp()
    p0, p1 = 1 / (1 + a), a / (1 + a)
    off = c * float((p0 * p1).sqrt())
    return np.array([[float(p0), off], [off, float(p1)]], dtype=complex)


@pytest.mark.parametrize("beta_g", [5.0, 20.0, 40.0, 60.0, 300.0])
@pytest.mark.parametrize("c", [0.5, 1e-3, 1e-9])
def test_umegaki_of_cold_coherent_qubit_is_relatively_accurate(beta_g, c):
    """D_1(ρ‖τ_S) of a coherent qubit with thermal populations (the coherence part only, ~c² βg e^{−βg}) to 1e-13
    relative: −S(ρ) − Σ ρ_jj log t_j from the spectrum came out 2.5 % low at βg = 40 (4.157e-17 for 4.263e-17),
    0.15 % at βg = 20, c = 1e-3; through model A's divergences_to_thermal(quantum=True) and free energies."""
    rho = _cold_coherent(beta_g, c)
    expected = float(_decimal_umegaki_to_thermal(rho, beta_g, 1.0))
    model = jt.InhomogeneousReservoir(2, beta=beta_g, g0=1.0, theta=0.3)
    got = float(jt.inhomogeneous.divergences_to_thermal(model, rho, [1.0], quantum=True)[0])
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    log_t = log_thermal_populations(2, beta_g, 1.0)
    np.testing.assert_allclose(float(quantum_divergence_to_diagonal(rho, log_t, 1.0)), expected, rtol=1e-13)


def test_umegaki_to_thermal_of_random_qubits_matches_decimals():
    """Random qubit states (mixed, pure, diagonal, complex coherences) at βg from −3 to 3: D_1 to 1e-12 relative
    (the closed form replaces the spectrum for every qubit, so it must hold everywhere), and never negative."""
    rng = np.random.default_rng(51)
    for i in range(40):
        a = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
        rho = np.outer(a[:, 0], a[:, 0].conj()) if i % 4 == 0 else a @ a.conj().T
        if i % 5 == 0:
            rho = np.diag(np.diag(rho))
        rho = rho / np.trace(rho).real
        beta = rng.uniform(-3, 3)
        got = float(quantum_divergence_to_diagonal(rho, log_thermal_populations(2, beta, 1.0), 1.0))
        expected = float(_decimal_umegaki_to_thermal(rho, beta, 1.0))
        assert got >= 0
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=f"state {i}")
