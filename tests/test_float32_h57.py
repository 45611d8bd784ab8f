"""float32 outside the ensemble engine (helper-57): results keep the precision of the inputs and are
accurate to the float32 rounding of the quantity itself, against independent references."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit

import jaxthermo as jt
from jaxthermo import inhomogeneous as A


def _mean_work_reference(beta, g0, sigma, theta):
    """W̄ of a qubit, Hamiltonian kind, Gaussian σ: W(δ) = g0 δ sin²θ (p_1 − q_1(δ)) (docs/inhomogeneous.md §2),
    so W̄ = −g0 sin²θ ∫ G(δ) δ q_1(δ) dδ (E[δ] = 0), q_1(δ) = 1/(1 + e^{βg0(1+δ)}), by SciPy's adaptive
    quadrature split where q_1 turns over (δ = −1) and at 0."""
    density = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    q1 = lambda x: expit(-beta * g0 * (1.0 + x))
    width = 40.0 / (beta * g0)
    points = sorted({-60 * sigma, -1 - width, -1.0, -1 + width, 0.0, 60 * sigma})
    points = [x for x in points if -60 * sigma <= x <= 60 * sigma]
    total = sum(
        quad(lambda x: density(x) * x * q1(x), a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
        for a, b in zip(points[:-1], points[1:])
    )
    return -g0 * np.sin(theta) ** 2 * total


@pytest.mark.parametrize(("beta", "sigma"), [(20.0, 0.1), (40.0, 0.1), (60.0, 0.2), (20.0, 0.05)])
def test_mean_work_float32_cold_reservoir_relative(beta, sigma):
    """A cold reservoir's mean work is tiny (4.4e-16 at βg0 = 40, σ = 0.1): it came from E[g_r q] − g0 q̄,
    which cancelled to ε·q̄ (float32 1.3e-9 for 4.4e-16, 1.0e-8 for 2.7e-10 at βg0 = 20), and E[δ] of the
    rule (ε σ) added a ρ-dependent part. Now accurate relative to itself, in float32 and float64, and the
    same for every ρ (centred law, [ATO19] eq. (17))."""
    theta = float(np.float32(0.3))
    sigma = float(np.float32(sigma))
    expected = _mean_work_reference(beta, 1.0, sigma, theta)
    for dt, cdt, rtol in ((np.float32, np.complex64, 2e-5), (np.float64, np.complex128, 1e-5)):
        model = A.InhomogeneousReservoir(
            2, beta=dt(beta), g0=dt(1.0), theta=dt(theta), distribution=A.Gaussian(dt(sigma))
        )
        works = [A.mean_work(model, np.diag(p).astype(cdt)) for p in ([0.75, 0.25], [0.25, 0.75], [1.0, 0.0])]
        for w in works:
            assert w.dtype == dt
            np.testing.assert_allclose(float(w), expected, rtol=rtol)
        traj = A.averaged_trajectory(model, np.diag([0.5, 0.5]).astype(cdt), 5)
        assert traj.work.dtype == dt
        np.testing.assert_allclose(np.asarray(traj.work, float), expected, rtol=rtol)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_mean_work_temperature_kind_is_zero(dt):
    """The temperature kind generates no work (g_r = g0): W̄ is exactly 0 (float32 gave ±2.6e-9, 5.2e-9 for
    d = 3, and accumulated_mean_work −1.4e-7), and Q̄ = ΔŪ."""
    cdt = jnp.complex64 if dt == np.float32 else jnp.complex128
    for d, p in ((2, [0.75, 0.25]), (3, [0.5, 0.25, 0.25])):
        model = A.InhomogeneousReservoir(
            d, beta=dt(1.0), g0=dt(1.0), theta=dt(0.3), kind="temperature", distribution=A.Gaussian(dt(0.2))
        )
        rho = np.diag(p).astype(cdt)
        step = A.mean_collision(model, rho)
        assert float(step.work) == 0.0
        assert float(step.heat) == float(step.energy_change)
        assert float(A.accumulated_mean_work(model, rho, 20)) == 0.0


def test_small_delta_mean_work_temperature_kind_keeps_float32():
    """small_delta_mean_work of the temperature kind (0) came back float64 for a float32 model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = A.InhomogeneousReservoir(
            2, beta=np.float32(1.0), g0=np.float32(1.0), theta=np.float32(0.3), kind="temperature"
        )
    out = A.small_delta_mean_work(model, np.float32(0.04))
    assert out.dtype == np.float32 and float(out) == 0.0
    hamiltonian = model.replace(kind="hamiltonian")
    assert A.small_delta_mean_work(hamiltonian, np.float32(0.04)).dtype == np.float32
    assert jt is not None
