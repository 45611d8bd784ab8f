"""Model C under a physicist's trial (helper-53).

Independent routes: SciPy's ``expm`` in float64 (the truth for a float32 run), the Rabi formula of two
exchange-coupled qubits with its phase reduced in ``decimal`` (the truth for a float64 run at long times).
"""

import math
import warnings
from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from jaxthermo import GlobalModel, QuadraticReservoirs, energy_assignment, minimal_dissipation, quadratic_energetics
from jaxthermo.assignment import exact_generator, reduced_map, refine_times

SM = np.array([[0.0, 1.0], [0.0, 0.0]])
N = SM.T @ SM
EXCHANGE = np.kron(SM.T, SM) + np.kron(SM, SM.T)


def _all_arrays(energies):
    """Every array of a constant-H GlobalEnergetics that can carry an error, from Ũ_X (3, T) (docs/assignment.md §2)."""
    u = np.asarray(energies, dtype=float)
    q = u - u[:, :1]
    return np.concatenate([u, q, [u[0] + u[1], q[0] + q[1], -q[1]]])


def _random_hermitian(rng, n, scale=1.0):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return scale * (a + a.conj().T) / 2


# ---------------------------------------------------------------- integration_error of a constant H


def test_constant_h_float32_rounding_estimate_covers_the_true_error():
    # the estimate was exactly 0 ("exact") while a float32 run at t = 300 was off by 1e-4 (ε·max|E|·t)
    rng = np.random.default_rng(3)
    d_s, d_e = 2, 3
    h_s, h_e, h_i = _random_hermitian(rng, d_s), _random_hermitian(rng, d_e), _random_hermitian(rng, d_s * d_e)
    psi = rng.normal(size=d_s * d_e) + 1j * rng.normal(size=d_s * d_e)
    rho0 = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    times = np.array([0.0, 0.7, 3.0, 10.0, 30.0, 100.0, 300.0])
    h_x = [np.kron(h_s, np.eye(d_e)), h_i, np.kron(np.eye(d_s), h_e)]
    reference = []
    for t in times:
        u = expm(-1j * sum(h_x) * t)
        rho = u @ rho0 @ u.conj().T
        reference.append([np.trace(h @ rho).real for h in h_x])
    reference = np.array(reference).T
    c64 = np.complex64
    model = GlobalModel(h_s.astype(c64), h_i.astype(c64), h_e.astype(c64))
    with pytest.warns(RuntimeWarning, match="phases e\\^\\(-iEt\\) carry a rounding error"):  # §1's warning, 3e-4 rad
        out = energy_assignment(model, rho0.astype(c64), times.astype(np.float32))
    true = np.max(np.abs(_all_arrays(out.energies) - _all_arrays(reference)), axis=0)
    est = np.asarray(out.integration_error, dtype=float)
    assert out.integration_error.dtype == np.float32
    assert true[-1] > 1e-5  # a real error, growing with t
    assert np.all(est >= true), (est, true)
    assert np.all(est < 3e3 * true[-1])  # an estimate, not a vacuous number
    assert np.all(np.diff(est) > 0)


def _rabi_system_population(w_s, w_e, g, t):
    """P_S(t) = 1 − (4g²/Ω²) sin²(Ωt/2), Ω = √((ω_S − ω_E)² + 4g²), for |1_S 0_E⟩; Ωt/2 reduced mod 2π in
    60-digit decimal, so the phase carries no ε·Ωt rounding."""
    getcontext().prec = 60
    pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
    delta, gd = Decimal(w_s) - Decimal(w_e), Decimal(g)
    omega = (delta * delta + 4 * gd * gd).sqrt()
    x = (omega * Decimal(float(t)) / 2) % (2 * pi)
    return 1.0 - float(4 * gd * gd / (omega * omega)) * math.sin(float(x)) ** 2


