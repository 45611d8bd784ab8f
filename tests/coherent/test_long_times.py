"""`propagate` at long times (jaxthermo/coherent/_master.py, jaxthermo/_linalg.py expm; docs/coherent.md §3).

Before: an interval with ‖𝓛‖₁Δt > 2¹⁷θ ≈ 7·10⁵ (t = 10⁶ for the qubit example) returned NaN without a
word, and below that the squarings drifted along the stationary state by ≈ t‖𝓛‖₁ε (a run of SciPy-style
squarings: 10⁻⁵ at t = 10¹², the state gone at 10¹⁸). Now the squarings needed by the longest interval
are taken, the stationary mode removed before squaring.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._linalg import expm

LONG = [1e6, 1e9, 1e15, 1e100, 1e300]


def _eigen_route(model, rho0, t):
    """ρ(t) = V e^{Λt} V⁻¹ vec ρ(0) from NumPy's eigendecomposition of 𝓛 (an independent route,
    accurate where V is well conditioned)."""
    lv = np.asarray(jt.liouvillian(model))
    lam, vecs = np.linalg.eig(lv)
    coeff = np.linalg.solve(vecs, np.asarray(rho0, complex).reshape(-1))
    phase = np.exp(np.where(np.abs(lam) < 1e-13, 0.0, lam) * t)  # the stationary eigenvalue is 0 to rounding
    d = np.asarray(rho0).shape[0]
    return (vecs @ (phase * coeff)).reshape(d, d)


@pytest.mark.parametrize("t", LONG)
def test_long_times_reach_the_steady_state(t):
    model = jt.qubit_example(beta=1.0, lam=0.1, tau=0.01)
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    out = np.asarray(jt.propagate(model, rho0, np.array([0.0, 1.0, t])))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[-1], np.asarray(jt.steady_state(model)), atol=1e-14)


def test_a_slow_relaxation_at_long_times_against_the_eigendecomposition():
    """Weak coupling g = 10⁻³: rates ~10⁻⁶, so at t = 10⁶ the state has relaxed only partly; ‖𝓛‖₁t ≈ 2·10⁶
    needs 19 squarings (NaN before)."""
    model = jt.qubit_example(g=1e-3, beta=0.5, lam=0.3, tau=0.01)
    rho0 = jnp.array([[0.2, 0.3 - 0.1j], [0.3 + 0.1j, 0.8]])
    times = np.array([0.0, 3e5, 1e6, 4e6])  # not uniform: one propagator per interval
    out = np.asarray(jt.propagate(model, rho0, times))
    for k, t in enumerate(times):
        np.testing.assert_allclose(out[k], _eigen_route(model, rho0, t), atol=2e-12, err_msg=str(t))
    assert np.abs(out[1] - out[-1]).max() > 1e-3  # not yet stationary: the test compares a dynamics


def test_a_batch_of_models_and_the_first_time():
    lams = jnp.array([0.0, 0.05, 0.2])
    model = jt.qubit_example(beta=2.0, lam=lams, tau=0.01)
    rho0 = jt.thermal_state(2, 0.3, 1.0)
    out = np.asarray(jt.propagate(model, rho0, np.array([1e9, 2e9])))  # times[0] alone needs the squarings
    np.testing.assert_allclose(out[:, 0], np.asarray(jt.steady_state(model)), atol=1e-14)
    np.testing.assert_allclose(out[:, 1], out[:, 0], atol=1e-14)


def test_under_jit_and_grad_at_long_times():
    """A model traced by grad/jit with concrete times: ≥ 64 squarings with the stationary mode removed.
    d/dλ of ρ(10⁹)₀₁ equals d/dλ of the steady state's, and a central finite difference."""
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    times = np.array([0.0, 1e9])

    def coherence(lam):
        return jnp.real(jt.propagate(jt.qubit_example(beta=1.0, lam=lam, tau=0.01), rho0, times)[-1, 0, 1])

    def stationary(lam):
        return jnp.real(jt.steady_state(jt.qubit_example(beta=1.0, lam=lam, tau=0.01))[0, 1])

    value = jax.jit(coherence)(0.1)
    np.testing.assert_allclose(value, stationary(0.1), atol=1e-14)
    g = jax.grad(coherence)(0.1)
    h = 1e-5
    fd = (stationary(0.1 + h) - stationary(0.1 - h)) / (2 * h)
    np.testing.assert_allclose(g, jax.grad(stationary)(0.1), rtol=1e-10)
    np.testing.assert_allclose(g, fd, rtol=1e-8)


def test_without_a_unique_steady_state_long_times_stay_unitary():
    """V = 0: every energy eigenstate is stationary (no projector to remove); a diagonal ρ0 under the
    diagonal H_S stays as it is at t = 10⁷ (22 squarings)."""
    h = jnp.diag(jnp.array([-0.5, 0.5]))
    model = jt.CoherentCollisionModel(h, h, jnp.zeros((4, 4)), beta=1.0, chi=jnp.zeros((2, 2)), lam=0.0, tau=0.01)
    rho0 = jnp.diag(jnp.array([0.3, 0.7])).astype(complex)
    out = np.asarray(jt.propagate(model, rho0, np.array([0.0, 1e7])))
    np.testing.assert_allclose(out[-1], rho0, atol=1e-15)


def test_traced_times_beyond_the_range_are_caught_under_validate_always():
    """Inside jit with traced times the default 17 squarings stay (the count cannot be chosen from the
    times): NaN beyond ‖𝓛‖₁Δt ≈ 7·10⁵, which validate="always" turns into an error naming times."""
    model = jt.qubit_example(beta=1.0, lam=0.1, tau=0.01)
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    run = jax.jit(lambda t: jt.propagate(model, rho0, t))
    np.testing.assert_allclose(run(jnp.array([0.0, 10.0]))[-1], jt.propagate(model, rho0, np.array([0.0, 10.0]))[-1])
    with jt.config.override(validate="always"), pytest.raises(Exception, match="times: a step of these traced"):
        jax.block_until_ready(jax.jit(lambda t: jt.propagate(model, rho0, t))(jnp.array([0.0, 1e7])))


def test_an_overflowing_interval_is_refused_naming_times():
    model = jt.qubit_example()
    with pytest.raises(ValueError, match="times: .*overflows"):
        jt.propagate(model, jt.thermal_state(2, 1.0, 1.0), np.array([0.0, 1e308]))


def test_expm_removes_the_stationary_mode():
    """e^{𝓛t} at t‖𝓛‖₁ = 2·10¹² through expm itself: plain squarings drift along ρ_ss (≳ 10⁻⁶ here),
    with the projector the columns are ρ_ss to rounding (e^{𝓛t} → vec(ρ_ss) vec(1)ᵀ)."""
    model = jt.qubit_example(beta=1.0, lam=0.1, tau=0.01)
    lv = jt.liouvillian(model)
    p = jnp.outer(jt.steady_state(model).reshape(4), jnp.eye(2).reshape(4)).astype(lv.dtype)
    t = 1e12
    plain = np.asarray(expm(lv * t, 64))
    removed = np.asarray(expm(lv * t, 64, p))
    assert np.abs(plain - np.asarray(p)).max() > 1e-7
    np.testing.assert_allclose(removed, p, atol=1e-14)
