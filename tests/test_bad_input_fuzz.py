"""Bad input a fuzz of the public API found computed silently or refused by JAX/NumPy without naming the argument.

Each refusal names the parameter; each fix also leaves the valid call's value (and its jit/grad) as it was,
checked against an independent route.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.inhomogeneous as A

RHO = np.diag([0.7, 0.3])
SZ = np.diag([1.0, -1.0])


def _model(kind="hamiltonian", beta=1.0, g0=1.0):
    return A.InhomogeneousReservoir(d=2, beta=beta, g0=g0, theta=0.3, kind=kind, distribution=A.Gaussian(0.05))


# ---- boolean, None, string and float16 arrays where a state, an operator or populations are expected


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: jt.populations(x), "rho"),
        (lambda x: jt.dephase(x), "rho"),
        (lambda x: jt.partial_trace(x, (2,), 0), "rho"),
        (lambda x: jt.expectation(x, RHO), "op"),
        (lambda x: jt.expectation(SZ, x), "rho"),
        (lambda x: jt.gibbs_state(x, 1.0), "h"),
        (lambda x: jt.hermitian_function(jnp.exp, x), "a"),
        (lambda x: jt.collide_unitary(RHO, RHO, jt.partial_swap(2, 0.3), x, SZ), "h_s"),
        (lambda x: A.expansion_error(_model(), x, "work"), "rho"),
    ],
)
@pytest.mark.parametrize(
    "bad", [np.eye(2, dtype=bool), None, np.diag([0.7, 0.3]).astype(np.float16)], ids=["bool", "None", "float16"]
)
def test_matrices_of_no_numeric_precision_are_refused_by_name(call, name, bad):
    with pytest.raises(TypeError, match=rf"^{name} "):
        call(bad)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: jt.shannon_entropy(x), "p"),
        (lambda x: jt.renyi_divergence(np.array([0.5, 0.5]), x, 2.0), "q"),
        (lambda x: jt.free_energy(x, 1.0, 1.0, 2.0), "p"),
    ],
)
@pytest.mark.parametrize("bad", [np.array([True, False]), None], ids=["bool", "None"])
def test_populations_that_are_not_numbers_are_refused(call, name, bad):
    # a boolean [True, False] passed as the populations (1, 0): H = 0, D_2(p‖(1, 0)) = inf
    with pytest.raises(TypeError, match=rf"^{name} "):
        call(bad)


def test_valid_matrices_unchanged():
    """Integer and float32 matrices stay accepted, values as the NumPy expressions."""
    np.testing.assert_allclose(jt.populations(np.eye(2, dtype=int)), [1.0, 1.0])
    np.testing.assert_allclose(jt.expectation(SZ, RHO), np.trace(SZ @ RHO))
    np.testing.assert_allclose(jt.dephase(np.ones((2, 2), np.float32)), np.eye(2))
    assert jt.dephase(np.ones((2, 2), np.float32)).dtype == jnp.float32
    np.testing.assert_allclose(jt.partial_trace(np.kron(RHO, np.eye(2) / 2), (2, 2), 0), RHO)
    np.testing.assert_allclose(jax.jit(jt.populations)(RHO), [0.7, 0.3])


@pytest.mark.parametrize("dtype", ["int32", "float16", "bool", "x"])
def test_swap_takes_the_dtypes_of_spin_z(dtype):
    with pytest.raises(TypeError, match="dtype"):
        jt.swap(2, dtype)


def test_swap_valid_dtypes_unchanged():
    for dtype in (jnp.float32, jnp.complex64, jnp.float64):
        s = jt.swap(3, dtype)
        assert s.dtype == dtype
        v = np.kron(np.arange(3.0), np.array([1.0, 5.0, 7.0]))
        np.testing.assert_allclose(s @ v, np.kron(np.array([1.0, 5.0, 7.0]), np.arange(3.0)), rtol=1e-6)


# ---- overflow of finite input


@pytest.mark.parametrize("beta", [1e300, 1e308, -1e308])
def test_gibbs_state_at_overflowing_beta_is_the_ground_or_top_state(beta):
    """β = 10³⁰⁸ on 10 σ_z gave NaN (β·20 overflowed): the limit is the projector on the ground (top) state."""
    out = np.asarray(jt.gibbs_state(10 * SZ, beta))
    expected = np.diag([0.0, 1.0]) if beta > 0 else np.diag([1.0, 0.0])
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.asarray(jax.jit(jt.gibbs_state)(10 * SZ, beta)), expected)


def test_gibbs_state_clip_keeps_a_degenerate_ground_space_and_the_derivative():
    """The ceiling on |β| acts only where every level outside the rounding band is exp(−10⁴) down: a rotated
    degenerate top space stays uniformly mixed at β = −10³⁰⁰, and dρ/dβ at β = 0.7 is the closed form."""
    x = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    w, v = np.linalg.eigh(x)
    u = v @ np.diag(np.exp(0.3j * w)) @ v.conj().T
    h = u.conj().T @ np.diag([0.0, 2.0, 2.0]) @ u
    top = u @ np.asarray(jt.gibbs_state(h, -1e300)) @ u.conj().T
    np.testing.assert_allclose(np.diag(top).real, [0.0, 0.5, 0.5], atol=1e-12)
    # ρ00 = e^{−β}/(2 cosh β) for σ_z: dρ00/dβ = −1/(2 cosh² β)
    grad = jax.grad(lambda b: jt.gibbs_state(SZ, b)[0, 0])(0.7)
    np.testing.assert_allclose(grad, -0.5 / np.cosh(0.7) ** 2, rtol=1e-10)


def test_gibbs_state_shapes_named():
    with pytest.raises(ValueError, match="^h must be"):
        jt.gibbs_state(np.zeros((0, 0)), 1.0)
    with pytest.raises(ValueError, match="h and beta"):
        jt.gibbs_state(np.zeros((2, 2, 2)), np.ones(3))
    batch = jt.gibbs_state(np.stack([SZ, 2 * SZ]), np.array([0.5, 1.0]))  # broadcasting batches still work
    np.testing.assert_allclose(batch[1], jt.gibbs_state(2 * SZ, 1.0))


def test_log_partition_function_overflow_is_refused():
    """log Z ≈ βg(d−1)/2 = 5·10³⁰⁸ is beyond float64: it was inf without a word; just below, the closed form."""
    with pytest.raises(ValueError, match="log Z .* overflows float64"):
        jt.log_partition_function(2, 1e308, 10.0)
    np.testing.assert_allclose(jt.log_partition_function(2, 1e300, 10.0), 5e300, rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: jt.free_energy(np.array([0.7, 0.3]), 1e-320, 1.0, 2.0),
        lambda: jt.quantum_free_energy(RHO, 1e-310, 1.0, 2.0),
        lambda: A.free_energies(_model(beta=1e-310), RHO, [2.0]),
    ],
)
def test_free_energy_overflow_at_tiny_beta_is_refused(call):
    """F_α = [D_α − log Z]/β with β = 10⁻³²⁰: −log 2/β overflows (it was −inf)."""
    with pytest.raises(ValueError, match="^beta: the free energy"):
        call()


def test_free_energy_small_beta_still_computed():
    """At β = 10⁻³⁰⁰ F_α is finite: F_1 = [D_1 − log Z]/β, D_1 and log Z in closed form (g = 1, uniform τ limit)."""
    p = np.array([0.7, 0.3])
    beta = 1e-300
    d1 = np.sum(p * np.log(p / 0.5))
    np.testing.assert_allclose(jt.free_energy(p, beta, 1.0, 1.0), (d1 - np.log(2.0)) / beta, rtol=1e-9)


def test_reservoir_overflow_named_delta():
    """δ = 10³⁰⁸ with g0 = 2: g_r = g0(1 + δ) overflows; the error said "g must be finite"."""
    with pytest.raises(ValueError, match="^delta: g_r = g0"):
        A.reservoir_state(_model(g0=2.0), 1e308)
    with pytest.raises(ValueError, match="^delta: beta_r = beta"):
        A.reservoir_state(_model("temperature", beta=2.0), 1e308)
    # a large finite g_r is the ground state, as thermal_state says
    np.testing.assert_allclose(A.reservoir_state(_model(), 1e300), jt.thermal_state(2, 1.0, 1e300))


# ---- names and types of numeric arguments


@pytest.mark.parametrize("bad", [None, "1"])
def test_reservoir_hamiltonian_names_delta(bad):
    with pytest.raises(TypeError, match="^delta "):
        A.reservoir_hamiltonian(_model(), bad)


def test_reservoir_hamiltonian_unchanged():
    m = _model()
    np.testing.assert_allclose(A.reservoir_hamiltonian(m, 0.1), 1.1 * jt.spin_z(2))
    assert A.reservoir_hamiltonian(m, np.float32(0.1)).dtype == jnp.float32
    g = jax.grad(lambda x: A.reservoir_hamiltonian(m, x)[1, 1])(0.1)
    np.testing.assert_allclose(g, 0.5)  # ∂(g0(1 + δ)/2)/∂δ


@pytest.mark.parametrize("bad, error", [(1 + 1j, TypeError), (True, TypeError), (None, TypeError), ("1", TypeError)])
@pytest.mark.parametrize("density", [A.work_density, A.heat_density])
def test_density_points_are_real_numbers(density, bad, error):
    with pytest.raises(error, match="^y "):
        density(_model(), RHO, bad)


def test_quadratic_map_refuses_nan_coefficients():
    with pytest.raises(ValueError, match="coeffs.a must be finite"):
        A.quadratic_density(A.Quadratic(np.nan, 1.0, 0.0), lambda x: jnp.exp(-(x**2)), 0.3)
    with pytest.raises(ValueError, match="coeffs.b must be finite"):
        A.quadratic_support(A.Quadratic(1.0, np.nan, 0.0))
    # the density of y = δ² + δ for δ ~ N(0, 1) at y = 0.3 from its two roots
    roots = np.roots([1.0, 1.0, -0.3])
    expected = sum(np.exp(-(r**2) / 2) / np.sqrt(2 * np.pi) for r in roots) / np.sqrt(1 + 4 * 0.3)
    pdf = lambda x: jnp.exp(-(x**2) / 2) / jnp.sqrt(2 * jnp.pi)
    np.testing.assert_allclose(A.quadratic_density(A.Quadratic(1.0, 1.0, 0.0), pdf, 0.3), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda m: A.partial_swap_error(m, np.array([1.0, 2.0]), 0.1), "g_int"),
        (lambda m: A.partial_swap_error(m, 1.0, np.array([0.1, 0.2])), "delta"),
        (lambda m: A.mean_partial_swap_error(m, np.array([1.0, 2.0])), "g_int"),
        (lambda m: A.interaction_picture_exact_unitary(m, np.array([1.0, 2.0]), 0.1), "g_int"),
    ],
)
def test_partial_swap_error_takes_one_value(call, name):
    """An array δ gave the singular values of its first configuration alone; an array g_int failed in JAX."""
    with pytest.raises(ValueError, match=rf"^{name} must be one number"):
        call(_model())


def test_partial_swap_error_vmapped_equals_one_value_calls():
    m = _model()
    deltas = np.array([0.1, -0.2])
    batched = jax.vmap(lambda x: A.partial_swap_error(m, 0.5, x))(deltas)
    for k, x in enumerate(deltas):
        one = A.partial_swap_error(m, 0.5, x)
        np.testing.assert_allclose(batched.unitary[k], one.unitary, rtol=1e-12)
        np.testing.assert_allclose(batched.channel[k], one.channel, rtol=1e-10)


@pytest.mark.parametrize("alphas", [[1 + 1j], [True], None, ["2"]], ids=["complex", "bool", "None", "str"])
def test_divergences_to_thermal_orders_checked(alphas):
    """A complex order lost its imaginary part and True was order 1 (silently); None and "2" failed in JAX."""
    with pytest.raises(TypeError, match="alphas"):
        jt.divergences_to_thermal(RHO, 1.0, 1.0, alphas)


def test_divergences_to_thermal_traced_orders_still_differentiable():
    """Traced orders stay allowed for the classical divergences: dD_α/dα against central differences."""
    f = lambda a: jt.divergences_to_thermal(RHO, 1.0, 1.0, jnp.stack([a]))[0]
    h = 1e-5
    np.testing.assert_allclose(jax.grad(f)(2.0), (f(2.0 + h) - f(2.0 - h)) / (2 * h), rtol=1e-6)


def test_free_energy_changes_names_states():
    states = np.stack([RHO, RHO, 2 * RHO])
    with pytest.raises(ValueError, match="^states must have unit trace"):
        A.free_energy_changes(_model(), states, [1.0])


def test_lindblad_dissipator_rates_real():
    jump = np.array([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(TypeError, match="^rates must be real"):
        jt.lindblad_dissipator(np.array([0.3 + 0.1j]), jump[None], RHO)
    # D[σ₋]ρ = σ₋ρσ₊ − ½{σ₊σ₋, ρ} by hand
    expected = 0.3 * (jump @ RHO @ jump.T - 0.5 * (jump.T @ jump @ RHO + RHO @ jump.T @ jump))
    np.testing.assert_allclose(jt.lindblad_dissipator(np.array([0.3]), jump[None], RHO), expected)


def test_superoperator_names_linear_map():
    with pytest.raises(TypeError, match="^linear_map must be"):
        jt.superoperator(3, 2)


def test_sweep_refuses_a_list_of_steps_by_name():
    with pytest.raises(ValueError, match="^n_steps="):
        jt.sweep(_model(), RHO, [4], 8, grid={"theta": [0.1]})


def test_frozen_vs_averaged_names_rho0():
    with pytest.raises(ValueError, match="^rho0 "):
        jt.frozen_vs_averaged_divergence(_model(), np.ones((2, 3)) / 3, jax.random.key(0), 8, 2, [1.0])


def test_traced_theta_and_delta_named_under_validate_always():
    """collision_step's own θ ran through to a NaN collision under validate="always"; a traced NaN δ was refused as
    "g must be finite" (g_r's check downstream)."""
    m = _model()
    step = jax.jit(lambda t: A.collision_step(m, RHO, 0.1, t).state)
    state = jax.jit(lambda x: A.reservoir_state(m, x))
    with jt.config.override(validate="always"):
        with pytest.raises(Exception, match="theta must be finite"):
            jax.block_until_ready(step(jnp.nan))
        with pytest.raises(Exception, match="delta must be finite"):
            jax.block_until_ready(state(jnp.nan))
        np.testing.assert_allclose(step(0.3), A.collision_step(m, RHO, 0.1, 0.3).state, atol=1e-15)
    # the closed form of a partial swap with a thermal ancilla: p0' = cos²θ p0 + sin²θ q0(δ)
    q0 = A.reservoir_populations(m, 0.1)[0]
    np.testing.assert_allclose(step(0.3)[0, 0].real, np.cos(0.3) ** 2 * 0.7 + np.sin(0.3) ** 2 * q0, atol=1e-14)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_small_delta_mean_work_one_value_per_variance(kind):
    """An array of σ² gives one mean work each, as one call per σ² does (the temperature kind gave one 0)."""
    m = _model(kind)
    variances = np.array([0.01, 0.02])
    out = A.small_delta_mean_work(m, variances)
    assert out.shape == (2,)
    np.testing.assert_allclose(out, [A.small_delta_mean_work(m, v) for v in variances], rtol=1e-14)


@pytest.mark.parametrize("name", ["rho", "h"])
@pytest.mark.parametrize(
    "bad", [np.eye(2, dtype=bool), None, np.diag([0.7, 0.3]).astype(np.float16)], ids=["bool", "None", "float16"]
)
@pytest.mark.parametrize("function", ["pinching", "energy_coherence"])
def test_model_b_dephasing_refuses_matrices_of_no_numeric_precision(function, name, bad):
    """None failed inside JAX, a boolean ρ in jnp's subtract, a float16 one inside LAPACK, naming nothing."""
    args = {"rho": RHO, "h": SZ, name: bad}
    with pytest.raises(TypeError, match=rf"^{name} "):
        getattr(jt.coherent, function)(args["rho"], args["h"])


def test_model_b_dephasing_unchanged():
    """Δ_H[ρ] in the eigenbasis of σ_x by hand; the relative entropy of coherence of |+⟩ there is 0, of |0⟩ log 2."""
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    plus = np.full((2, 2), 0.5)
    zero = np.diag([1.0, 0.0])
    np.testing.assert_allclose(jt.coherent.pinching(zero, sx), np.eye(2) / 2, atol=1e-15)
    np.testing.assert_allclose(jt.coherent.energy_coherence(plus, sx), 0.0, atol=1e-12)
    np.testing.assert_allclose(jt.coherent.energy_coherence(zero, sx), np.log(2.0), rtol=1e-12)


def test_collision_step_theta_type_named():
    with pytest.raises(TypeError, match="^theta "):
        A.collision_step(_model(), RHO, 0.1, "1")


def test_traced_nan_order_staged_under_validate_always():
    """A traced NaN α gave D_α = NaN under validate="always"; ±inf stay orders (D_∞ = log max p/q)."""
    p, q = jnp.array([0.7, 0.3]), jnp.array([0.5, 0.5])
    with jt.config.override(validate="always"):
        with pytest.raises(Exception, match="not NaN"):
            jax.block_until_ready(jax.jit(lambda a: jt.renyi_divergence(p, q, a))(jnp.nan))
        d_inf = jax.jit(lambda a: jt.renyi_divergence(p, q, a))(jnp.inf)
    np.testing.assert_allclose(d_inf, np.log(0.7 / 0.5), rtol=1e-14)


def test_an_infinite_divergence_still_gives_an_infinite_free_energy():
    """D_α = +∞ for α < 0 where p_j = 0 < q_j (docs/information.md §2): F_α = +∞ is the value, not an overflow; at
    α = 2 the same p gives the finite F_2 = [D_2 − log Z]/β of the closed form."""
    p = np.array([1.0, 0.0])
    assert np.isposinf(jt.free_energy(p, 1.0, 1.0, -1.0))
    assert np.isposinf(A.free_energies(_model(), np.diag(p), [-1.0])[0])
    q = np.asarray(jt.thermal_populations(2, 1.0, 1.0))
    expected = (np.log(np.sum(p**2 / q)) - np.log(np.exp(0.5) + np.exp(-0.5))) / 1.0
    np.testing.assert_allclose(jt.free_energy(p, 1.0, 1.0, 2.0), expected, rtol=1e-12)
