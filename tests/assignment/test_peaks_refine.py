"""A sharp but finite minimal-dissipation peak of a GlobalModel between grid points: ``peak_times`` lists it
and one ``refine_times`` round makes Q^md accurate (docs/assignment.md §3)."""

import numpy as np
from scipy.integrate import quad

from jaxthermo.assignment import GlobalModel, minimal_dissipation, refine_times

G, W_S, W_E = 0.7, 1.0, 0.98  # exchange coupling, system and environment frequencies (detuning Δ = 0.02)


def _amplitude(t):
    """c(t) = ⟨10|e^{−iHt}|10⟩ and ċ(t) in the one-excitation sector, H_1 = [[ω_S, g], [g, ω_E]] (closed form)."""
    mean, delta = (W_S + W_E) / 2, W_S - W_E
    omega = np.sqrt(delta**2 + 4 * G**2)
    phase = np.exp(-1j * mean * t)
    c = phase * (np.cos(omega * t / 2) - 1j * delta / omega * np.sin(omega * t / 2))
    c_dot = -1j * mean * c + phase * (-omega / 2 * np.sin(omega * t / 2) - 1j * delta / 2 * np.cos(omega * t / 2))
    return c, c_dot


def test_near_singular_peak_is_listed_and_refined():
    """Two detuned two-level systems exchanging an excitation, environment in |0⟩. Φ_t is the amplitude
    damping channel with survival amplitude c(t) (ρ_eg → c ρ_eg, ρ_ee → |c|² ρ_ee), whose canonical form has
    K_S = ε(t)|1⟩⟨1| + const, ε = −Im(ċ/c), so Q^md(T) = p_e ∫ ε d|c|²/dt dt, integrated here by SciPy's
    adaptive quad from the closed form. |c|² dips to Δ²/Ω² = 2e-4 at t* = π/Ω (σ_min/σ_max(Φ_t) the same,
    far above rcond: not singular, not flagged) and ε has a peak of width ~2Δ/Ω² = 0.02 between the grid
    points 2.0 and 2.5. The old code's peak_times was empty (only flagged times), so refine_times left the
    grid unchanged and Q^md stayed off by 4e-3; now the grid's local minimum of σ_min/σ_max is listed.

    Tolerance: ε is analytic except for simple poles at t_k ± i·d, t_k = (2k+1)π/Ω, d = (2/Ω) artanh(Δ/Ω).
    Gauss–Legendre with n nodes on [a, b] errs by at most (b−a)/2 · (64/15) M ρ^{−2n}/(ρ²−1) (Trefethen,
    ATAP Thm 19.3) for an integrand bounded by M inside the Bernstein ellipse E_ρ; we take the ellipse
    through the points t_k ± i·d/2 (half-way to the poles, where |ε| is at most about twice its real-axis
    peak) and M = 2·max_ℝ|integrand|, summed over the intervals of the grid."""
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    model = GlobalModel(np.diag([0.0, W_S]), G * (np.kron(sm.T, sm) + np.kron(sm, sm.T)), np.diag([0.0, W_E]))
    rho_s, rho_e = np.array([[0.3, 0.2], [0.2, 0.7]]), np.diag([1.0, 0.0])
    delta, omega = W_S - W_E, np.sqrt((W_S - W_E) ** 2 + 4 * G**2)
    t_end, order = 6.0, 4
    poles = np.array([np.pi / omega, 3 * np.pi / omega])  # real parts within reach of [0, t_end]
    d = 2 / omega * np.arctanh(delta / omega)

    def integrand(t):
        c, c_dot = _amplitude(t)
        return -np.imag(c_dot / c) * 2 * np.real(np.conj(c) * c_dot) * rho_s[1, 1]

    reference, err = quad(integrand, 0.0, t_end, points=poles[poles < t_end], limit=500, epsabs=1e-13, epsrel=1e-13)
    assert err < 1e-12
    bound_m = 2 * np.max(np.abs(integrand(np.linspace(0.0, t_end, 200_001))))

    def tolerance(grid):
        total = 0.0
        for a, b in zip(grid[:-1], grid[1:]):
            if b > a:
                u = (2 * (poles + 0.5j * d) - a - b) / (b - a)
                s = np.sqrt(u * u - 1)
                rho = np.min(np.maximum(np.abs(u + s), np.abs(u - s)))
                total += (b - a) / 2 * (64 / 15) * bound_m * rho ** (-2 * order) / (rho**2 - 1)
        return total

    times = np.linspace(0.0, t_end, 13)
    coarse = minimal_dissipation(model, rho_s, rho_e, times, order=order)  # no warning: nothing singular
    assert not np.any(coarse.singular) and not np.any(coarse.singular_nodes)
    assert np.min(np.asarray(coarse.inverse_condition)) > 1e-3
    peaks = coarse.peak_times
    spacing = times[1] - times[0]
    assert peaks.size == 1 and abs(peaks[0] - poles[0]) < spacing  # the true minimum within one spacing
    refined_grid = refine_times(times, peaks, spacing)
    refined = minimal_dissipation(model, rho_s, rho_e, refined_grid, order=order)
    coarse_error = abs(float(coarse.assignment.heat[-1]) - reference)
    refined_error = abs(float(refined.assignment.heat[-1]) - reference)
    tol = tolerance(refined_grid)
    assert refined_error < tol < 1e-5, (refined_error, tol)
    assert coarse_error > 100 * tol and coarse_error > 1e-3, (coarse_error, tol)
