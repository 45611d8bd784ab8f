"""Bad input to model B (``jaxthermo.coherent``) and model C (``jaxthermo.assignment``) refused early, naming the
parameter (``TypeError`` for a non-number, ``ValueError`` for a bad value); valid input unchanged, also traced."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

import jaxthermo as jt
from jaxthermo import assignment as ca
from jaxthermo import coherent as cb

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([1.0, -1.0])
SM = np.array([[0.0, 1.0], [0.0, 0.0]])
RHO = jnp.diag(jnp.array([0.6, 0.4]))
TIMES = np.linspace(0.0, 1.0, 4)
NON_NUMBERS = [None, "1", True]


# ---------------------------------------------------------------- model B: qubit_example, qubit_coupling


@pytest.mark.parametrize(
    "name, value",
    [
        ("omega", None),
        ("omega", "1"),
        ("omega", True),
        ("omega", 1 + 1j),
        ("g", None),
        ("g", "1"),
        ("g", True),
        ("g", 1 + 1j),
        ("beta", None),
        ("lam", "1"),
        ("tau", None),
    ],
)
def test_qubit_example_refuses_a_non_number_naming_it(name, value):
    """omega=None, g=1+1j failed in float() naming nothing; g=None inside JAX; omega='1' and g='1' built a model."""
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        cb.qubit_example(**{name: value})


@pytest.mark.parametrize("name, value", [("omega", None), ("omega", "1"), ("g", "1"), ("g", None), ("g", 1 + 1j)])
def test_qubit_coupling_refuses_a_non_number_naming_it(name, value):
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        cb.qubit_coupling(**{name: value})


def test_a_complex_g_needs_a_complex_dtype():
    with pytest.raises(TypeError, match=r"^g must be real with the real dtype=float64; .* dtype=complex128"):
        cb.qubit_coupling(g=0.5j)
    coupling = cb.qubit_coupling(g=0.5j, dtype=jnp.complex128)
    np.testing.assert_array_equal(np.asarray(coupling.g), [0.5j])
    v = np.asarray(cb.qubit_example(g=0.5j, dtype=jnp.complex128).V)
    np.testing.assert_allclose(v, 0.5j * np.kron(SM.T, SM) - 0.5j * np.kron(SM, SM.T), atol=0)


def test_qubit_example_valid_input_unchanged_and_traced():
    model = cb.qubit_example(omega=1.3, g=0.7, beta=0.5, lam=0.2, tau=0.02)
    h = np.diag([-0.65, 0.65])
    np.testing.assert_allclose(np.asarray(model.H_S), h, atol=0)
    np.testing.assert_allclose(np.asarray(model.H_A), h, atol=0)
    np.testing.assert_allclose(np.asarray(model.V), 0.7 * (np.kron(SM.T, SM) + np.kron(SM, SM.T)), atol=0)
    np.testing.assert_allclose(np.asarray(model.chi), SX, atol=0)
    assert (model.beta, model.lam, model.tau) == (0.5, 0.2, 0.02)
    coupling = cb.qubit_coupling(1.3, 0.7)
    np.testing.assert_array_equal(np.asarray(coupling.omega), [1.3])
    np.testing.assert_array_equal(np.asarray(coupling.g), [0.7])
    # traced omega and g (jit and grad), as in tests/coherent/test_built_inside_jit.py
    steady = lambda w, g: jt.steady_state(cb.qubit_example(omega=w, g=g, lam=0.2))
    np.testing.assert_allclose(jax.jit(steady)(1.3, 0.7), steady(1.3, 0.7), rtol=1e-12, atol=1e-14)
    coherence = lambda w, g: jnp.imag(steady(w, g)[0, 1])
    grad = jax.grad(coherence, argnums=(0, 1))(1.3, 0.7)
    eps = 1e-6
    fd = [
        (coherence(1.3 + eps, 0.7) - coherence(1.3 - eps, 0.7)) / (2 * eps),
        (coherence(1.3, 0.7 + eps) - coherence(1.3, 0.7 - eps)) / (2 * eps),
    ]
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jax.jit(lambda g: cb.qubit_coupling(1.3, g).g)(0.7), coupling.g, rtol=0, atol=0)


# ---------------------------------------------------------------- model B: eigenoperator_model


def _eigen_args():
    h = np.diag([-0.5, 0.5])
    return cb.qubit_coupling(), h, h, 1.0, SX, 0.1, 0.01


@pytest.mark.parametrize("coupling", [None, "coupling", np.eye(2)])
def test_eigenoperator_model_refuses_a_coupling_of_another_type(coupling):
    """coupling=None failed with AttributeError: 'NoneType' object has no attribute '_check_operator'."""
    _, *rest = _eigen_args()
    with pytest.raises(TypeError, match=r"^coupling must be an EigenoperatorCoupling .* got "):
        cb.eigenoperator_model(coupling, *rest)


@pytest.mark.parametrize("index, name", [(1, "H_S"), (2, "H_A"), (3, "beta"), (4, "chi"), (5, "lam"), (6, "tau")])
@pytest.mark.parametrize("value", NON_NUMBERS)
def test_eigenoperator_model_refuses_a_non_number_naming_it(index, name, value):
    args = list(_eigen_args())
    args[index] = value
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        cb.eigenoperator_model(*args)


def test_eigenoperator_model_valid_input_unchanged_and_traced():
    model = cb.eigenoperator_model(*_eigen_args())
    reference = cb.qubit_example()
    for field in ("H_S", "H_A", "V", "chi"):
        np.testing.assert_allclose(np.asarray(getattr(model, field)), np.asarray(getattr(reference, field)), atol=0)
    coupling, h, _, beta, chi, _, tau = _eigen_args()
    inside = jax.jit(lambda lam: jt.steady_state(cb.eigenoperator_model(coupling, h, h, beta, chi, lam, tau)))
    np.testing.assert_allclose(inside(0.1), jt.steady_state(model), rtol=1e-12, atol=1e-14)


def test_eigenoperator_coupling_methods_refuse_a_non_number_operator():
    coupling = cb.qubit_coupling()
    with pytest.raises(TypeError, match=r"^H_A must be"):
        coupling.rates(None, 1.0)
    with pytest.raises(TypeError, match=r"^chi must be"):
        coupling.drive("chi")


# ---------------------------------------------------------------- model B: propagate


@pytest.mark.parametrize("times", NON_NUMBERS)
def test_propagate_refuses_non_number_times(times):
    """times=None passed check_time_grid and failed in np.diff: "diff requires input that is at least one
    dimensional"."""
    with pytest.raises(TypeError, match=r"^times must be"):
        cb.propagate(cb.qubit_example(), RHO, times)


