"""Model C with a drive whose parameters are a traced pytree (docs/assignment.md §1): a sweep over
the drive amplitude compiles once, the values match an independent SciPy integration of the
driven dynamics, and ``jax.grad`` with respect to the amplitude matches central finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxthermo import GlobalModel, energy_assignment
from jaxthermo.assignment import _global

SM = np.array([[0.0, 1.0], [0.0, 0.0]])
N = np.diag([0.0, 1.0])
SX = np.array([[0.0, 1.0], [1.0, 0.0]])
H_I = 0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T))
RHO0 = np.kron(np.array([[0.3, 0.1], [0.1, 0.7]]), np.diag([0.8, 0.2])).astype(complex)
TIMES = np.linspace(0.0, 1.5, 6)


def drive(t, params):
    """V(t) = a sin(ω t) σ_x with params = {"a": a, "omega": ω}."""
    return params["a"] * jnp.sin(params["omega"] * t) * SX


def _model(a, omega=2.0):
    return GlobalModel(N, H_I, 1.3 * N, drive=drive, drive_params={"a": a, "omega": omega})


def _scipy_work(a, omega=2.0):
    """W̃_S(t) = ∫ Tr{V̇(s) ⊗ 1 ρ(s)} ds with ρ̇ = −i[H(s), ρ], by solve_ivp (an independent route)."""
    h0 = np.kron(N, np.eye(2)) + H_I + np.kron(np.eye(2), 1.3 * N)

    def rhs(t, y):
        rho = y[:-1].reshape(4, 4)
        h = h0 + np.kron(a * np.sin(omega * t) * SX, np.eye(2))
        v_dot = np.kron(a * omega * np.cos(omega * t) * SX, np.eye(2))
        return np.concatenate([(-1j * (h @ rho - rho @ h)).ravel(), [np.trace(v_dot @ rho)]])

    y0 = np.concatenate([RHO0.ravel(), [0.0]]).astype(complex)
    sol = solve_ivp(rhs, (TIMES[0], TIMES[-1]), y0, t_eval=TIMES, rtol=1e-11, atol=1e-13, method="DOP853")
    return np.real(sol.y[-1])


def test_an_amplitude_sweep_compiles_once_and_matches_scipy():
    """Before, the drive had to close over the amplitude: a new static function per value, and a
    20-point sweep spent 13 s recompiling against 0.05 s of running (the fix: 1.7 s, then 0.23 s)."""
    amplitudes = np.linspace(0.1, 0.9, 5)
    energy_assignment(_model(amplitudes[0]), RHO0, TIMES)
    before = _global._driven_energy_assignment._cache_size()
    works = [np.asarray(energy_assignment(_model(a), RHO0, TIMES).works[0]) for a in amplitudes]
    assert _global._driven_energy_assignment._cache_size() == before
    for a, w in zip(amplitudes, works):
        np.testing.assert_allclose(w, _scipy_work(a), atol=2e-7)


def test_the_closure_drive_is_unchanged():
    """The one-argument drive t ↦ V(t) still works and agrees with the parameterised one."""
    closure = GlobalModel(N, H_I, 1.3 * N, drive=lambda t: 0.4 * jnp.sin(2.0 * t) * SX)
    np.testing.assert_allclose(
        energy_assignment(closure, RHO0, TIMES).works, energy_assignment(_model(0.4), RHO0, TIMES).works, atol=1e-15
    )


@pytest.mark.parametrize("name", ["a", "omega"])
def test_gradient_with_respect_to_a_drive_parameter_matches_finite_differences(name):
    params = {"a": 0.4, "omega": 2.0}

    def final_work(x):
        p = dict(params, **{name: x})
        return energy_assignment(_model(p["a"], p["omega"]), RHO0, TIMES).works[0, -1]

    grad = float(jax.grad(final_work)(params[name]))
    h = 1e-5
    fd = (float(final_work(params[name] + h)) - float(final_work(params[name] - h))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    assert abs(grad) > 1e-3


def test_a_float32_drive_parameter_keeps_the_run_float32():
    rho32 = RHO0.astype(np.complex64)
    out = energy_assignment(
        GlobalModel(
            N.astype(np.float32),
            H_I.astype(np.float32),
            (1.3 * N).astype(np.float32),
            drive=drive,
            drive_params={"a": np.float32(0.4), "omega": np.float32(2.0)},
        ),
        rho32,
        TIMES.astype(np.float32),
    )
    assert out.works.dtype == np.float32
    np.testing.assert_allclose(out.works[0], _scipy_work(0.4), atol=1e-5)


def test_bad_drive_input_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^drive\(t\) must return one \(2, 2\)"):
        energy_assignment(GlobalModel(N, H_I, N, drive=lambda t: t * np.eye(3)), RHO0, TIMES)
    with pytest.raises(ValueError, match=r"^drive_params"):
        GlobalModel(N, H_I, N, drive_params=1.0)
    with pytest.raises(ValueError, match=r"^drive_params must be finite"):
        _model(np.nan)
