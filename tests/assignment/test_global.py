"""Finite global models: energy bookkeeping, exact reduced map and generator, minimal dissipation
(docs/assignment.md), against SciPy matrix exponentials, finite differences and closed forms."""

import warnings
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm

from jaxthermo import GlobalModel, energy_assignment, exact_generator, minimal_dissipation, reduced_map
from jaxthermo._quadrature import composite_gauss_legendre
from jaxthermo._superoperators import apply_superoperator
from jaxthermo.assignment import canonical_hamiltonian
from tests.helpers import random_hermitian, random_state


def _hermitian(d, rng, scale=1.0):
    return scale * random_hermitian(d, rng)


def _model(rng, d_s=2, d_e=3, coupling=0.4):
    return GlobalModel(_hermitian(d_s, rng), _hermitian(d_s * d_e, rng, coupling), _hermitian(d_e, rng))


def _reduce(x, d_s, d_e):
    return x.reshape(d_s, d_e, d_s, d_e).trace(axis1=1, axis2=3)


def test_energy_bookkeeping_sums_and_first_laws():
    rng = np.random.default_rng(0)
    model = _model(rng)
    rho0 = random_state(6, rng)  # correlated initial state
    times = np.linspace(0.0, 4.0, 41)
    out = energy_assignment(model, rho0, times)
    # against an independent route: SciPy expm, then Q̃_X = ∫Tr{H_X ρ̇} by adaptive quadrature
    h_x = np.asarray(model.local_hamiltonians())
    h = h_x.sum(0)
    rho = lambda t: expm(-1j * h * t) @ rho0 @ expm(1j * h * t)
    for j in (7, 40):
        u_ref = [np.trace(hx @ rho(times[j])).real for hx in h_x]
        np.testing.assert_allclose(out.energies[:, j], u_ref, atol=1e-12)
        for x in range(3):
            rate = lambda t: np.trace(-1j * h_x[x] @ (h @ rho(t) - rho(t) @ h)).real
            q_ref = quad(rate, 0.0, times[j], epsabs=1e-12, epsrel=1e-12)[0]
            assert abs(float(out.heats[x, j]) - q_ref) < 1e-9
    np.testing.assert_allclose(out.heats.sum(0), 0.0, atol=1e-13)  # Σ_X Q̃_X = 0
    for a in (out.bare, out.interaction):
        np.testing.assert_allclose(a.energy - a.energy[0], a.heat + a.work, atol=1e-13)
        np.testing.assert_allclose(a.energy_change, a.heat + a.work, atol=1e-13)
    np.testing.assert_allclose(out.bare.heat, out.interaction.heat, atol=0)  # both −Q̃_E
    np.testing.assert_allclose(out.bare.heat, -out.heats[2], atol=1e-13)
    np.testing.assert_allclose(out.interaction.energy - out.bare.energy, out.energies[1], atol=0)


def test_reduced_map_and_its_derivative():
    rng = np.random.default_rng(1)
    d_s, d_e = 2, 3
    model = _model(rng, d_s, d_e)
    rho_e = random_state(d_e, rng)
    h = np.asarray(model.hamiltonian())
    t = 0.83
    phi, phi_dot = reduced_map(model, rho_e, t)
    x = _hermitian(d_s, rng)
    u = expm(-1j * h * t)
    ref = _reduce(u @ np.kron(x, rho_e) @ u.conj().T, d_s, d_e)
    np.testing.assert_allclose((phi @ x.reshape(-1)).reshape(d_s, d_s), ref, atol=1e-13)
    eps = 1e-5
    fd = (np.asarray(reduced_map(model, rho_e, t + eps)[0]) - np.asarray(reduced_map(model, rho_e, t - eps)[0])) / (
        2 * eps
    )
    np.testing.assert_allclose(phi_dot, fd, atol=1e-8)


def test_exact_generator_drives_the_reduced_state():
    rng = np.random.default_rng(2)
    model = _model(rng)
    rho_e, rho_s = random_state(3, rng), random_state(2, rng)
    t = 1.1
    phi, phi_dot = reduced_map(model, rho_e, t)
    gen = exact_generator(model, rho_e, t)
    np.testing.assert_allclose(gen @ (phi @ rho_s.reshape(-1)), phi_dot @ rho_s.reshape(-1), atol=1e-12)
    np.testing.assert_allclose(gen @ phi, phi_dot, atol=1e-11)


