"""Model C under a physicist's trial (helper-47).

Independent routes: the definition of σ_min/σ_max, plain NumPy/SciPy constructions of the same quantities.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from jaxthermo import GlobalModel, QuadraticReservoirs, energy_assignment, minimal_dissipation, quadratic_energetics
from jaxthermo.assignment import (
    bare_assignment,
    canonical_hamiltonian,
    exact_generator,
    interaction_assignment,
    inverse_condition,
    non_markovian_intervals,
    reduced_map,
)

SM = np.array([[0.0, 1.0], [0.0, 0.0]])
H_S = np.diag([0.0, 1.0])
H_E = np.diag([0.0, 1.3])
H_I = 0.4 * (np.kron(SM.T, SM) + np.kron(SM, SM.T))
RHO_S = np.diag([0.3, 0.7])
RHO_E = np.diag([0.8, 0.2])


# ---------------------------------------------------------------- inverse_condition and its callers


def test_inverse_condition_of_the_zero_matrix_is_zero():
    # singular: σ_min = σ_max = 0; the docstring promises 0 "when singular" (it was 0/0 = NaN)
    assert float(inverse_condition(np.zeros((3, 3)))) == 0.0
    np.testing.assert_array_equal(np.asarray(inverse_condition(np.zeros((2, 2, 2)))), [0.0, 0.0])
    s = np.linalg.svd(np.array([[2.0, 1.0], [0.5, 3.0]]), compute_uv=False)
    assert float(inverse_condition(np.array([[2.0, 1.0], [0.5, 3.0]]))) == pytest.approx(s[-1] / s[0], rel=1e-14)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_inverse_condition_refuses_a_non_finite_matrix(bad):
    with pytest.raises(ValueError, match="matrix must be finite"):
        inverse_condition(np.array([[bad, 0.0], [0.0, 1.0]]))
    assert np.isnan(float(jax.jit(inverse_condition)(np.array([[np.nan, 0.0], [0.0, 1.0]]))))


def test_minimal_dissipation_flags_a_non_finite_map():
    # at t = 1e300 with Bohr frequencies ~1e10 the phases E·t overflow and Φ_t is NaN: K_S, U^md were NaN while
    # `singular` said False and no warning came (σ_min/σ_max = NaN and NaN < rcond is False)
    model = GlobalModel(1e10 * H_S, 1e10 * H_I, 1e10 * H_E)
    with pytest.warns(RuntimeWarning, match="non-invertible or not finite"):
        out = minimal_dissipation(model, RHO_S, RHO_E, np.array([0.0, 1.0, 1e300]))
    assert np.isnan(float(out.inverse_condition[2]))
    np.testing.assert_array_equal(np.asarray(out.singular), [False, False, True])
    assert 1e300 in out.peak_times


def test_quadratic_energetics_flags_a_non_finite_propagator():
    res = QuadraticReservoirs.from_regime(2, 2, detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1)
    res = res.replace(h1=1e10 * res.h1, h2=1e10 * res.h2, coupling=1e10 * res.coupling)
    with pytest.warns(RuntimeWarning, match="G\\(t\\) is"):
        out = res.energetics(np.array([0.0, 1.0, 1e300]))
    np.testing.assert_array_equal(np.asarray(out.singular), [False, False, True])


def test_exact_generator_names_t_for_a_non_finite_map():
    model = GlobalModel(1e10 * H_S, 1e10 * H_I, 1e10 * H_E)
    with pytest.raises(ValueError, match="t=1e"):
        exact_generator(model, RHO_E, 1e300)


# ---------------------------------------------------------------- non-Markovian intervals and NaN rates


def test_non_markovian_intervals_refuses_nan_rates():
    # a NaN row used to be skipped as Markovian: [(1, 1)] here, with t = 0 and 2 (rates undefined) left out
    rates = np.array([[np.nan, 1.0], [-1.0, 1.0], [np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"rates: NaN at 2 time\(s\), first t = \[0.0, 2.0\]"):
        non_markovian_intervals([0.0, 1.0, 2.0], rates)


@pytest.mark.parametrize(
    ("times", "rates", "tol", "match"),
    [
        ([0.0, 1.0, 2.0], np.ones((2, 3)), 1e-9, r"rates must have shape \(T, m\) = \(3, m\)"),  # one row short
        ([0.0, 1.0, 2.0], np.ones(3), 1e-9, r"rates must have shape"),  # (T,) instead of (T, m)
        ([0.0, 1.0, 2.0], -np.ones((3, 2)), np.nan, "tol"),  # NaN tol: every comparison False, nothing reported
        ([0.0, 1.0, 2.0], -np.ones((3, 2)), -2.0, "tol"),
        ([0.0, 2.0, 1.0], -np.ones((3, 2)), 1e-9, "times"),
    ],
)
def test_non_markovian_intervals_refuses_meaningless_input(times, rates, tol, match):
    with pytest.raises(ValueError, match=match):
        non_markovian_intervals(times, rates, tol)


def test_minimal_dissipation_intervals_name_the_singular_times():
    """Resonant exchange, environment empty: the damping rate 2γ tan(γt) (closed form) is negative for
    π/2 < γt < π; Φ_t is singular at γt = π/2 and 3π/2 where it was counted as a zero (Markovian) rate."""
    gamma = 0.7
    model = GlobalModel(H_S, gamma * (np.kron(SM.T, SM) + np.kron(SM, SM.T)), np.diag([0.0, 1.0]))
    t_star = np.pi / (2 * gamma)
    times = np.linspace(0.0, 4 * t_star, 17)  # singular at times[4] and times[12]
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = minimal_dissipation(model, RHO_S, np.diag([1.0, 0.0]), times)
    closed = 2 * gamma * np.tan(gamma * times)
    expected = [(times[i], times[j]) for i, j in ((5, 7), (13, 15))]  # tan < 0 on (π/2, π) and (3π/2, 2π)
    assert np.all(closed[[5, 6, 7, 13, 14, 15]] < 0) and np.all(closed[[1, 2, 3, 9, 10, 11]] > 0)
    with pytest.warns(RuntimeWarning, match=r"undefined \(Φ_t singular\) at 2 grid time"):
        found = out.non_markovian_intervals
    assert found == [(pytest.approx(a), pytest.approx(b)) for a, b in expected]


# ---------------------------------------------------------------- bare / interaction assignments: shapes


@pytest.mark.parametrize("assign", [bare_assignment, interaction_assignment])
def test_assignments_name_mismatched_series(assign):
    three, four = np.ones(3), np.ones(4)
    with pytest.raises(ValueError, match=r"share the time axis .* u_s \(3,\), u_i \(4,\)"):
        assign(three, four, three, three, three)
    with pytest.raises(ValueError, match=r"u_s must be a series .* u_s \(\)"):
        assign(1.0, three, three, three, three)
    with pytest.raises(ValueError, match=r"batch\) axes do not broadcast; .* u_s \(2, 3\), u_i \(4, 3\)"):
        assign(np.ones((2, 3)), np.ones((4, 3)), three, three, three)


def test_a_batched_series_gives_fields_of_one_shape():
    # u_s for two runs, the rest shared: every field is (2, T); W of the bare assignment was (T,) beside U (2, T)
    rng = np.random.default_rng(47)
    u_s, u_i, q_s, q_i, w_s = rng.normal(size=(2, 5)), *rng.normal(size=(4, 5))
    bare, inter = bare_assignment(u_s, u_i, q_s, q_i, w_s), interaction_assignment(u_s, u_i, q_s, q_i, w_s)
    for field in (*bare, *inter):
        assert np.shape(field) == (2, 5)
    # the table of docs/assignment.md §2, row by row
    np.testing.assert_allclose(bare.work, np.broadcast_to(w_s - (u_i - u_i[0]), (2, 5)), atol=1e-15)
    np.testing.assert_allclose(bare.energy_change, u_s - u_s[:, :1], atol=1e-15)
    np.testing.assert_allclose(inter.energy, u_s + u_i, atol=1e-15)
    np.testing.assert_allclose(inter.heat, np.broadcast_to(q_s + q_i, (2, 5)), atol=1e-15)


# ---------------------------------------------------------------- long times: phase rounding


def _two_qubit_energies(times):
    """Ũ_X (3, T) in float64 by SciPy's expm: the independent reference."""
    h_x = [np.kron(H_S, np.eye(2)), H_I, np.kron(np.eye(2), H_E)]
    rho0 = np.kron(RHO_S, RHO_E)
    out = []
    for t in times:
        u = expm(-1j * sum(h_x) * t)
        rho = u @ rho0 @ u.conj().T
        out.append([np.trace(x @ rho).real for x in h_x])
    return np.array(out).T