def test_propagate_valid_input_unchanged_and_traced():
    model = cb.qubit_example()
    out = np.asarray(cb.propagate(model, RHO, TIMES))
    lv = np.asarray(cb.liouvillian(model))
    expected = [(expm(lv * t) @ np.asarray(RHO, complex).reshape(4)).reshape(2, 2) for t in TIMES]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda t: cb.propagate(model, RHO, t))(TIMES), out, atol=1e-12)


# ---------------------------------------------------------------- model C: GlobalModel, QuadraticReservoirs messages


def test_global_model_names_where_the_dimensions_come_from():
    """Only h_interaction was named: "h_interaction has shape (4, 4); d_S·d_E = 6 needs (6, 6)"."""
    with pytest.raises(
        ValueError,
        match=r"^h_interaction has shape \(4, 4\) but h_system \(3×3\) and h_environment \(2×2\) need \(6, 6\)",
    ):
        ca.GlobalModel(np.eye(3), np.eye(4), np.eye(2))
    with pytest.raises(ValueError, match=r"h_system \(2×2\) and h_environment \(3×3\) need \(6, 6\)"):
        ca.GlobalModel(np.eye(2), np.eye(4), np.eye(3))
    model = ca.GlobalModel(np.eye(3), np.eye(6), np.eye(2))
    assert model.dims == (3, 2)


def test_quadratic_reservoirs_names_where_n1_and_n2_come_from():
    with pytest.raises(
        ValueError, match=r"^coupling must have shape \(N1, N2\) = \(3, 2\) \(h1 is 3×3, h2 is 2×2\); got \(2, 2\)"
    ):
        ca.QuadraticReservoirs(np.eye(3), np.eye(2), np.ones((2, 2)))
    assert ca.QuadraticReservoirs(np.eye(3), np.eye(2), np.ones((3, 2))).sizes == (3, 2)


# ---------------------------------------------------------------- model C: times and t


