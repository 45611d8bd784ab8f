"""Model C with a driven H_S(t): the step-doubling estimate ``integration_error`` of ``energy_assignment``
(docs/assignment.md §7) against the true error, from SciPy's ``solve_ivp`` (DOP853, rtol 1e-12) on the
vectorised von Neumann equation together with the integrals Q̃_X = ∫Tr{H_X ρ̇} and W̃_S = ∫Tr{V̇ ⊗ 1 ρ}.

The RK4 checks of §1 read the spectrum of H(t) at the grid times only: a drive faster than the Bohr
frequencies or a pulse between grid times passed them without a word while W̃_S was off by 100 × its
size (the reproducers below). The estimate reports it; it is compared with the truth at every time."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxthermo import GlobalModel, energy_assignment
from jaxthermo.assignment import refine_times

SX = np.array([[0.0, 1.0], [1.0, 0.0]], complex)
SM = np.array([[0.0, 1.0], [0.0, 0.0]], complex)
N = np.diag([0.0, 1.0]).astype(complex)
H_I = 0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T))
H_E = 1.3 * N
RHO0 = np.kron(np.array([[0.3, 0.1], [0.1, 0.7]]), np.diag([0.8, 0.2])).astype(complex)
TIMES = np.linspace(0.0, 5.0, 21)


def cosine(t, p):
    """V(t) = a cos(ω t) σ_x."""
    return p[0] * jnp.cos(p[1] * t) * SX


def pulse(t, p):
    """V(t) = a exp(−(t − t_0)²/2w²) σ_x, p = (a, t_0, w)."""
    return p[0] * jnp.exp(-0.5 * ((t - p[1]) / p[2]) ** 2) * SX


def _numpy_drive(drive, p):
    """V(t) and V̇(t) in NumPy, differentiated by hand (independent of the library's jvp)."""
    a = p[0]
    if drive is cosine:
        return (lambda t: a * np.cos(p[1] * t) * SX), (lambda t: -a * p[1] * np.sin(p[1] * t) * SX)
    g = lambda t: np.exp(-0.5 * ((t - p[1]) / p[2]) ** 2)
    return (lambda t: a * g(t) * SX), (lambda t: -a * (t - p[1]) / p[2] ** 2 * g(t) * SX)


def _arrays(energies, heats, work_s):
    """Every array of a GlobalEnergetics but times, (19, T), the assignments by docs/assignment.md §2."""
    u_s, u_i = energies[0], energies[1]
    q = heats[0] + heats[1]
    bare = [work_s - (u_i - u_i[0]), q, u_s - u_s[0], u_s]
    interaction = [work_s, q, u_s + u_i - u_s[0] - u_i[0], u_s + u_i]
    works = np.zeros_like(energies)
    works[0] = work_s
    return np.concatenate([energies, heats, works, np.array(bare), np.array(interaction)])


def _result_arrays(out):
    leaves = jax.tree.leaves((out.energies, out.heats, out.works, out.bare, out.interaction))
    return np.concatenate([np.asarray(x, dtype=float).reshape(-1, len(out.times)) for x in leaves])


def _scipy(h_s, h_i, h_e, v, v_dot, rho0, times):
    """The same 19 arrays from ρ̇ = −i[H(t), ρ], Q̃_X and W̃_S integrated by solve_ivp (rtol 1e-12)."""
    d_s, d_e = h_s.shape[0], h_e.shape[0]
    d = d_s * d_e
    h_x = [np.kron(h_s, np.eye(d_e)), h_i, np.kron(np.eye(d_s), h_e)]
    lift = lambda m: np.kron(m, np.eye(d_e))

    def rhs(t, y):
        rho = y[: d * d].reshape(d, d)
        h_s_t = h_x[0] + lift(v(t))
        h = h_s_t + h_x[1] + h_x[2]
        rho_dot = -1j * (h @ rho - rho @ h)
        rates = [np.trace(x @ rho_dot) for x in (h_s_t, h_x[1], h_x[2])] + [np.trace(lift(v_dot(t)) @ rho)]
        return np.concatenate([rho_dot.ravel(), rates])

    y0 = np.concatenate([rho0.ravel(), np.zeros(4)]).astype(complex)
    sol = solve_ivp(rhs, (times[0], times[-1]), y0, t_eval=times, rtol=1e-12, atol=1e-14, method="DOP853")
    rhos = sol.y[: d * d].T.reshape(-1, d, d)
    energies = np.array(
        [
            [np.trace(x @ r).real for x, r in zip((h_x[0] + lift(v(t)), h_x[1], h_x[2]), [rho] * 3)]
            for t, rho in zip(times, rhos)
        ]
    ).T
    return _arrays(energies, sol.y[d * d : d * d + 3].real, sol.y[-1].real)


def _reference(drive, params, times=TIMES, h_s=N, h_i=H_I, h_e=H_E, rho0=RHO0):
    return _scipy(h_s, h_i, h_e, *_numpy_drive(drive, params), rho0, times)


def _true_error(out, reference):
    """The largest error of any returned array at each time, (T,)."""
    return np.max(np.abs(_result_arrays(out) - reference), axis=0)


def _run(drive, params, times=TIMES, substeps=8, **kw):
    model = GlobalModel(N, H_I, H_E, drive=drive, drive_params=jnp.asarray(params))
    return energy_assignment(model, RHO0, times, substeps=substeps, **kw)


def _assert_bounds(est, true, factor=2.5):
    """true ≤ estimate ≤ factor × true at every time after the first (where both are 0)."""
    assert est[0] == 0.0
    ratio = est[1:] / true[1:]
    assert np.all(ratio >= 1.0), ratio.min()
    assert np.all(ratio <= factor), ratio.max()


RANDOM_H_I = (lambda a: 0.25 * (a + a.conj().T))(
    np.random.default_rng(5).normal(size=(6, 6)) + 1j * np.random.default_rng(6).normal(size=(6, 6))
)


@pytest.mark.parametrize(
    "case",
    [
        "qubits, omega 2, 8 substeps",
        "qubits, omega 2, 2 substeps",
        "2x3 strong coupling, 10 time units",
    ],
)
def test_smooth_drive_estimate_bounds_the_true_error_within_a_factor_2_5(case):
    """A drive on the time scale of the Bohr frequencies: the true error of every returned array is ≤ the
    estimate ≤ 2.5 × it at every time (measured 1.8–1.9 ×: 2|e_h − e_{h/2}| = 2(15/16)|e_h| for RK4)."""
    if case.startswith("2x3"):
        h_s, h_e = np.diag([0.0, 1.0]).astype(complex), np.diag([0.0, 0.8, 1.9]).astype(complex)
        rho0 = np.kron(np.array([[0.7, 0.2], [0.2, 0.3]]), np.diag([0.5, 0.3, 0.2])).astype(complex)
        times = np.linspace(0.0, 10.0, 21)
        params = np.array([1.2, 3.0])
        model = GlobalModel(h_s, RANDOM_H_I, h_e, drive=cosine, drive_params=jnp.asarray(params))
        out = energy_assignment(model, rho0, times)
        true = _true_error(out, _reference(cosine, params, times, h_s, RANDOM_H_I, h_e, rho0))
    else:
        substeps = int(case.split(", ")[2].split()[0])
        params = np.array([0.5, 2.0])
        out = _run(cosine, params, substeps=substeps)
        true = _true_error(out, _reference(cosine, params))
    assert true.max() > 1e-8  # well above SciPy's own error
    _assert_bounds(np.asarray(out.integration_error), true)


def test_a_drive_100_times_faster_than_the_bohr_frequencies_is_reported():
    """V(t) = 0.5 cos(200 t) σ_x, Bohr frequencies ≤ 2.75: RK4 with 8 substeps per interval of 0.25 (Ω h ≈ 6)
    returned W̃_S off by 13 (the true |W̃_S| ≤ 0.13) and the checks of §1, which read the spectrum of H(t)
    only, said nothing. The estimate bounds the error within 2.5 × (measured 1.9–2.0 ×), ``integration_tol``
    warns, and the substeps that bring the estimate under 1e-4 bring the true error there too."""
    params = np.array([0.5, 200.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the §1 checks stay silent: this is what went unnoticed
        out = _run(cosine, params)
    reference = _reference(cosine, params)
    true = _true_error(out, reference)
    assert true.max() > 10.0
    _assert_bounds(np.asarray(out.integration_error), true)
    with pytest.warns(RuntimeWarning, match=r"RK4 integration error .*\(> integration_tol = 0\.001\).*raise substeps"):
        _run(cosine, params, integration_tol=1e-3)
    fine = _run(cosine, params, substeps=64)  # the error falls as substeps⁻⁴: 5.5e-3 at 16, 2.7e-4 at 32
    assert np.max(fine.integration_error) < 1e-4
    assert np.max(_true_error(fine, reference)) < 1e-4


def test_a_pulse_between_grid_times_is_reported_and_located():
    """A Gaussian pulse of width 0.005 at t = 2.01, inside [2, 2.25] (step h = 0.03 with 8 substeps): W̃_S was
    off by 0.095 (its true size 0.006) without a word. The estimate bounds the error (×1.7–2.4), the warning
    names [2, 2.25] first, and a grid refined there (``refine_times``) brings the estimate and the error under 1e-6."""
    params = np.array([1.0, 2.01, 0.005])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _run(pulse, params)
    true = _true_error(out, _reference(pulse, params))
    assert true.max() > 0.05
    _assert_bounds(np.asarray(out.integration_error), true)
    with pytest.warns(RuntimeWarning, match=r"from the intervals \[2, 2.25\]") as record:
        _run(pulse, params, integration_tol=1e-4)
    assert len(record) == 1
    times = refine_times(TIMES, [2.01], 0.04, 33)
    refined = _run(pulse, params, times=times)
    true = _true_error(refined, _reference(pulse, params, times))
    assert np.max(refined.integration_error) < 1e-6
    assert np.max(true) <= np.max(refined.integration_error)


def test_the_estimate_leaves_the_results_unchanged_and_can_be_skipped():
    """estimate_error=False: the same arrays bit for bit, integration_error NaN (not known, not zero)."""
    params = np.array([0.5, 20.0])
    with_estimate, without = _run(cosine, params), _run(cosine, params, estimate_error=False)
    for a, b in zip(jax.tree.leaves(with_estimate[:-1]), jax.tree.leaves(without[:-1])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.all(np.isnan(without.integration_error))
    assert np.all(np.isfinite(with_estimate.integration_error))


def test_bad_options_are_refused_naming_them():
    params = np.array([0.5, 2.0])
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^integration_tol"):
            _run(cosine, params, integration_tol=bad)
    with pytest.raises(ValueError, match=r"^integration_tol needs the error estimate"):
        _run(cosine, params, integration_tol=1e-3, estimate_error=False)
    with pytest.raises(ValueError, match=r"^estimate_error must be True or False"):
        _run(cosine, params, estimate_error=1)


def test_constant_hamiltonian_estimate_is_the_rounding():
    """A constant H is propagated without RK4: the estimate is the rounding of e^{−iHt}, with or without
    estimate_error (tests/assignment/test_trial_h53.py checks it against the true error)."""
    model = GlobalModel(N, H_I, H_E)
    for flag in (True, False):
        out = energy_assignment(model, RHO0, TIMES, estimate_error=flag)
        assert np.all(np.asarray(out.integration_error) > 0) and np.all(np.asarray(out.integration_error) < 1e-13)
        assert out.integration_error.dtype == out.energies.dtype


def test_under_jit_and_grad_with_respect_to_the_amplitude():
    """The estimate is the same under jit; the derivatives (reverse mode) of W̃_S(t_end) and of the estimate
    with respect to the drive amplitude agree with central finite differences."""

    def work_and_estimate(a):
        model = GlobalModel(N, H_I, H_E, drive=cosine, drive_params=jnp.stack([a, 20.0]))
        out = energy_assignment(model, RHO0, TIMES)
        return jnp.stack([out.works[0, -1], out.integration_error[-1]])

    a, h = 0.5, 1e-5
    np.testing.assert_allclose(jax.jit(work_and_estimate)(a), work_and_estimate(a), rtol=1e-12)
    grad = np.asarray(jax.jacrev(work_and_estimate)(a))
    fd = (np.asarray(work_and_estimate(a + h)) - np.asarray(work_and_estimate(a - h))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    assert np.all(np.abs(grad) > 0)


def test_float32_keeps_float32_and_the_estimate_still_bounds_the_error():
    """A float32 run returns a float32 estimate; where RK4's error dominates rounding (Ω = 100, error 5e-3)
    it still bounds the true error."""
    params = np.array([0.5, 100.0], np.float32)
    model = GlobalModel(
        N.real.astype(np.float32),
        H_I.real.astype(np.float32),
        H_E.real.astype(np.float32),
        drive=cosine,
        drive_params=jnp.asarray(params),
    )
    out = energy_assignment(model, RHO0.astype(np.complex64), TIMES.astype(np.float32))
    assert {x.dtype for x in jax.tree.leaves(out)} == {np.dtype(np.float32)}
    true = _true_error(out, _reference(cosine, params.astype(float)))
    assert true.max() > 1e-3
    _assert_bounds(np.asarray(out.integration_error), true)