def test_float32_at_long_times_warns_of_phase_rounding():
    """README promises float32 assigned energies to ~1e-6 relative; at t = 1e4 they were 2e-4 off without a word
    (each eigenvalue E is known to ε·max|E|, its phase to ε·max|E|·t = 2.7e-3 rad in float32)."""
    model = GlobalModel(H_S, H_I, H_E)
    times = np.linspace(1e4, 1e4 + 1e-2, 5)
    with pytest.warns(RuntimeWarning, match=r"rounding error of about eps·max\|E\|·t = 0.0027 rad in float32"):
        out = energy_assignment(model, np.kron(RHO_S, RHO_E).astype(np.float32), times)
    true = _two_qubit_energies(times)
    assert np.max(np.abs(np.asarray(out.energies) - true)) > 1e-4  # the warned-of error is real
    with pytest.warns(RuntimeWarning, match="phases"):
        minimal_dissipation(model, RHO_S.astype(np.float32), RHO_E.astype(np.float32), times)
    with pytest.warns(RuntimeWarning, match="^t: up to t = 1e"):
        reduced_map(model, RHO_E.astype(np.float32), 1e4)
    f32 = np.float32
    res = QuadraticReservoirs(
        np.diag([1.0, 2.0]).astype(f32), np.eye(1, dtype=f32), np.ones((2, 1), f32), f32(1), f32(1)
    )
    with pytest.warns(RuntimeWarning, match="in float32"):
        quadratic_energetics(res, np.array([0.0, 1e4], np.float32))
    # float64 at the same times, float32 at short times: within the promise, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out64 = energy_assignment(model, np.kron(RHO_S, RHO_E), times)
        energy_assignment(model, np.kron(RHO_S, RHO_E).astype(np.float32), np.linspace(0.0, 10.0, 5))
    np.testing.assert_allclose(np.asarray(out64.energies), true, atol=1e-10)


