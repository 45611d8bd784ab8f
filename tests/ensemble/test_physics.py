"""Monte-Carlo ensembles against the exact averaged dynamics of model A (docs/inhomogeneous.md).

Exact results used (δ_r independent of the state before collision r):
* populations: p̄_r = τ̄ − (τ̄ − p_0) cos^{2r}θ, and for qubits Var(p0_r) = sin⁴θ Var(q0(δ)) Σ_{k<r} cos^{4k}θ
  (p0_r = cos^{2r}θ p0_0 + sin²θ Σ_k cos^{2(r−k)}θ q0(δ_k), a sum of independent terms);
* coherences: ρ_jk,r = ρ_jk,0 Π_k f(δ_k), f = cos²θ + i sinθ cosθ (q_j − q_k), so
  E ρ_jk,r = ρ_jk,0 (E f)^r and E|ρ_jk,r|² = |ρ_jk,0|² (E|f|²)^r;
* work: E W_r = −g0 sin²θ Σ_j j E[δ q_j(δ)] (exact for every r, not only to O(σ²));
* heat: E Q_r = g0 sin²θ Σ_j m_j (E[(1+δ) q_j(δ)] − p̄_{j,r−1}).
Expectations over G by the distribution's own quadrature. Tolerances: 5 standard errors.
"""

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous import averaged_reservoir_populations, reservoir_populations, small_delta_mean_work
from tests.helpers import random_state


def _expect(model, f):
    return np.asarray(model.distribution.expectation(lambda dl: f(dl, reservoir_populations(model, dl))))


def _exact_mean_populations(p0, qbar, theta, n_steps):
    r = np.arange(n_steps + 1)[:, None]
    return qbar - (qbar - p0) * np.cos(theta) ** (2 * r)


@pytest.mark.parametrize(
    "dist", [jt.Gaussian(0.15), jt.Uniform(0.5), jt.TwoPoint(0.2)], ids=["gauss", "uniform", "two-point"]
)
def test_qubit_means_match_exact_averaged_dynamics(dist):
    theta, n_steps, m = 0.3, 30, 20_000
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, distribution=dist)
    p0 = np.array([0.9, 0.1])
    res = jt.ensemble(model, np.diag(p0), n_steps, m, seed=1)
    qbar = np.asarray(averaged_reservoir_populations(model, dist))
    p_exact = _exact_mean_populations(p0, qbar, theta, n_steps)
    c2, s2 = np.cos(theta) ** 2, np.sin(theta) ** 2
    var_q0 = _expect(model, lambda dl, q: q[:, 0] ** 2) - qbar[0] ** 2
    var_p = s2**2 * var_q0 * np.concatenate([[0.0], np.cumsum(c2 ** (2 * np.arange(n_steps)))])
    p_mc = np.real(np.diagonal(res.mean_state, axis1=-2, axis2=-1))
    assert np.all(np.abs(p_mc[:, 0] - p_exact[:, 0]) <= 5 * np.sqrt(var_p / m) + 1e-15)
    # trace distance to τ̄ contracts as cos^{2r}θ (exactly for the averaged dynamics)
    np.testing.assert_allclose(
        res.mean_state_trace_distance[-1], c2**n_steps * abs(p0[0] - qbar[0]), atol=5 * np.sqrt(var_p[-1] / m)
    )
    # mean work: exact value, within 5 standard errors at every step, and σ² theory to O(σ⁴)
    w_exact = -1.0 * s2 * np.sum(np.arange(2) * _expect(model, lambda dl, q: dl[:, None] * q))
    assert np.all(np.abs(res.mean_work - w_exact) <= 5 * res.standard_error("work"))
    assert abs(res.mean_total_work - n_steps * w_exact) <= 5 * np.sqrt(res.var_total_work / m)
    small = float(small_delta_mean_work(model, dist.variance))
    assert abs(w_exact - small) <= 0.1 * small  # σ² ≤ 0.0225: the O(σ⁴) remainder is small
    # mean heat from the exact mean populations before each collision
    mj = np.array([-0.5, 0.5])
    e1q = _expect(model, lambda dl, q: (1 + dl)[:, None] * q)
    q_exact = s2 * ((e1q - p_exact[:-1]) @ mj)
    assert np.all(np.abs(res.mean_heat - q_exact) <= 5 * res.standard_error("heat") + 1e-15)


def test_qutrit_coherences_match_exact_average():
    theta, n_steps, m = 0.4, 15, 4000
    model = jt.InhomogeneousReservoir(3, 0.7, 1.0, theta, distribution=jt.Gaussian(0.3))
    rho0 = random_state(3, np.random.default_rng(2))  # coherent
    res = jt.ensemble(model, rho0, n_steps, m, seed=4, alphas=())
    c, s = np.cos(theta), np.sin(theta)
    r = np.arange(n_steps + 1)
    for j, k in ((0, 1), (0, 2), (1, 2)):
        ef = _expect(model, lambda dl, q: c * c + 1j * s * c * (q[:, j] - q[:, k]))
        ef2 = _expect(model, lambda dl, q: c**4 + (s * c) ** 2 * (q[:, j] - q[:, k]) ** 2)
        mean = rho0[j, k] * ef**r
        var = abs(rho0[j, k]) ** 2 * (ef2**r - np.abs(ef) ** (2 * r))
        err = np.abs(res.mean_state[:, j, k] - mean)
        assert np.all(err <= 5 * np.sqrt(var / m) + 1e-14), (j, k, err.max())
    qbar = np.asarray(averaged_reservoir_populations(model, model.distribution))
    p_mc = np.real(np.diagonal(res.mean_state, axis1=-2, axis2=-1))
    p_exact = _exact_mean_populations(np.real(np.diag(rho0)), qbar, theta, n_steps)
    var_q = _expect(model, lambda dl, q: q**2) - qbar**2  # populations: same linear law as for qubits
    var_p = s**4 * var_q * np.concatenate([[0.0], np.cumsum(c ** (4 * np.arange(n_steps)))])[:, None]
    assert np.all(np.abs(p_mc - p_exact) <= 5 * np.sqrt(var_p / m) + 1e-15)


def test_temperature_kind_has_no_work_and_first_law_holds_on_average():
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.2, kind="temperature", distribution=jt.Gaussian(0.1))
    res = jt.ensemble(model, jt.thermal_state(3, 2.0, 1.0), 10, 500, alphas=())
    assert np.all(res.mean_work == 0) and np.all(res.var_work == 0)
    np.testing.assert_allclose(res.mean_work + res.mean_heat, res.mean_energy_change, atol=1e-16)
    assert res.work_histogram.total == 500