def test_minimal_dissipation_at_zero_coupling_is_the_bare_hamiltonian():
    rng = np.random.default_rng(3)
    h_s, h_e = _hermitian(2, rng), _hermitian(3, rng)
    model = GlobalModel(h_s, np.zeros((6, 6)), h_e)
    out = minimal_dissipation(model, random_state(2, rng), random_state(3, rng), np.linspace(0, 2, 9))
    np.testing.assert_allclose(out.hamiltonian, np.broadcast_to(h_s, (9, 2, 2)), atol=1e-12)
    np.testing.assert_allclose(out.rates, 0.0, atol=1e-12)
    np.testing.assert_allclose(out.assignment.heat, 0.0, atol=1e-13)
    np.testing.assert_allclose(out.assignment.work, 0.0, atol=1e-13)


def test_initial_canonical_hamiltonian_is_mean_field_shifted():
    """At t = 0, L_0 = −i[H_S + Tr_E(H_I ρ_E), ·]: K_S(0) is that operator (trace convention Tr H_S)."""
    rng = np.random.default_rng(4)
    d_s, d_e = 2, 3
    model = _model(rng, d_s, d_e)
    rho_e = random_state(d_e, rng)
    out = minimal_dissipation(model, random_state(d_s, rng), rho_e, np.array([0.0, 0.1]))
    mean_field = _reduce(np.asarray(model.h_interaction) @ np.kron(np.eye(d_s), rho_e), d_s, d_e)
    expected = np.asarray(model.h_system) + mean_field - np.trace(mean_field) / d_s * np.eye(d_s)
    np.testing.assert_allclose(out.hamiltonian[0], expected, atol=1e-12)
    assert abs(np.trace(out.hamiltonian[1]).real - np.trace(model.h_system).real) < 1e-12


def test_minimal_dissipation_first_law_with_independent_work_and_convergence():
    """W^md from ∫Tr{K̇_S ρ_S} (K̇ by autodiff in t) equals ΔU^md − Q^md; Q^md converges at order 2n."""
    rng = np.random.default_rng(5)
    d_s, d_e = 2, 2
    model = _model(rng, d_s, d_e, coupling=0.3)
    rho_s, rho_e = random_state(d_s, rng), random_state(d_e, rng)
    t_end = 1.5
    fine = minimal_dissipation(model, rho_s, rho_e, np.linspace(0, t_end, 65), order=6)
    assert not np.any(fine.singular)
    trace = np.trace(model.h_system).real

    def k_and_rho(t):
        phi, phi_dot = reduced_map(model, rho_e, t)
        k = canonical_hamiltonian(partial(apply_superoperator, jnp.linalg.solve(phi.T, phi_dot.T).T), d_s, trace)
        return k, (phi @ rho_s.reshape(-1)).reshape(d_s, d_s)

    def work_rate(t):
        (k, rho), (k_dot, _) = jax.jvp(k_and_rho, (t,), (jnp.ones_like(t),))
        return jnp.real(jnp.trace(k_dot @ rho))

    nodes, weights = composite_gauss_legendre(np.linspace(0, t_end, 33), 6)
    w_indep = float(jnp.sum(jax.vmap(work_rate)(nodes.reshape(-1)) * weights.reshape(-1)))
    assert abs(w_indep - float(fine.assignment.work[-1])) < 1e-10
    errors = []
    for n in (2, 4, 8):
        coarse = minimal_dissipation(model, rho_s, rho_e, np.linspace(0, t_end, n + 1), order=2)
        errors.append(abs(float(coarse.assignment.heat[-1] - fine.assignment.heat[-1])))
    slopes = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(slopes > 3.5), (errors, slopes)  # 2 nodes per interval: order 4