# ---------------------------------------------------------------- nested lists as model fields


def test_nested_lists_are_accepted_as_matrices():
    """A nested list was a pytree of scalars: under the compiled core each entry became a tracer and np.shape
    failed with TracerArrayConversionError (minimal_dissipation, quadratic_energetics); now one array."""
    h1, h2, g = [[1.0, 0.2], [0.2, 1.4]], [[2.0]], [[0.5], [0.3]]
    res = QuadraticReservoirs(h1, h2, g, beta1=2, beta2=1.0, mu1=0.3)
    times = np.linspace(0.0, 3.0, 4)
    out = res.energetics(times)
    # independent route: R(t) = U R(0) U†, U = expm(−iMt), R(0) = f(β(h − μ)) blockwise (Fermi)
    m = np.block([[np.array(h1), np.array(g)], [np.array(g).T, np.array(h2)]])
    w, v = np.linalg.eigh(2.0 * (np.array(h1) - 0.3 * np.eye(2)))
    r0 = np.zeros((3, 3))
    r0[:2, :2] = v @ np.diag(1 / (np.exp(w) + 1)) @ v.T
    r0[2, 2] = 1 / (np.exp(2.0) + 1)
    for t, u_s in zip(times, np.asarray(out.energies[0])):
        u = expm(-1j * m * t)
        assert u_s == pytest.approx(np.trace(np.array(h1) @ (u @ r0 @ u.conj().T)[:2, :2]).real, abs=1e-13)
    model = GlobalModel(H_S.tolist(), H_I.tolist(), H_E.tolist())
    md = minimal_dissipation(model, RHO_S, RHO_E, times)
    ref = minimal_dissipation(GlobalModel(H_S, H_I, H_E), RHO_S, RHO_E, times)
    np.testing.assert_allclose(np.asarray(md.assignment.heat), np.asarray(ref.assignment.heat), atol=1e-15)


# ---------------------------------------------------------------- canonical form: a NumPy generator


def test_a_numpy_generator_is_named_not_d():
    # L = −i[H, ·] written with NumPy cannot be traced; the message blamed d ("d=2: the generator does not act on
    # (2, 2) matrices") though d was right; it now names the generator and what it needs
    h = np.array([[1.0, 0.5], [0.5, -0.3]])
    with pytest.raises(ValueError, match=r"^generator: must be a JAX-traceable function of a \(2, 2\) array"):
        canonical_hamiltonian(lambda r: -1j * (h @ np.asarray(r) - np.asarray(r) @ h), 2)
    k = canonical_hamiltonian(lambda r: -1j * (h @ r - r @ h), 2, trace=np.trace(h))  # the same map in jax.numpy
    np.testing.assert_allclose(np.asarray(k), h, atol=1e-15)  # docs/assignment.md §3 sanity case: K_S = H


# ---------------------------------------------------------------- drives that cannot be traced


def test_an_untraceable_drive_is_named():
    # JAX's own TracerArrayConversionError / TracerBoolConversionError / a bare signature TypeError came out of
    # energy_assignment without naming the drive
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    rho0 = np.kron(RHO_S, RHO_E)
    for drive in (lambda t: np.cos(t) * sx, lambda t: sx if t > 0.5 else 0 * sx):
        with pytest.raises(ValueError, match=r"^drive: must be a JAX-traceable function .* tracing drive\(t\) failed"):
            energy_assignment(GlobalModel(H_S, H_I, H_E, drive=drive), rho0, [0.0, 1.0])
    one_argument = GlobalModel(H_S, H_I, H_E, drive=lambda t: jnp.cos(t) * sx, drive_params=1.0)
    with pytest.raises(TypeError, match=r"^drive: the model calls drive\(t, drive_params\)"):
        energy_assignment(one_argument, rho0, [0.0, 1.0])
    # the same drive in jax.numpy runs; a zero drive matches SciPy's expm within the RK4 estimate (§7)
    zero = energy_assignment(GlobalModel(H_S, H_I, H_E, drive=lambda t: 0.0 * jnp.cos(t) * sx), rho0, [0.0, 1.0])
    true = np.max(np.abs(np.asarray(zero.energies) - _two_qubit_energies([0.0, 1.0])), axis=0)
    assert np.all(true <= np.asarray(zero.integration_error) + 1e-14)