def test_constant_h_float64_long_times_estimate_covers_the_rabi_formula():
    # float64, two exchange-coupled qubits up to t = 3e10 (max|E|·t ≈ 7e10, below the phase warning): the energies are
    # off by up to 7e-7 and the estimate said 0
    w_s, w_e, g = 1.3, 0.7, 0.45
    rho0 = np.zeros((4, 4))
    rho0[2, 2] = 1.0
    times = np.array([0.0] + [3.0**k for k in range(0, 23, 2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = energy_assignment(GlobalModel(w_s * N, g * EXCHANGE, w_e * N), rho0, times)
    p = np.array([_rabi_system_population(w_s, w_e, g, t) for t in times])
    # Ũ_I = E − Ũ_S − Ũ_E with E = ω_S (⟨H_I⟩ = 0 at t = 0)
    reference = np.array([w_s * p, (w_s - w_e) * (1 - p), w_e * (1 - p)])
    true = np.max(np.abs(_all_arrays(out.energies) - _all_arrays(reference)), axis=0)
    est = np.asarray(out.integration_error)
    assert true[-1] > 1e-8
    assert np.all(est >= true), (est, true)
    assert est[-1] < 1e3 * true[-1]


def test_constant_h_estimate_with_and_without_estimate_error_and_its_tolerance():
    """The rounding estimate costs nothing and does not depend on estimate_error; integration_tol now applies to it."""
    model = GlobalModel(N, 0.4 * EXCHANGE, 1.3 * N)
    rho0 = np.kron(np.array([[0.3, 0.1], [0.1, 0.7]]), np.diag([0.8, 0.2]))
    times = np.linspace(0.0, 5.0, 6)
    a = energy_assignment(model, rho0, times)
    b = energy_assignment(model, rho0, times, estimate_error=False)
    np.testing.assert_array_equal(np.asarray(a.integration_error), np.asarray(b.integration_error))
    assert np.all(np.asarray(a.integration_error) > 0) and np.all(np.asarray(a.integration_error) < 1e-13)
    with pytest.warns(RuntimeWarning, match="rounding error .* integration_tol = 1e-30"):
        energy_assignment(model, rho0, times, integration_tol=1e-30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        energy_assignment(model, rho0, times, integration_tol=1e-10)


# ---------------------------------------------------------------- refine_times


def test_refine_times_refuses_an_empty_or_negative_window_and_a_single_point():
    # half_width = 0 gave 201 copies of the centre (one new time: the grid barely refined, no word); a negative one was
    # silently taken as its absolute value; points = 1 gave the single time c − w, not a window around c
    times = np.linspace(0.0, 6.0, 13)
    for half_width in (0.0, -0.5, -1e-300):
        with pytest.raises(ValueError, match=r"^half_width=.*> 0"):
            refine_times(times, [2.1], half_width)
    with pytest.raises(ValueError, match=r"^points=1: .*points >= 2"):
        refine_times(times, [2.1], 0.5, points=1)
    with pytest.raises(TypeError, match=r"^centers must be real"):
        refine_times(times, [2.1 + 1e-3j], 0.5)
    with pytest.raises(TypeError, match=r"^centers must be a real number"):
        refine_times(times, ["2.1"], 0.5)
    # the smallest legal window: both ends and nothing else (2.1 ± 0.05)
    np.testing.assert_allclose(np.setdiff1d(refine_times(times, [2.1], 0.05, points=2), times), [2.05, 2.15])


# ---------------------------------------------------------------- non-numeric states


def _embed(r):
    """The 2 × 2 array r as a 4 × 4 one of the same dtype and type (its corner r[0, 0], the rest r[1, 1])."""
    out = np.full((4, 4), np.asarray(r)[1, 1], dtype=np.asarray(r).dtype)
    out[0, 0] = np.asarray(r)[0, 0]
    return out if isinstance(r, np.ndarray) else jnp.asarray(out)


def test_a_boolean_object_or_string_state_is_refused_by_models_a_b_and_c():
    # [[True, False], [False, False]] passed the shared state check as |0⟩⟨0| (unit trace, Hermitian, positive) and
    # ran; an object or string array failed inside NumPy's isfinite without naming the argument
    import jaxthermo as jt
    from jaxthermo import coherent, inhomogeneous

    b2 = np.array([[True, False], [False, False]])
    b4 = np.kron(b2, b2)
    h = np.diag([0.0, 1.0])
    reservoir = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1)
    coherent_model = jt.CoherentCollisionModel(h, h, 0.1 * EXCHANGE, beta=1.0, chi=np.zeros((2, 2)), lam=0.1, tau=0.01)
    global_model = GlobalModel(h, 0.1 * EXCHANGE, h)
    calls = {
        "rho0": [
            lambda r: inhomogeneous.trajectory(reservoir, r, jnp.array([0.1, 0.2])),
            lambda r: coherent.propagate(coherent_model, r, jnp.array([0.0, 0.1])),
            lambda r: energy_assignment(global_model, _embed(r), [0.0, 1.0]),
        ],
        "rho": [lambda r: inhomogeneous.collide(reservoir, r, 0.1), lambda r: coherent.energy_rate(coherent_model, r)],
        "rho_s0": [lambda r: jt.minimal_dissipation(global_model, r, np.eye(2) / 2, [0.0, 1.0])],
    }
    bad_states = (b2, jnp.asarray(b2), np.array([[1, 0], [0, 0]], dtype=object), np.array([["1", "0"], ["0", "0"]]))
    for name, functions in calls.items():
        for call in functions:
            for bad in bad_states:
                with pytest.raises(TypeError, match=rf"^{name} must be a number or numeric array; got .*dtype"):
                    call(bad)
    with jt.config.override(validate="off"):  # a type, not a value: refused whatever the validation level
        with pytest.raises(TypeError, match=r"^rho0 must be a number"):
            energy_assignment(global_model, b4, [0.0, 1.0])
    with pytest.raises(TypeError, match=r"^rho0 must be a numeric \(real or complex\) array; got dtype bool"):
        jax.jit(lambda r: energy_assignment(global_model, r, jnp.array([0.0, 1.0])).energies)(b4)
    # the same state as numbers runs: |1⟩⟨1| ⊗ |1⟩⟨1| has Ũ_S = Ũ_E = 1 (an eigenstate of the exchange)
    out = energy_assignment(global_model, np.diag([0.0, 0.0, 0.0, 1.0]), [0.0, 1.0])
    np.testing.assert_allclose(np.asarray(out.energies)[:, -1], [1.0, 0.0, 1.0], atol=1e-14)


# ---------------------------------------------------------------- non-Markovian intervals at the run's precision


def _damping_model(gamma, scale, dtype):
    """Resonant exchange with the environment qubit in |0⟩: Φ_t is amplitude damping with survival amplitude
    cos(γt), L_t = 2γ tan(γt) D[σ₋] (closed form): the other two canonical rates are 0, and the damping rate is
    negative exactly for π/2 < γt < π (mod π)."""
    h = scale * np.diag([0.0, 1.0])
    return GlobalModel(h.astype(dtype), (scale * gamma * EXCHANGE).astype(dtype), h.astype(dtype))


def test_rounding_of_a_zero_rate_is_not_reported_as_information_backflow():
    # float32: the zero rates came out as −1.3e-7 and four grid intervals of [0, 2.5] (γt < 1.25 < π/2, divisible
    # dynamics) were reported non-Markovian; float64 with energies of 1e8 the same (−4e-8 against −1e-9)
    rho_s, rho_e = np.array([[0.5, 0.3], [0.3, 0.5]]), np.diag([1.0, 0.0])
    for dtype, scale in ((np.float32, 1.0), (np.float64, 1e8)):
        times = (np.linspace(0.0, 2.5, 26) / scale).astype(dtype)
        out = minimal_dissipation(_damping_model(0.5, scale, dtype), rho_s.astype(dtype), rho_e.astype(dtype), times)
        assert np.min(np.asarray(out.rates)) < -1e-9  # the rounding is there
        assert out.non_markovian_intervals == []
    # the genuine backflow (tan γt < 0 on (π/2, π) and (3π/2, 2π)) is still found in float32
    gamma = 0.7
    times = np.linspace(0.0, 2 * np.pi / gamma, 17)
    closed = np.tan(gamma * times)
    expected = [(times[5], times[7]), (times[13], times[15])]
    assert np.all(closed[[5, 6, 7, 13, 14, 15]] < 0) and np.all(closed[[1, 2, 3, 9, 10, 11]] > 0)
    with pytest.warns(RuntimeWarning):  # singular at γt = π/2, 3π/2 (times[4], times[12])
        out = minimal_dissipation(
            _damping_model(gamma, 1.0, np.float32),
            np.diag([0.3, 0.7]).astype(np.float32),
            np.diag([1.0, 0.0]).astype(np.float32),
            times.astype(np.float32),
        )
        found = out.non_markovian_intervals
    assert found == [(pytest.approx(a, rel=1e-6), pytest.approx(b, rel=1e-6)) for a, b in expected]


# ---------------------------------------------------------------- singular maps in float32


def _scipy_map(h, rho_e, t, d_s, d_e):
    """Φ_t (d_S², d_S²) row-major from SciPy's expm in float64: Φ_t(|a⟩⟨b|) = Tr_E[U (|a⟩⟨b| ⊗ ρ_E) U†]."""
    u = expm(-1j * h * t).reshape(d_s, d_e, d_s, d_e)
    return np.einsum("aecf,fg,bedg->abcd", u, rho_e, u.conj()).reshape(d_s * d_s, d_s * d_s)


def test_float32_singular_map_is_flagged_not_returned_as_rounding():
    # at a singular point of Φ_t (a sign change of det Φ_t, located in float64 by SciPy and bisection) float32 gives
    # σ_min/σ_max = 1.2e-7, above rcond = 1e-8: minimal_dissipation returned K_S with entries 2e6 (rounding) as a
    # regular value with singular False, and exact_generator L_t with entries 3e6 without a warning
    rng = np.random.default_rng(4)
    h_s, h_e, h_i = _random_hermitian(rng, 2), _random_hermitian(rng, 3), _random_hermitian(rng, 6)
    a = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    rho_e = a @ a.conj().T / np.trace(a @ a.conj().T).real
    h = np.kron(h_s, np.eye(3)) + h_i + np.kron(np.eye(2), h_e)
    det = lambda t: np.linalg.det(_scipy_map(h, rho_e, t, 2, 3)).real
    lo, hi = 0.7, 0.8
    assert det(lo) * det(hi) < 0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if det(mid) * det(lo) > 0 else (lo, mid)
    t_star = 0.5 * (lo + hi)
    c64 = np.complex64
    model32 = GlobalModel(h_s.astype(c64), h_i.astype(c64), h_e.astype(c64))
    rho_s = np.array([[0.5, 0.2], [0.2, 0.5]], c64)
    times = np.array([0.0, t_star - 0.3, t_star, t_star + 0.3], np.float32)
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = minimal_dissipation(model32, rho_s, rho_e.astype(c64), times)
    assert float(out.inverse_condition[2]) < 1e-6  # rounding of a true 0
    np.testing.assert_array_equal(np.asarray(out.singular), [False, False, True, False])
    assert np.all(np.isnan(np.asarray(out.hamiltonian[2]))) and np.isnan(float(out.assignment.energy[2]))
    assert np.all(np.isfinite(np.asarray(out.hamiltonian)[[0, 1, 3]]))
    with pytest.warns(RuntimeWarning, match=r"non-invertible at t = .* < rcond = 1.19209e-05"):
        exact_generator(model32, rho_e.astype(c64), np.float32(t_star))
    # float64: unchanged threshold (1e-8), the same time flagged; a regular time passes silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact_generator(GlobalModel(h_s, h_i, h_e), rho_e, t_star - 0.3)
        exact_generator(model32, rho_e.astype(c64), np.float32(t_star - 0.3))


# ---------------------------------------------------------------- quadratic reservoirs: one β, one μ per reservoir


def test_quadratic_reservoirs_refuse_array_temperatures_and_chemical_potentials():
    # mu1 = [0.1, 0.3] with N1 = 2 ran as h1 − diag(μ) (no grand-canonical state), beta1 of shape (2, 2) as an entrywise
    # product β ∘ h1, beta2 of shape (1, 1) broadcast: thermal states of nothing, without a word
    h1, h2, g = np.array([[1.0, 0.2], [0.2, 1.5]]), 0.8 * np.eye(2), 0.1 * np.ones((2, 2))
    for name, bad in (
        ("mu1", np.array([0.1, 0.3])),
        ("beta1", np.array([[1.0, 2.0], [2.0, 1.0]])),
        ("beta2", np.array([[1.0]])),
        ("mu2", [0.0]),
        ("beta1", np.array([1.0, 2.0])),  # failed inside as "a is not Hermitian"
    ):
        with pytest.raises(ValueError, match=rf"^{name} must be one real number per reservoir .* got shape"):
            QuadraticReservoirs(h1, h2, g, **{name: bad})
    # a sweep goes through jax.vmap: the same numbers as one model per β, and the β = 1 state is f(β(h1 − μ)) (NumPy)
    model = QuadraticReservoirs(h1, h2, g, beta1=1.0, mu1=0.2)
    times = jnp.linspace(0.0, 2.0, 5)
    betas = jnp.array([0.5, 1.0])
    swept = jax.vmap(lambda b: model.replace(beta1=b).energetics(times).bare.heat)(betas)
    one_by_one = [model.replace(beta1=float(b)).energetics(times).bare.heat for b in betas]
    np.testing.assert_allclose(np.asarray(swept), np.asarray(one_by_one), atol=1e-14)
    e, v = np.linalg.eigh(h1 - 0.2 * np.eye(2))
    np.testing.assert_allclose(
        np.asarray(model.initial_correlations())[:2, :2], v @ np.diag(1 / (np.exp(e) + 1)) @ v.T, atol=1e-14
    )


def test_reduced_map_and_exact_generator_refuse_a_negative_time():
    # t = -1 gave the backward map and a generator with canonical rate -0.54 (+0.54 at t = 1; detuned exchange
    # with the environment in |0⟩, Markovian up to its first singular time), read as backflow
    model = GlobalModel(np.diag([0.0, 1.0]), 0.5 * EXCHANGE, np.diag([0.0, 1.3]))
    rho_e = np.diag([1.0, 0.0])
    for call in (reduced_map, exact_generator):
        for t in (-1.0, -1e-300, np.float32(-0.5)):
            with pytest.raises(ValueError, match=r"^t=.*: must be >= 0"):
                call(model, rho_e, t)
    # t = 0: Φ_0 is the identity (closed form), L_0 = −i[H_S + Tr_E(H_I ρ_E), ·] = −i[H_S, ·] here
    np.testing.assert_allclose(np.asarray(reduced_map(model, rho_e, 0.0).phi), np.eye(4), atol=1e-15)
    h_s = np.diag([0.0, 1.0])
    commutator = -1j * (np.kron(h_s, np.eye(2)) - np.kron(np.eye(2), h_s.T))
    np.testing.assert_allclose(np.asarray(exact_generator(model, rho_e, 0.0)), commutator, atol=1e-14)


def test_float32_quadratic_zero_of_g_is_flagged_not_returned_as_rounding():
    # 60 + 60 resonant all-to-all modes (Δ = 0, Γ = 0.5): the bright-mode block of G(t) is e^{−iν̄t} cos(Γt/2) (closed
    # form, docs/assignment.md §5), zero at t* = π/Γ. float32 computed σ_min(G(t*)) = 1.2e-6 > rcond = 1e-6: k with
    # entries 1.9e3 and U^md = 4.96e4 (9.89 on either side) came back unflagged
    model = QuadraticReservoirs.from_regime(
        60, 60, detuning=0.0, effective_coupling=0.5, nu2=1.0, g=0.01, beta1=1.0, beta2=0.3
    )
    f32 = np.float32
    model32 = model.replace(
        h1=np.asarray(model.h1, f32),
        h2=np.asarray(model.h2, f32),
        coupling=np.asarray(model.coupling, f32),
        beta1=f32(1.0),
        beta2=f32(0.3),
    )
    t_star = np.pi / 0.5
    times = np.array([0.0, t_star - 0.5, t_star, t_star + 0.5])
    assert abs(np.cos(0.5 * times[2] / 2)) < 1e-15 and np.all(np.abs(np.cos(0.5 * times[[0, 1, 3]] / 2)) > 0.1)
    with pytest.warns(RuntimeWarning, match=r"G\(t\) is \(nearly\) non-invertible"):
        out32 = quadratic_energetics(model32, times.astype(f32))
    np.testing.assert_array_equal(np.asarray(out32.singular), [False, False, True, False])
    assert np.isnan(float(out32.minimal_dissipation.energy[2])) and np.all(np.isnan(np.asarray(out32.k[2])))
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out64 = quadratic_energetics(model, times)
    regular = [0, 1, 3]
    np.testing.assert_allclose(
        np.asarray(out32.minimal_dissipation.energy)[regular],
        np.asarray(out64.minimal_dissipation.energy)[regular],
        rtol=1e-5,
    )


def test_quadratic_peak_times_include_the_flagged_nodes():
    # one resonant mode against one (Δ = 0, γ = 0.5): G(t) = e^{−iωt} cos(γt) (closed form) vanishes at t* = π/(2γ),
    # the one Gauss node (order 1) of [0, 2t*]; it was flagged and warned of, but peak_times (interior grid minima
    # only) was empty, so refine_times(times, out.peak_times, ...) refined nothing
    gamma = 0.5
    model = QuadraticReservoirs(np.eye(1), np.eye(1), gamma * np.ones((1, 1)))
    t_star = np.pi / (2 * gamma)
    with pytest.warns(RuntimeWarning, match="non-invertible"):
        out = quadratic_energetics(model, np.array([0.0, 2 * t_star]), order=1)
    assert np.asarray(out.singular_nodes).tolist() == [[True]]
    np.testing.assert_allclose(out.peak_times, [t_star], rtol=1e-15)
    assert refine_times(np.array([0.0, 2 * t_star]), out.peak_times, 0.1, points=5).size == 2 + 5


def test_non_markovian_intervals_of_a_one_level_system():
    # d_S = 1 (a legal GlobalModel): no canonical rates; the property raised NumPy's "zero-size array to reduction
    # operation" instead of returning no interval
    model = GlobalModel(np.eye(1), np.diag([0.1, 0.2]), np.diag([0.0, 1.0]))
    out = minimal_dissipation(model, np.eye(1), np.diag([0.5, 0.5]), [0.0, 1.0])
    assert out.rates.shape == (2, 0)
    assert out.non_markovian_intervals == []
