"""The embedded error estimate of the minimal-dissipation heat (``quadrature_error``, docs/assignment.md §6)
against independent references: SciPy's adaptive ``quad`` of a closed-form (two-level exchange) or NumPy
(single-particle) integrand, on a smooth case and near a sharp K_S peak; and the ``quadrature_tol`` warning."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from jaxthermo import QuadraticReservoirs
from jaxthermo.assignment import GlobalModel, minimal_dissipation, refine_times

G = 0.7  # exchange coupling of the two-level model of tests/assignment/test_peaks_refine.py
SM = np.array([[0.0, 1.0], [0.0, 0.0]])
RHO_S, RHO_E = np.array([[0.3, 0.2], [0.2, 0.7]]), np.diag([1.0, 0.0])


def _exchange(w_s, w_e):
    """Two two-level systems exchanging an excitation (environment in |0⟩): Φ_t is amplitude damping with the
    survival amplitude c(t) of the one-excitation sector, K_S = ε(t)|1⟩⟨1| + const with ε = −Im(ċ/c), so
    Tr{K_S ρ̇_S} = ε d|c|²/dt ⟨1|ρ_S(0)|1⟩ in closed form (derivation in test_peaks_refine.py). Returns the
    model, the closed-form integrand and the times where |c|² has its minima (the K_S peaks)."""
    mean, delta = (w_s + w_e) / 2, w_s - w_e
    omega = np.sqrt(delta**2 + 4 * G**2)

    def integrand(t):
        phase = np.exp(-1j * mean * t)
        c = phase * (np.cos(omega * t / 2) - 1j * delta / omega * np.sin(omega * t / 2))
        c_dot = -1j * mean * c + phase * (-omega / 2 * np.sin(omega * t / 2) - 1j * delta / 2 * np.cos(omega * t / 2))
        return -np.imag(c_dot / c) * 2 * np.real(np.conj(c) * c_dot) * RHO_S[1, 1]

    model = GlobalModel(np.diag([0.0, w_s]), G * (np.kron(SM.T, SM) + np.kron(SM, SM.T)), np.diag([0.0, w_e]))
    return model, integrand, np.pi / omega * np.array([1.0, 3.0, 5.0])


def _reference(integrand, times, peaks):
    out = [0.0]
    for t in times[1:]:
        value, err = quad(integrand, 0.0, t, points=peaks[peaks < t], limit=1000, epsabs=1e-13, epsrel=1e-12)
        assert err < 1e-11
        out.append(value)
    return np.array(out)


def _check_honest(estimate, true, *, short_by, pessimistic_by=None, floor=1e-13):
    """true ≤ short_by·estimate + floor at every time; on the last time estimate ≤ pessimistic_by·true."""
    assert np.all(true <= short_by * estimate + floor), np.max(true / np.maximum(estimate, 1e-300))
    if pessimistic_by is not None:
        assert estimate[-1] <= pessimistic_by * true[-1], (estimate[-1], true[-1])


def test_smooth_global_model_estimate_matches_the_true_error():
    """Detuned far from resonance (ω_E = 0.3): |c|² ≥ 0.4, K_S smooth. On every grid time the true error of
    Q^md (against quad of the closed form) is at most the estimate (to 10 %: per interval the difference of
    the two Gauss rules is the error of the lower one up to O(h²)), and the estimate is not wildly
    pessimistic (≤ 10× at the end; measured 1.7–7×, from summing per-interval errors that partly cancel)."""
    model, integrand, peaks = _exchange(1.0, 0.3)
    for points, order in ((13, 4), (25, 2), (25, 4)):
        times = np.linspace(0.0, 6.0, points)
        out = minimal_dissipation(model, RHO_S, RHO_E, times, order=order)
        true = np.abs(np.asarray(out.assignment.heat) - _reference(integrand, times, peaks))
        estimate = np.asarray(out.quadrature_error)
        assert estimate[0] == 0.0 and np.all(np.diff(estimate) >= 0)
        assert true[-1] > 1e-12  # the quadrature error is resolved above rounding
        _check_honest(estimate, true, short_by=1.1, pessimistic_by=10.0)
        # the work carries the same error (W^md = ΔU^md − Q^md, ΔU^md exact on the grid)
        u = np.asarray(out.assignment.energy)
        work_true = np.abs(np.asarray(out.assignment.work) - (u - u[0] - _reference(integrand, times, peaks)))
        np.testing.assert_allclose(work_true, true, atol=1e-13)


def test_estimate_near_a_sharp_peak_and_after_refinement():
    """Near resonance (Δ = 0.02): K_S has a peak of width ≈ 0.02 at t* = 2.244 between grid points. On coarse
    grids the peak is under-resolved by both rules; the estimate then flags an error of the right size once
    the peak is behind (at the last time: the true error at most 4× the estimate on the grids below; over 48
    grids of 25 points on [0, 2.5…4] the worst measured est/true was 0.51 (order 2) and 0.55 (order 4)). No
    estimate built from samples is a bound for a peak narrower than the nodes' spacing: at t = 2.25, 0.006
    after the peak, the 25-point grid of [0, 6] with order 2 has est/true = 1/16. One refine_times round
    around peak_times makes both small and the estimate honest again at every time."""
    model, integrand, peaks = _exchange(1.0, 0.98)
    for points, order, end in ((13, 4, 6.0), (25, 2, 6.0), (25, 2, 2.955), (25, 4, 3.942)):
        times = np.linspace(0.0, end, points)
        out = minimal_dissipation(model, RHO_S, RHO_E, times, order=order)
        true = np.abs(np.asarray(out.assignment.heat) - _reference(integrand, times, peaks))
        estimate = np.asarray(out.quadrature_error)
        assert true[-1] > 1e-4  # the peak is missed: a visible error
        _check_honest(estimate[-1:], true[-1:], short_by=4.0, floor=1e-12)
        assert estimate[-1] > 1e-4  # flagged
        refined_grid = refine_times(times, out.peak_times, times[1] - times[0])
        refined = minimal_dissipation(model, RHO_S, RHO_E, refined_grid, order=order)
        true_r = np.abs(np.asarray(refined.assignment.heat) - _reference(integrand, refined_grid, peaks))
        estimate_r = np.asarray(refined.quadrature_error)
        assert estimate_r[-1] < 0.05 * estimate[-1]
        _check_honest(estimate_r, true_r, short_by=1.1, floor=1e-12)


def _quadratic_rate(model):
    """Tr(k Ṙ_11)(t) by NumPy: U = e^{−iMt} from NumPy's eigh, k = Herm(iĠG^{−1}) with G, Ġ the reservoir-1 blocks
    of U and −iMU (docs/assignment.md §5), R = U R(0) U† with the Fermi function of each reservoir."""
    h1, h2, g = (np.asarray(x, complex) for x in (model.h1, model.h2, model.coupling))
    n1 = h1.shape[0]
    m = np.block([[h1, g], [g.conj().T, h2]])
    r0 = np.zeros_like(m)
    for sl, h, beta, mu in ((slice(0, n1), h1, model.beta1, model.mu1), (slice(n1, None), h2, model.beta2, model.mu2)):
        e, v = np.linalg.eigh(beta * (h - mu * np.eye(len(h))))
        r0[sl, sl] = (v / (np.exp(e) + 1.0)) @ v.conj().T
    w, v = np.linalg.eigh(m)

    def rate(t):
        u = (v * np.exp(-1j * w * t)) @ v.conj().T
        h_eff = 1j * (-1j * m @ u)[:n1, :n1] @ np.linalg.inv(u[:n1, :n1])
        k = (h_eff + h_eff.conj().T) / 2
        r = u @ r0 @ u.conj().T
        r_dot = -1j * (m @ r - r @ m)
        return np.real(np.trace(k @ r_dot[:n1, :n1]))

    return rate


@pytest.mark.parametrize(("detuning", "short_by"), [(1.0, 1.1), (0.05, 1.5)])
def test_quadratic_reservoirs_estimate_against_scipy(detuning, short_by):
    """Two-mode fermionic reservoirs (from_regime, Γ = 1): dispersive (Δ = 1, smooth K_S) and near resonance
    (Δ = 0.05, K_S peaks at the local minima of σ_min(G)) on 21 points of [0, 10]; reference: quad of the NumPy
    integrand. Measured est/true ≥ 0.9998 (smooth) and ≥ 0.88 (peaked)."""
    model = QuadraticReservoirs.from_regime(
        2, 2, detuning=detuning, effective_coupling=1.0, nu2=2.0, g=0.1, beta1=1.0, beta2=0.5
    )
    times = np.linspace(0.0, 10.0, 21)
    out = model.energetics(times, order=4)
    rate = _quadratic_rate(model)
    true = np.abs(np.asarray(out.minimal_dissipation.heat) - _reference(rate, times, out.peak_times))
    estimate = np.asarray(out.quadrature_error)
    assert true[-1] > 1e-13
    _check_honest(estimate, true, short_by=short_by, pessimistic_by=20.0)


def test_quadrature_tol_warns_names_intervals_and_is_validated():
    model, _, _ = _exchange(1.0, 0.98)
    times = np.linspace(0.0, 6.0, 13)
    with pytest.warns(RuntimeWarning, match=r"quadrature error estimate .*\[2, 2\.5\]"):
        minimal_dissipation(model, RHO_S, RHO_E, times, quadrature_tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minimal_dissipation(model, RHO_S, RHO_E, times, quadrature_tol=1.0)
        minimal_dissipation(model, RHO_S, RHO_E, times)  # no tolerance, no warning
    res = QuadraticReservoirs.from_regime(2, 2, detuning=0.05, effective_coupling=1.0, nu2=2.0, g=0.1)
    with pytest.warns(RuntimeWarning, match="quadrature_tol = 1e-08"):
        res.energetics(np.linspace(0.0, 10.0, 21), quadrature_tol=1e-8)
    for bad in (0.0, -1.0, float("nan"), float("inf"), 1j):
        with pytest.raises(ValueError, match="quadrature_tol"):
            minimal_dissipation(model, RHO_S, RHO_E, times, quadrature_tol=bad)
        with pytest.raises(ValueError, match="quadrature_tol"):
            res.energetics(times, quadrature_tol=bad)


def test_estimate_under_jit_in_float32_and_nan_after_a_singular_time():
    """float32 in → float32 estimate; under jit equal to the eager result; NaN where Q^md is NaN."""
    res = QuadraticReservoirs.from_regime(2, 2, detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1)
    times = np.linspace(0.0, 5.0, 11)
    eager = res.energetics(times).quadrature_error
    jitted = jax.jit(lambda r, t: r.energetics(t).quadrature_error)(res, jnp.asarray(times))
    np.testing.assert_allclose(jitted, eager, rtol=1e-12, atol=1e-15)
    res32 = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), res)
    out32 = res32.energetics(jnp.asarray(times, jnp.float32))
    assert out32.quadrature_error.dtype == jnp.float32
    # resonant (Δ = 0) homogeneous reservoirs: G(t) singular on the grid, Q^md NaN from there on, and its error
    singular = QuadraticReservoirs.homogeneous(1, 1, 1.0, 1.0, 0.0, 0.5)
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = singular.energetics(np.linspace(0.0, 2 * np.pi, 9))
    heat, error = np.asarray(out.minimal_dissipation.heat), np.asarray(out.quadrature_error)
    assert np.any(np.isnan(heat))
    np.testing.assert_array_equal(np.isnan(error), np.isnan(heat))


def test_warning_names_an_interval_with_an_infinite_estimate():
    """A non-finite integrand at a node of the check rule only makes that interval's estimate inf (and the
    cumulative estimate inf from there on); the warning names that interval first."""
    from jaxthermo.assignment._assignment import warn_quadrature_error

    error = np.array([0.0, 1e-9, np.inf, np.inf, np.inf])
    with pytest.warns(RuntimeWarning, match=r"reaches inf .*intervals \[1, 2\] \(inf\)"):
        warn_quadrature_error(error, np.arange(5.0), 1e-6)


def test_estimate_error_false_skips_the_check_rule():
    """``estimate_error=False`` (for sweeps where speed matters): the same Q^md and W^md (the ``order`` rule
    alone, evaluated on the same nodes), ``quadrature_error`` NaN (not known, not zero), ``order`` instead of
    ``2·order + 1`` integrand evaluations per interval (counted through the traced program's map length);
    with a tolerance or a non-bool it is refused naming the parameter."""
    model, _, _ = _exchange(1.0, 0.3)
    times = np.linspace(0.0, 6.0, 31)
    full = minimal_dissipation(model, RHO_S, RHO_E, times)
    fast = minimal_dissipation(model, RHO_S, RHO_E, times, estimate_error=False)
    np.testing.assert_allclose(fast.assignment.heat, full.assignment.heat, rtol=0, atol=1e-15)
    np.testing.assert_allclose(fast.assignment.work, full.assignment.work, rtol=0, atol=1e-15)
    assert np.all(np.isnan(np.asarray(fast.quadrature_error))) and np.all(np.isfinite(full.quadrature_error))
    quad_model = QuadraticReservoirs.from_regime(2, 2, detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1)
    q_full = quad_model.energetics(times)
    q_fast = quad_model.energetics(times, estimate_error=False)
    np.testing.assert_allclose(q_fast.minimal_dissipation.heat, q_full.minimal_dissipation.heat, rtol=0, atol=1e-14)
    assert np.all(np.isnan(np.asarray(q_fast.quadrature_error)))

    def scan_lengths(jaxpr):  # every lax.map/scan in the program, nested programs included
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "scan":
                yield eqn.params["length"]
            for value in eqn.params.values():
                inner = getattr(value, "jaxpr", value)
                if hasattr(inner, "eqns"):
                    yield from scan_lengths(inner)

    def evaluations(estimate):  # the maps over grid times and quadrature nodes (the longest ones)
        program = jax.make_jaxpr(
            lambda t: minimal_dissipation(model, RHO_S, RHO_E, t, estimate_error=estimate).assignment.heat
        )(jnp.asarray(times))
        return sorted(n for n in scan_lengths(program.jaxpr) if n >= 31)

    assert evaluations(True) == [31, 30 * 4 + 30 * 5] and evaluations(False) == [31, 30 * 4]
    with pytest.raises(ValueError, match="quadrature_tol needs the error estimate"):
        minimal_dissipation(model, RHO_S, RHO_E, times, quadrature_tol=1e-6, estimate_error=False)
    with pytest.raises(ValueError, match="estimate_error must be True or False"):
        quad_model.energetics(times, estimate_error="no")
