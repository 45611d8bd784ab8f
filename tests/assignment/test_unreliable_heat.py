"""Q^md with no reliable digit is never silent (docs/assignment.md §3, §6). H_S = ½σz, H_I = 30 σx⊗σx, H_E = 0.7σz,
ρ_E = diag(0.9, 0.1), ρ_S = diag(0.3, 0.7): Φ_t is singular at t₀ ≈ 1.858 with two singular values vanishing
together, so det Φ_t keeps its sign and no grid point or node is flagged; K_S ~ 0.004/|t − t₀| makes Q^md(3)
undefined, and it came out −36.9, −8.9, 21.7 on 7, 61, 601 grid points without a word. The embedded quadrature
estimate saw it (64–139); without ``quadrature_tol`` it now warns where it exceeds a tenth of the result's largest
magnitude. A smooth case stays silent, and its Q^md agrees with the independent 3-point Gauss–Legendre rule."""

import warnings

import numpy as np
import pytest

import jaxthermo as jt

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([1.0, -1.0])


def _run(model, rho_s, rho_e, times, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = jt.minimal_dissipation(model, rho_s, rho_e, times, **kw)
    return result, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("n_times", [7, 61])
def test_heat_through_an_undetected_singular_point_warns(n_times):
    model = jt.GlobalModel(h_system=0.5 * SZ, h_interaction=30.0 * np.kron(SX, SX), h_environment=0.7 * SZ)
    result, messages = _run(model, np.diag([0.3, 0.7]), np.diag([0.9, 0.1]), np.linspace(0.0, 3.0, n_times))
    assert not np.any(np.asarray(result.singular))  # the map's own check does not see t₀
    heat = np.asarray(result.assignment.heat)
    assert float(result.quadrature_error[-1]) > 0.1 * np.max(np.abs(heat))  # the estimate does
    assert any("no reliable digit" in m for m in messages), messages


def test_smooth_heat_stays_silent_and_is_accurate():
    model = jt.GlobalModel(h_system=0.5 * SZ, h_interaction=0.3 * np.kron(SX, SX), h_environment=0.7 * SZ)
    times = np.linspace(0.0, 3.0, 31)
    result, messages = _run(model, np.diag([0.3, 0.7]), np.diag([0.9, 0.1]), times)
    assert messages == []
    coarse, _ = _run(model, np.diag([0.3, 0.7]), np.diag([0.9, 0.1]), times, order=3)
    # two Gauss–Legendre rules of different order agree to within the reported estimate
    err = np.abs(np.asarray(result.assignment.heat) - np.asarray(coarse.assignment.heat))
    assert np.all(err <= 10 * np.asarray(coarse.quadrature_error) + 1e-13)
    # an explicit quadrature_tol still governs alone: nothing below it
    _, messages = _run(model, np.diag([0.3, 0.7]), np.diag([0.9, 0.1]), times, quadrature_tol=1.0)
    assert messages == []


def _random_reservoirs():
    """3 + 4 bosonic modes with random Hermitian h1, h2 and a complex coupling g (helper-94's trial case)."""
    rng = np.random.default_rng(21)

    def herm(n, s):
        a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        return s * (a + a.conj().T) / 2

    h1, h2 = herm(3, 0.6) + 3.0 * np.eye(3), herm(4, 0.6) + 2.0 * np.eye(4)
    g = 0.7 * (rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4)))
    return jt.QuadraticReservoirs(h1, h2, g, beta1=1.7, beta2=0.4, mu1=0.5, mu2=-0.3, statistics="boson")


@pytest.mark.parametrize("n_times, warns", [(13, True), (121, False)])
def test_the_threshold_is_set_by_the_heat_itself(n_times, warns):
    """|ΔU^md| = 9.2 was in the scale of the implicit threshold and let Q^md (|Q| ≤ 4.1) on 13 points of [0, 6]
    through with an estimate of 0.65; the error against 601 points (converged to 4·10⁻⁷ against an independent
    exact diagonalisation) is 0.28 there. Now the heat alone sets the scale; 121 points stay silent."""
    model = _random_reservoirs()
    times = np.linspace(0.0, 6.0, n_times)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coarse = model.energetics(times)
    messages = [str(w.message) for w in caught if "no reliable digit" in str(w.message)]
    assert bool(messages) == warns, messages
    heat = np.asarray(coarse.minimal_dissipation.heat)
    fine = np.asarray(model.energetics(np.linspace(0.0, 6.0, 601)).minimal_dissipation.heat)[:: 600 // (n_times - 1)]
    error = np.max(np.abs(heat - fine))
    assert error > 0.05 * np.max(np.abs(heat)) if warns else error < 0.01 * np.max(np.abs(heat)), error
    assert np.max(np.abs(np.asarray(coarse.minimal_dissipation.energy_change))) > 2 * np.max(np.abs(heat))