def _global_model():
    return ca.GlobalModel(SZ, 0.3 * np.kron(SX, SX), 0.5 * SZ)


RHO_E = np.diag([0.7, 0.3])


@pytest.mark.parametrize("times", NON_NUMBERS)
def test_energy_assignment_and_minimal_dissipation_refuse_non_number_times(times):
    """times=None failed inside JAX: "None is not a valid value for jnp.array"."""
    with pytest.raises(TypeError, match=r"^times must be"):
        ca.energy_assignment(_global_model(), np.eye(4) / 4, times)
    with pytest.raises(TypeError, match=r"^times must be"):
        ca.minimal_dissipation(_global_model(), np.asarray(RHO), RHO_E, times)


@pytest.mark.parametrize("t", NON_NUMBERS)
def test_reduced_map_and_exact_generator_refuse_a_non_number_t(t):
    """t=None or '1' failed inside JAX; t=True ran as t = 1."""
    with pytest.raises(TypeError, match=r"^t must be"):
        ca.reduced_map(_global_model(), RHO_E, t)
    with pytest.raises(TypeError, match=r"^t must be"):
        ca.exact_generator(_global_model(), RHO_E, t)


@pytest.mark.parametrize(
    "call",
    [
        lambda: ca.refine_times(None, [0.5], 0.1),
        lambda: ca.non_markovian_intervals(None, np.zeros((3, 1))),
        lambda: ca.QuadraticReservoirs(np.eye(2), np.eye(2), 0.1 * np.ones((2, 2))).energetics(None),
    ],
)
def test_other_time_grids_refuse_none(call):
    with pytest.raises(TypeError, match=r"^times must be"):
        call()


def _reference_map(model, t):
    """Φ_t (row-major vec) by SciPy's expm, the independent reference."""
    h = np.asarray(model.hamiltonian())
    u = expm(-1j * h * t).reshape(2, 2, 2, 2)
    return np.einsum("aecf,fg,bedg->abcd", u, RHO_E, np.conj(u)).reshape(4, 4)


def test_reduced_map_and_exact_generator_valid_input_unchanged_and_traced():
    model = _global_model()
    phi, phi_dot = ca.reduced_map(model, RHO_E, 0.3)
    np.testing.assert_allclose(np.asarray(phi), _reference_map(model, 0.3), atol=1e-13)
    np.testing.assert_allclose(
        np.asarray(phi_dot), (_reference_map(model, 0.3 + 1e-6) - _reference_map(model, 0.3 - 1e-6)) / 2e-6, atol=1e-8
    )
    jitted = jax.jit(lambda t: ca.reduced_map(model, RHO_E, t))(0.3)
    np.testing.assert_allclose(jitted.phi, phi, atol=1e-14)
    np.testing.assert_allclose(jitted.phi_dot, phi_dot, atol=1e-14)
    gen = ca.exact_generator(model, RHO_E, 0.3)
    np.testing.assert_allclose(np.asarray(gen) @ np.asarray(phi), phi_dot, atol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda t: ca.exact_generator(model, RHO_E, t))(0.3), gen, atol=1e-12)
    # d/dt of a map entry by grad equals Φ̇_t
    entry = jax.grad(lambda t: jnp.real(ca.reduced_map(model, RHO_E, t).phi[0, 0]))(0.3)
    np.testing.assert_allclose(entry, np.real(phi_dot[0, 0]), atol=1e-12)


def test_energy_assignment_and_minimal_dissipation_valid_input_unchanged_and_traced():
    model = _global_model()
    rho0 = np.kron(np.asarray(RHO), RHO_E)
    out = ca.energy_assignment(model, rho0, TIMES)
    h_x = np.asarray(model.local_hamiltonians())
    h = np.sum(h_x, axis=0)
    expected = []
    for t in TIMES:
        u = expm(-1j * h * t)
        rho = u @ rho0 @ u.conj().T
        expected.append([np.real(np.trace(hx @ rho)) for hx in h_x])
    np.testing.assert_allclose(np.asarray(out.energies), np.transpose(expected), atol=1e-12)
    np.testing.assert_allclose(out.interaction.energy, out.energies[0] + out.energies[1], atol=1e-14)
    jitted = jax.jit(lambda t: ca.energy_assignment(model, rho0, t).energies)(TIMES)
    np.testing.assert_allclose(jitted, out.energies, atol=1e-13)
    md = ca.minimal_dissipation(model, np.asarray(RHO), RHO_E, TIMES)
    np.testing.assert_allclose(md.hamiltonian[0], SZ, atol=1e-12)  # K_S(0) = H_S: Tr_E(H_I ρ_E) = 0
    first_law = md.assignment.work + md.assignment.heat
    np.testing.assert_allclose(first_law, md.assignment.energy_change, atol=1e-12)
    heat = jax.jit(lambda t: ca.minimal_dissipation(model, np.asarray(RHO), RHO_E, t).assignment.heat)(TIMES)
    np.testing.assert_allclose(heat, md.assignment.heat, atol=1e-12)