def test_singular_map_is_detected_and_reported():
    """Resonant exchange of two two-level systems, environment empty: Φ_t ∝ amplitude damping with
    survival amplitude cos(γt), non-invertible at γt = π/2."""
    gamma = 0.7
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    h_i = gamma * (np.kron(sm.T, sm) + np.kron(sm, sm.T))
    model = GlobalModel(np.diag([0.0, 1.0]), h_i, np.diag([0.0, 1.0]))
    t_star = np.pi / (2 * gamma)
    times = np.linspace(0, 2 * t_star, 9)  # contains t_star exactly
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = minimal_dissipation(model, np.diag([0.3, 0.7]), np.diag([1.0, 0.0]), times)
    assert np.isclose(out.peak_times, t_star).any()
    assert out.singular[4] and not out.singular[:4].any()
    assert np.isnan(out.assignment.energy[4]) and np.all(np.isfinite(out.assignment.energy[:4]))
    assert np.all(np.isfinite(out.assignment.heat[:4])) and np.all(np.isnan(out.assignment.heat[4:]))
    assert np.all(np.isnan(out.rates[4]))
    # the damping rate 2γ tan(γt) is negative for π/2 < γt < π: a non-Markovian interval, reported
    assert out.non_markovian_intervals == [(pytest.approx(times[5]), pytest.approx(times[7]))]
    # away from the singular time the rate of the damping channel matches −2 d/dt log|cos γt|
    t = 0.4 * t_star
    form = minimal_dissipation(model, np.diag([0.3, 0.7]), np.diag([1.0, 0.0]), np.array([0.0, t]))
    assert abs(float(form.rates[1].max()) - 2 * gamma * np.tan(gamma * t)) < 1e-10


