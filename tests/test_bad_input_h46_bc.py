"""Bad input refused early, naming the parameter, and good input unchanged: model B's traced λ and τ under
validate = "always" in every public function, ``coherent.validate``'s ``atol``, ``generator_from_map``,
``refine_times``, ``cumulative_integral`` and ``GlobalModel``'s ``drive``."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm, null_space

import jaxthermo as jt
from jaxthermo import coherent as cb

RHO = jnp.diag(jnp.array([0.6, 0.4]))
TIMES = jnp.linspace(0.0, 1.0, 3)


def _raises(fn, arg, match):
    with pytest.raises(Exception, match=match) as info:
        jax.block_until_ready(fn(arg))
    assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))


# every public function of model B that consumes the model, as a function of the model
MODEL_B_FUNCTIONS = {
    "steady_state": jt.steady_state,
    "propagate": lambda m: jt.propagate(m, RHO, TIMES),
    "liouvillian": jt.liouvillian,
    "master_equation_rhs": lambda m: cb.master_equation_rhs(m, RHO),
    "dissipator": lambda m: cb.dissipator(m, RHO),
    "coherent_drive": cb.coherent_drive,
    "thermal_ancilla": cb.thermal_ancilla,
    "ancilla_state": cb.ancilla_state,
    "collision_unitary": cb.collision_unitary,
    "coherent_work_rate": lambda m: cb.coherent_work_rate(m, RHO),
    "incoherent_heat_rate": lambda m: cb.incoherent_heat_rate(m, RHO),
    "ancilla_heat_rate": lambda m: cb.ancilla_heat_rate(m, RHO),
    "energy_rate": lambda m: cb.energy_rate(m, RHO),
    "entropy_rate": lambda m: cb.entropy_rate(m, RHO),
    "entropy_production_rate": lambda m: cb.entropy_production_rate(m, RHO),
    "free_energy_rate": lambda m: cb.free_energy_rate(m, RHO),
    "collide": lambda m: cb.collide(m, RHO).system,
    "stroboscopic_trajectory": lambda m: cb.stroboscopic_trajectory(m, RHO, 2).states,
    "collision_thermodynamics": lambda m: cb.collision_thermodynamics(m, RHO).entropy_production,
}


@pytest.mark.parametrize("name", sorted(MODEL_B_FUNCTIONS))
def test_traced_lambda_and_tau_are_checked_under_always(name):
    """A traced λ outside the positivity range, or τ ≤ 0, stopped only the collision functions; now each public
    function; a valid traced model gives what the concrete model gives."""
    fn = MODEL_B_FUNCTIONS[name]
    with jt.config.override(validate="always"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        by_lam = jax.jit(lambda lam: fn(jt.qubit_example(lam=lam)))
        by_tau = jax.jit(lambda tau: fn(jt.qubit_example(tau=tau)))
        _raises(by_lam, 100.0, "lam: the ancilla state")
        _raises(by_tau, -0.01, "tau must be > 0")
        _raises(by_tau, jnp.nan, "tau must be > 0")
        np.testing.assert_allclose(by_lam(0.1), fn(jt.qubit_example(lam=0.1)), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(by_tau(0.02), fn(jt.qubit_example(tau=0.02)), rtol=1e-12, atol=1e-14)


def test_traced_species_of_a_multi_species_model_is_checked():
    cold = jt.qubit_example(beta=2.0)
    with jt.config.override(validate="always"):
        steady = jax.jit(lambda lam: jt.steady_state(cb.MultiSpeciesModel((jt.qubit_example(lam=lam), cold))))
        _raises(steady, 100.0, "lam: the ancilla state")
        np.testing.assert_allclose(
            steady(0.1), jt.steady_state(cb.MultiSpeciesModel((jt.qubit_example(lam=0.1), cold))), atol=1e-13
        )


def test_eager_mode_is_unchanged():
    """Under "eager" a traced model is not checked (the documented trade) and a concrete one is, at construction."""
    assert jt.config.validate == "eager"
    out = jax.jit(lambda lam: cb.ancilla_state(jt.qubit_example(lam=lam)))(100.0)
    assert np.isfinite(np.asarray(out)).all()
    with pytest.raises(ValueError, match="lam: the ancilla state"):
        jt.qubit_example(lam=100.0)


def _callbacks(fn, arg):
    return str(jax.make_jaxpr(fn)(arg)).count("debug_callback[")


def test_the_check_is_staged_once_per_call():
    """The public functions called inside each other (coherent_drive, thermal_ancilla, ancilla_state) add no
    second check: a traced λ stages one callback more than a traced H_S, which the check does not read."""
    base = jt.qubit_example()
    with jt.config.override(validate="always"):
        for fn in (jt.steady_state, lambda m: cb.entropy_production_rate(m, RHO), lambda m: cb.collide(m, RHO)):
            by_lam = _callbacks(lambda lam: fn(base.replace(lam=lam)), 0.1)
            by_h = _callbacks(lambda h: fn(base.replace(H_S=h)), base.H_S)
            assert by_lam == by_h + 1


def test_ancilla_and_steady_state_against_numpy():
    """The values of a valid traced model under "always", against an independent NumPy computation."""
    lam, tau = 0.3, 0.02
    with jt.config.override(validate="always"):
        rho_a = jax.jit(lambda x: cb.ancilla_state(jt.qubit_example(lam=x, tau=tau)))(lam)
        rho_ss = jax.jit(lambda x: jt.steady_state(jt.qubit_example(lam=x, tau=tau)))(lam)
        lv = np.asarray(jax.jit(lambda x: jt.liouvillian(jt.qubit_example(lam=x, tau=tau)))(lam))
    m = jt.qubit_example(lam=lam, tau=tau)
    h_a, chi = np.asarray(m.H_A), np.asarray(m.chi)
    th = expm(-float(m.beta) * h_a)
    np.testing.assert_allclose(rho_a, th / np.trace(th) + np.sqrt(tau) * lam * chi, atol=1e-14)
    kernel = null_space(lv).reshape(2, 2)
    np.testing.assert_allclose(rho_ss, kernel / np.trace(kernel), atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# coherent.validate(model, atol)


def _non_hermitian_model():
    sz, sm = jnp.diag(jnp.array([-0.5, 0.5])), jnp.array([[0.0, 1.0], [0.0, 0.0]])
    with jt.config.override(validate="off"):
        return jt.qubit_example().replace(H_S=sz + 0.3 * sm)


@pytest.mark.parametrize("atol", [float("nan"), float("inf"), -1.0, -1, [1e-10, 1e-10]])
def test_validate_refuses_a_bad_atol(atol):
    with pytest.raises(ValueError, match="atol"):
        cb.validate(_non_hermitian_model(), atol=atol)


@pytest.mark.parametrize("atol", ["x", None, True, 1e-10j])
def test_validate_refuses_a_non_number_atol(atol):
    with pytest.raises(TypeError, match="atol"):
        cb.validate(jt.qubit_example(), atol=atol)


def test_validate_with_a_good_atol_is_unchanged():
    model = jt.qubit_example()
    for atol in (0.0, 1e-10, 1e-3, np.float32(1e-6)):
        assert cb.validate(model, atol=atol) is None
    for atol in (1e-10, 0.1):  # the non-Hermitian part 0.3 of the largest entry 0.5 exceeds both
        with pytest.raises(ValueError, match="H_S is not Hermitian"):
            cb.validate(_non_hermitian_model(), atol=atol)
    with pytest.warns(UserWarning, match=r"\[V, H_S \+ H_A\] != 0"):  # accepted: then the usual warnings
        cb.validate(_non_hermitian_model(), atol=0.7)  # relative to max|H_S|: 0.3 ≤ 0.7 · 0.5


# ---------------------------------------------------------------------------------------------------------------
# assignment.generator_from_map


def test_generator_from_map_refuses_bad_shapes_and_values():
    ja = jt.assignment
    with pytest.raises(ValueError, match="phi_dot has shape"):
        ja.generator_from_map(jnp.eye(9), jnp.eye(4))
    with pytest.raises(ValueError, match="phi must be a square"):
        ja.generator_from_map(jnp.ones(4), jnp.eye(4))
    with pytest.raises(ValueError, match="phi_dot must be a square"):
        ja.generator_from_map(jnp.eye(4), jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="phi must be finite"):
        ja.generator_from_map(jnp.full((4, 4), jnp.nan), jnp.eye(4))
    with pytest.raises(ValueError, match="phi_dot must be finite"):
        ja.generator_from_map(jnp.eye(4), jnp.eye(4).at[0, 1].set(jnp.inf))
    with pytest.raises(TypeError, match="phi"):
        ja.generator_from_map("x", jnp.eye(4))
    with jt.config.override(validate="always"):
        _raises(jax.jit(lambda p: ja.generator_from_map(p, jnp.eye(4))), jnp.full((4, 4), jnp.nan), "phi must be")


def test_generator_from_map_warns_where_phi_is_singular():
    with pytest.warns(RuntimeWarning, match=r"phi \(Φ_t\) is \(nearly\) non-invertible"):
        jt.assignment.generator_from_map(jnp.zeros((4, 4)), jnp.eye(4))
    rank_two = jnp.diag(jnp.array([1.0, 1.0, 0.0, 0.0]))
    with pytest.warns(RuntimeWarning, match="σ_min/σ_max = 0"):
        jt.assignment.generator_from_map(rank_two, jnp.eye(4))


def test_generator_from_map_of_a_good_map_is_unchanged():
    rng = np.random.default_rng(46)
    phi = np.eye(4) + 0.3 * (rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    phi_dot = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = jt.assignment.generator_from_map(phi, phi_dot)
        traced = jax.jit(jt.assignment.generator_from_map)(phi, phi_dot)
    np.testing.assert_allclose(gen, phi_dot @ np.linalg.inv(phi), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(traced, gen, rtol=1e-14, atol=1e-15)


def _global_model():
    sz = jnp.diag(jnp.array([0.5, -0.5]))
    sx = jnp.array([[0.0, 1.0], [1.0, 0.0]])
    return jt.GlobalModel(sz, 0.3 * jnp.kron(sx, sx), sz)


def test_exact_generator_is_unchanged():
    """exact_generator is L_t = Φ̇_t Φ_t^{−1} of the reduced map, and warns as before at a singular Φ_t."""
    model, rho_e = _global_model(), jnp.diag(jnp.array([0.7, 0.3]))
    phi, phi_dot = jt.assignment.reduced_map(model, rho_e, 0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = jt.assignment.exact_generator(model, rho_e, 0.4)
    np.testing.assert_allclose(gen, np.asarray(phi_dot) @ np.linalg.inv(np.asarray(phi)), rtol=1e-10, atol=1e-12)
    # exchange coupling, pure environment: a full swap at t = π/2 makes Φ_t the constant map ρ ↦ ρ_E
    sp = jnp.array([[0.0, 1.0], [0.0, 0.0]])
    exchange = jnp.kron(sp, sp.T) + jnp.kron(sp.T, sp)
    swap = jt.GlobalModel(jnp.zeros((2, 2)), exchange, jnp.zeros((2, 2)))
    with pytest.warns(RuntimeWarning, match=r"^Φ_t is \(nearly\) non-invertible at t = "):
        jt.assignment.exact_generator(swap, jnp.diag(jnp.array([1.0, 0.0])), np.pi / 2)


# ---------------------------------------------------------------------------------------------------------------
# assignment.refine_times


@pytest.mark.parametrize("centers", [[5.0], [-0.2], [0.5, 1.2]])
def test_refine_times_refuses_a_window_outside_the_grid(centers):
    with pytest.raises(ValueError, match=r"centers: .* outside the grid's range \[0.0, 1.0\]"):
        jt.assignment.refine_times(jnp.linspace(0, 1, 5), centers, 0.1)


def test_refine_times_of_good_centres_is_unchanged():
    times = np.linspace(0, 1, 5)
    for centers in ([0.5], [-0.05, 1.08], [0.0, 0.3]):  # windows inside, or reaching into the grid
        got = jt.assignment.refine_times(times, centers, 0.1, points=7)
        extra = [np.linspace(c - 0.1, c + 0.1, 7) for c in centers]
        grid = np.concatenate([times, *extra])
        np.testing.assert_array_equal(got, np.unique(grid[(grid >= 0) & (grid <= 1)]))
    np.testing.assert_array_equal(jt.assignment.refine_times(times, [], 0.1), times)


# ---------------------------------------------------------------------------------------------------------------
# assignment.cumulative_integral


def test_cumulative_integral_refuses_other_shapes():
    ci = jt.assignment.cumulative_integral
    with pytest.raises(ValueError, match=r"values must be \(T-1, order\)"):
        ci(jnp.ones(3), jnp.ones(3))
    with pytest.raises(ValueError, match=r"values must be \(T-1, order\)"):
        ci(jnp.ones((2, 3, 2)), jnp.ones((2, 3, 2)))
    with pytest.raises(ValueError, match="weights has shape"):
        ci(jnp.ones((3, 2)), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="weights has shape"):
        ci(jnp.ones((3, 2)), jnp.ones(2))
    with pytest.raises(ValueError, match="weights has shape"):
        jax.jit(ci)(jnp.ones((3, 2)), jnp.ones((2, 2)))


def test_cumulative_integral_of_good_input_is_unchanged():
    from jaxthermo._quadrature import composite_gauss_legendre

    times = jnp.linspace(0.0, 2.0, 9)
    nodes, weights = composite_gauss_legendre(times, 4)
    got = jt.assignment.cumulative_integral(jnp.cos(nodes), weights)
    np.testing.assert_allclose(got, np.sin(np.asarray(times)), atol=1e-10)
    values = np.random.default_rng(0).normal(size=nodes.shape)
    expected = np.concatenate([[0.0], np.cumsum(np.sum(values * np.asarray(weights), axis=-1))])
    np.testing.assert_allclose(jax.jit(jt.assignment.cumulative_integral)(values, weights), expected, rtol=1e-14)


# ---------------------------------------------------------------------------------------------------------------
# GlobalModel(drive=...)


@pytest.mark.parametrize("drive", [3, "sin", jnp.eye(2)])
def test_global_model_refuses_a_drive_that_is_not_callable(drive):
    base = _global_model()
    with pytest.raises(TypeError, match="drive must be a callable"):
        jt.GlobalModel(base.h_system, base.h_interaction, base.h_environment, drive=drive)
    with pytest.raises(TypeError, match="drive must be a callable"):
        base.replace(drive=drive)


def test_global_model_with_a_callable_drive_is_unchanged():
    base = _global_model()
    sx = jnp.array([[0.0, 1.0], [1.0, 0.0]])
    driven = base.replace(drive=lambda t: 0.2 * jnp.sin(t) * sx)
    np.testing.assert_allclose(driven.drive_at(0.7), 0.2 * np.sin(0.7) * np.asarray(sx))
    with_params = base.replace(drive=lambda t, a: a * t * sx, drive_params=0.5)
    np.testing.assert_allclose(with_params.drive_at(2.0), np.asarray(sx))
    assert base.replace(drive=None).drive is None
    times, rho = jnp.linspace(0.0, 0.5, 6), jnp.diag(jnp.array([0.8, 0.2, 0.0, 0.0]))
    undriven = jt.assignment.energy_assignment(base, rho, times)
    zero_drive = jt.assignment.energy_assignment(base.replace(drive=lambda t: 0.0 * t * sx), rho, times)
    np.testing.assert_allclose(zero_drive.energies, undriven.energies, atol=1e-10)