# ---------------------------------------------------------------- model C: bare and interaction assignments


SERIES = ("u_s", "u_i", "q_s", "q_i", "w_s")


@pytest.mark.parametrize("assign", [ca.interaction_assignment, ca.bare_assignment])
@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_assignments_refuse_a_non_finite_series(assign, index, bad):
    """A NaN Ũ_S (any series) gave NaN energies, heats or works without a word."""
    series = [np.linspace(0.0, 1.0, 3) + k for k in range(5)]
    series[index] = series[index].copy()
    series[index][1] = bad
    with pytest.raises(ValueError, match=rf"^{SERIES[index]} must be finite"):
        assign(*series)


@pytest.mark.parametrize("assign", [ca.interaction_assignment, ca.bare_assignment])
@pytest.mark.parametrize("value", [None, "abc", [True, False, True]])
def test_assignments_refuse_a_non_number_series(assign, value):
    """None or a string was reported as a series of shape ()."""
    three = np.ones(3)
    with pytest.raises(TypeError, match=r"^q_i must be"):
        assign(three, three, three, value, three)


def test_assignments_valid_input_unchanged_and_traced():
    rng = np.random.default_rng(58)
    u_s, u_i, q_s, q_i, w_s = rng.normal(size=(5, 6))
    inter = ca.interaction_assignment(u_s, u_i, q_s, q_i, w_s)
    bare = ca.bare_assignment(u_s, u_i, q_s, q_i, w_s)
    np.testing.assert_allclose(inter.energy, u_s + u_i, atol=1e-15)
    np.testing.assert_allclose(inter.heat, q_s + q_i, atol=1e-15)
    np.testing.assert_allclose(inter.work, w_s, atol=0)
    np.testing.assert_allclose(bare.energy, u_s, atol=0)
    np.testing.assert_allclose(bare.work, w_s - (u_i - u_i[0]), atol=1e-15)
    for assign, eager in ((ca.interaction_assignment, inter), (ca.bare_assignment, bare)):
        traced = jax.jit(assign)(u_s, u_i, q_s, q_i, w_s)
        for a, b in zip(traced, eager):
            np.testing.assert_allclose(a, b, atol=1e-15)
        # a traced NaN is not checked (concrete input only)
        assert np.isnan(np.asarray(jax.jit(assign)(u_s * np.nan, u_i, q_s, q_i, w_s).energy)).all()


# ---------------------------------------------------------------- decisions kept: singular Φ_t, tiny τ


def test_generator_from_map_of_a_singular_map_warns_naming_phi():
    """Documented: L_t diverges where Φ_t is singular; a RuntimeWarning names phi and the solve's result is
    returned (not finite here), as its docstring and docs/assignment.md §3 say."""
    with pytest.warns(RuntimeWarning, match=r"^phi \(Φ_t\) is \(nearly\) non-invertible"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = ca.generator_from_map(np.zeros((4, 4)), np.eye(4))
    assert not np.all(np.isfinite(np.asarray(out)))


def test_a_tiny_tau_is_a_valid_model():
    """τ = 1e-300 > 0 is allowed: the continuous-time limit τ → 0 is the model's regime; its steady state is that
    of any τ and one collision barely moves the state."""
    model = cb.qubit_example(tau=1e-300)
    np.testing.assert_allclose(jt.steady_state(model), jt.steady_state(cb.qubit_example()), atol=1e-14)
    after = np.asarray(cb.collide(model, RHO).system)
    assert np.all(np.isfinite(after))
    np.testing.assert_allclose(after, RHO, atol=1e-100)