def test_bad_input_is_rejected():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="h_system"):
        GlobalModel(np.array([[0.0, 1.0], [0.0, 0.0]]), np.zeros((4, 4)), np.eye(2))
    with pytest.raises(ValueError, match="h_interaction"):
        GlobalModel(np.eye(2), np.zeros((3, 3)), np.eye(2))
    model = _model(rng)
    with pytest.raises(ValueError, match="times"):
        energy_assignment(model, np.eye(6) / 6, np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="rho_env"):
        minimal_dissipation(model, np.eye(2) / 2, np.eye(3), np.array([0.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minimal_dissipation(model, np.eye(2) / 2, np.eye(3) / 3, np.array([0.0, 0.5]))  # no warning


def test_driven_system_bookkeeping_against_scipy_ode():
    """H_S(t) = H_S + 0.5 sin(1.3t) σ_x: Σ_X Q̃_X = 0 to rounding, first laws at RK4 order,
    Ũ_X and W̃_S against SciPy's adaptive ODE solver."""
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(7)
    sx = np.array([[0.0, 1.0], [1.0, 0.0]], complex)
    base = _model(rng)
    model = GlobalModel(
        base.h_system, base.h_interaction, base.h_environment, drive=lambda t: 0.5 * jnp.sin(1.3 * t) * sx
    )
    rho0 = random_state(6, rng)
    times = np.linspace(0.0, 3.0, 16)
    residuals = []
    for substeps in (2, 4):
        out = energy_assignment(model, rho0, times, substeps=substeps)
        np.testing.assert_allclose(out.heats.sum(0), 0.0, atol=1e-14)
        residuals.append(
            max(float(np.max(np.abs(a.energy - a.energy[0] - a.heat - a.work))) for a in (out.bare, out.interaction))
        )
    assert 12 < residuals[0] / residuals[1] < 20, residuals  # O(h⁴)
    h_x = np.asarray(base.local_hamiltonians())
    drive = lambda t: np.kron(0.5 * np.sin(1.3 * t) * sx, np.eye(3))
    drive_dot = lambda t: np.kron(0.65 * np.cos(1.3 * t) * sx, np.eye(3))

    def rhs(t, y):
        rho = y[:-1].reshape(6, 6)
        h = h_x.sum(0) + drive(t)
        return np.concatenate([(-1j * (h @ rho - rho @ h)).ravel(), [np.trace(drive_dot(t) @ rho)]])

    sol = solve_ivp(
        rhs, (0.0, 3.0), np.concatenate([rho0.ravel(), [0.0]]).astype(complex), t_eval=times, rtol=1e-12, atol=1e-13
    )
    out = energy_assignment(model, rho0, times, substeps=16)
    for j in (5, 15):
        rho = sol.y[:-1, j].reshape(6, 6)
        u_ref = [np.trace((h_x[0] + drive(times[j])) @ rho).real] + [np.trace(h_x[x] @ rho).real for x in (1, 2)]
        np.testing.assert_allclose(out.energies[:, j], u_ref, atol=1e-8)
        assert abs(float(out.works[0, j]) - sol.y[-1, j].real) < 1e-8
    with pytest.raises(ValueError, match="drive"):
        minimal_dissipation(model, np.eye(2) / 2, np.eye(3) / 3, times)
    bad = GlobalModel(base.h_system, base.h_interaction, base.h_environment, drive=lambda t: 1j * t * sx + 1j * sx)
    with pytest.raises(ValueError, match="drive"):
        energy_assignment(bad, rho0, times)


def test_driven_rk4_step_beyond_its_stability_is_refused_and_an_inaccurate_one_flagged():
    """Strong coupling, H_S(t) = H_S + 1.2 sin(3t) σ_x, spread of the spectrum of H(t) ω_max ≈ 10. RK4 on
    ρ̇ = −i[H, ρ] amplifies a Bohr frequency ω by |R(iωh)| > 1 for ωh > 2√2: 11 grid points on [0, 40] with
    8 substeps (ω_max h ≈ 4.1) returned W̃_S ≈ 7e46 for a true |W̃_S| < 1 (SciPy's adaptive solver), with
    Σ_X Q̃_X = 0 still exact, and no error. Now ValueError naming substeps. On [0, 20] with 21 points
    (ω_max h ≈ 1.0) the work is 0.06 off: a RuntimeWarning says so, and the substeps it suggests reach
    SciPy's values to 1e-3 without a warning."""
    from scipy.integrate import solve_ivp

    sx = np.array([[0.0, 1.0], [1.0, 0.0]], complex)
    h_s, h_e = np.diag([0.0, 1.0]).astype(complex), np.diag([0.0, 0.8, 1.9]).astype(complex)
    h_i = _hermitian(6, np.random.default_rng(5), 1.0)
    model = GlobalModel(h_s, h_i, h_e, drive=lambda t, p: p * jnp.sin(3.0 * t) * sx, drive_params=1.2)
    rho0 = np.kron(np.array([[0.7, 0.2], [0.2, 0.3]]), np.diag([0.5, 0.3, 0.2])).astype(complex)
    with pytest.raises(ValueError, match=r"substeps=8: .*2√2.*substeps >= 12"):
        energy_assignment(model, rho0, np.linspace(0.0, 40.0, 11), substeps=8)

    h0 = np.kron(h_s, np.eye(3)) + h_i + np.kron(np.eye(2), h_e)
    big_sx = np.kron(sx, np.eye(3))

    def rhs(t, y):
        rho = y[:-1].reshape(6, 6)
        h = h0 + 1.2 * np.sin(3.0 * t) * big_sx
        return np.concatenate([(-1j * (h @ rho - rho @ h)).ravel(), [np.trace(3.6 * np.cos(3.0 * t) * big_sx @ rho)]])

    times = np.linspace(0.0, 20.0, 21)
    y0 = np.concatenate([rho0.ravel(), [0.0]])
    work = solve_ivp(rhs, (0.0, 20.0), y0, t_eval=times, rtol=1e-11, atol=1e-12, method="DOP853").y[-1].real
    with pytest.warns(RuntimeWarning, match=r"substeps=8: the RK4 phase error") as record:
        coarse = energy_assignment(model, rho0, times, substeps=8)
    assert np.max(np.abs(np.asarray(coarse.works[0]) - work)) > 1e-2
    need = int(str(record[0].message).split("substeps >= ")[1].split()[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fine = energy_assignment(model, rho0, times, substeps=need)
    assert np.max(np.abs(np.asarray(fine.works[0]) - work)) < 1e-3


def _singular_2x3():
    """A strong-coupling 2 ⊗ 3 model whose Φ_t is exactly singular at t_0 ≈ 3.7751, located by NumPy: det Φ_t
    is real (Φ_t preserves Hermiticity) and brentq finds its zero; σ_min/σ_max < 1e-9 there.
    Returns ``(h_s, h_i, h_e, rho_s, rho_e, t_0)``."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(4)
    a = rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6))
    h_s, h_e, h_i = np.diag([0.0, 1.0]), np.diag([0.0, 0.8, 1.9]), 0.45 * (a + a.conj().T)
    rho_e = np.diag([0.6, 0.3, 0.1]).astype(complex)
    rho_s = np.array([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]])
    h = np.kron(h_s, np.eye(3)) + h_i + np.kron(np.eye(2), h_e)

    def phi(t):
        u = expm(-1j * h * t)
        images = [_reduce(u @ np.kron(e.reshape(2, 2), rho_e) @ u.conj().T, 2, 3) for e in np.eye(4)]
        return np.stack([x.reshape(4) for x in images], axis=1)

    assert max(abs(np.linalg.det(phi(t)).imag) for t in (3.0, 3.7, 3.9)) < 1e-14
    t0 = brentq(lambda t: np.linalg.det(phi(t)).real, 3.7, 3.9, xtol=1e-14)
    s = np.linalg.svd(phi(t0), compute_uv=False)
    assert s[-1] / s[0] < 1e-9
    return h_s, h_i, h_e, rho_s, rho_e, t0


def test_singular_map_between_samples_is_found_from_the_sign_of_its_determinant():
    """K_S ~ 1/(t − t_0) near the singular point of :func:`_singular_2x3` and the heat integral through t_0 is
    undefined. On the grid 0, 1, …, 5 no sample comes within 1e-3 of t_0, so σ_min/σ_max stayed above rcond:
    the old code returned a finite Q^md(t ≥ 4) (−8.96 at t = 12, −0.64 and 0.81 on 1201 and 4801 points)
    with no warning. Now the nodes around the sign change of det Φ_t are flagged, Q^md and W^md are NaN
    from [3, 4] on, and the flagged nodes (all in peak_times) bracket t_0."""
    h_s, h_i, h_e, rho_s, rho_e, t0 = _singular_2x3()
    times = np.linspace(0.0, 5.0, 6)
    nodes, _ = composite_gauss_legendre(times, 4)
    assert np.min(np.abs(np.asarray(nodes) - t0)) > 1e-3  # no sample near t_0
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = minimal_dissipation(GlobalModel(h_s, h_i, h_e), rho_s, rho_e, times, order=4)
    assert not np.any(out.singular)  # σ_min/σ_max above rcond at every grid point
    heat = np.asarray(out.assignment.heat)
    assert np.all(np.isfinite(heat[:4])) and np.all(np.isnan(heat[4:]))
    assert np.all(np.isnan(np.asarray(out.assignment.work)[4:]))
    flagged = np.asarray(out.nodes)[np.asarray(out.singular_nodes)]
    assert np.any(flagged < t0) and np.any(flagged > t0) and np.all((flagged > 3.0) & (flagged < 5.0))
    assert np.all(np.isin(flagged, out.peak_times))  # peak_times also lists grid minima of σ_min/σ_max (t = 1)


def test_exact_generator_at_a_singular_map_warns():
    """At the singular point t_0 of :func:`_singular_2x3` L_t is infinite; the solve returned entries of
    2e11 (rounding noise) without a word. Now a RuntimeWarning; at t = 1 (σ_min/σ_max = 0.15) none, and the
    generator still reproduces ρ̇_S = L_t ρ_S against SciPy's finite difference of Φ_t."""
    h_s, h_i, h_e, rho_s, rho_e, t0 = _singular_2x3()
    model = GlobalModel(h_s, h_i, h_e)
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        exact_generator(model, rho_e, t0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        gen = np.asarray(exact_generator(model, rho_e, 1.0))
    h = np.kron(h_s, np.eye(3)) + h_i + np.kron(np.eye(2), h_e)

    def rho_at(t):
        u = expm(-1j * h * t)
        return _reduce(u @ np.kron(rho_s, rho_e) @ u.conj().T, 2, 3)

    rho_dot = (rho_at(1.0 + 1e-5) - rho_at(1.0 - 1e-5)) / 2e-5
    np.testing.assert_allclose((gen @ rho_at(1.0).reshape(4)).reshape(2, 2), rho_dot, atol=1e-8)
