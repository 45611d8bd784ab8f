"""Refusals that name the parameter where a shape, an empty order list or a non-finite entry failed in JAX's
own words or gave NaN without one (a bad-input audit of the public functions), and the inputs next to them that
must keep working, each against an independent route."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt


@pytest.mark.parametrize(
    "call", [jt.thermal_state, jt.thermal_populations, jt.log_partition_function], ids=lambda f: f.__name__
)
def test_temperatures_that_do_not_broadcast_name_beta_and_g(call):
    # JAX said "mul got incompatible shapes for broadcasting: (3,), (2,)"
    with pytest.raises(ValueError, match=r"beta and g: shapes \(3,\) and \(2,\) do not broadcast"):
        call(2, jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0]))


def test_temperatures_that_broadcast_still_give_one_state_per_beta():
    betas = np.array([0.5, 1.0, 2.0])
    got = np.asarray(jt.thermal_populations(3, betas, 1.5))
    for k, beta in enumerate(betas):  # exp(−β g s_z)/Z, s_z = diag(j − (d − 1)/2) = diag(−1, 0, 1), written out
        w = np.exp(-beta * 1.5 * np.array([-1.0, 0.0, 1.0]))
        np.testing.assert_allclose(got[k], w / w.sum(), rtol=1e-14)


def test_expectation_and_renyi_divergence_name_batches_that_do_not_broadcast():
    half = jnp.eye(2) / 2
    with pytest.raises(ValueError, match=r"op and rho: batch shapes \(3,\) and \(4,\) do not broadcast"):
        jt.expectation(jnp.stack([jnp.eye(2)] * 3), jnp.stack([half] * 4))  # einsum "Size of label …"
    with pytest.raises(ValueError, match=r"p and q: batch shapes \(3,\) and \(4,\) do not broadcast"):
        jt.renyi_divergence(jnp.ones((3, 2)) / 2, jnp.ones((4, 2)) / 2, 1.0)


def test_batches_that_broadcast_equal_the_members_one_by_one():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=4)
    q = np.array([0.5, 0.3, 0.2])
    got = np.asarray(jt.renyi_divergence(p, q, 2.0))
    np.testing.assert_allclose(got, [np.log(np.sum(pk**2 / q)) for pk in p], rtol=1e-13)  # D_2 = log Σ p²/q
    ops = np.stack([np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])])
    rho = np.array([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]])
    np.testing.assert_allclose(np.asarray(jt.expectation(ops, rho)), [0.4, 0.4], rtol=1e-14)  # Tr σ_z ρ, Tr σ_x ρ


@pytest.mark.parametrize("quantum", [False, True])
def test_no_renyi_order_gives_an_empty_column_axis(quantum):
    """It failed in jnp.stack ("Need at least one array to stack"), where jt.free_energies gave (0,)."""
    rho = jnp.diag(jnp.array([0.7, 0.3]))
    assert jt.divergences_to_thermal(rho, 1.0, 1.0, [], quantum=quantum).shape == (0,)
    assert jt.divergences_to_thermal(jnp.stack([rho] * 3), jnp.ones(3), 1.0, (), quantum=quantum).shape == (3, 0)
    both = jt.divergences_to_thermal(rho, 1.0, 1.0, [1.0], quantum=quantum)
    t = np.exp(-np.array([-0.5, 0.5]))  # τ_S of g s_z, s_z = diag(−½, ½), β g = 1
    t /= t.sum()
    np.testing.assert_allclose(np.asarray(both), [np.sum([0.7, 0.3] * np.log(np.array([0.7, 0.3]) / t))], rtol=1e-13)


def test_lindblad_term_refuses_what_lindblad_dissipator_refuses():
    lower = jnp.array([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="rho must be finite"):
        jt.coherent.lindblad_term(lower, jnp.array([[jnp.nan, 0.0], [0.0, 0.5]]))  # all NaN, no error
    with pytest.raises(ValueError, match="jump must be finite"):
        jt.coherent.lindblad_term(jnp.full((2, 2), jnp.inf), jnp.eye(2) / 2)
    with pytest.raises(ValueError, match=r"jump and rho must be \(\.\.\., d, d\) of the same d; got shapes \(3, 3\)"):
        jt.coherent.lindblad_term(jnp.eye(3), jnp.eye(2) / 2)  # dot_general's TypeError
    with pytest.raises(ValueError, match=r"jump and rho: batch shapes \(2,\) and \(3,\) do not broadcast"):
        jt.coherent.lindblad_term(jnp.stack([lower] * 2), jnp.stack([jnp.eye(2) / 2] * 3))


def test_lindblad_term_of_the_lowering_operator_written_out():
    # L = |0⟩⟨1|: LρL† = ρ11 |0⟩⟨0|, L†L = |1⟩⟨1|, so D[L]ρ = [[ρ11, −ρ01/2], [−ρ10/2, −ρ11]]
    rho = jnp.array([[0.6, 0.1 + 0.2j], [0.1 - 0.2j, 0.4]])
    got = np.asarray(jt.coherent.lindblad_term(jnp.array([[0.0, 1.0], [0.0, 0.0]]), rho))
    np.testing.assert_allclose(got, [[0.4, -(0.1 + 0.2j) / 2], [-(0.1 - 0.2j) / 2, -0.4]], atol=1e-16)


def test_populations_refuse_a_matrix_that_is_not_square():
    with pytest.raises(ValueError, match=r"rho must have shape \(\.\.\., d, d\); got \(2, 3\)"):
        jt.populations(jnp.ones((2, 3)))  # gave [1, 1], the diagonal of its 2×2 corner


def test_partial_trace_refuses_a_repeated_subsystem_and_keeps_tensor_order():
    rng = np.random.default_rng(1)
    a, b = (rng.dirichlet(np.ones(d)) for d in (2, 3))
    rho = jnp.asarray(np.kron(np.diag(a), np.diag(b)))
    with pytest.raises(ValueError, match=r"keep=\(0, 0\): each subsystem index at most once"):
        jt.partial_trace(rho, (2, 3), (0, 0))  # gave ρ_A, the repeat dropped
    np.testing.assert_allclose(np.asarray(jt.partial_trace(rho, (2, 3), (1, 0))), np.kron(np.diag(a), np.diag(b)))
    np.testing.assert_allclose(np.asarray(jt.partial_trace(rho, (2, 3), 1)), np.diag(b), atol=1e-16)


def test_map_over_models_names_model_and_fn():
    h = jnp.diag(jnp.array([0.0, 1.0]))
    sm = jnp.array([[0.0, 1.0], [0.0, 0.0]])
    v = jnp.kron(sm, sm.T) + jnp.kron(sm.T, sm)
    model = jt.CoherentCollisionModel(h, h, v, beta=1.0, chi=sm + sm.T, lam=0.1, tau=0.01)
    with pytest.raises(TypeError, match="model: map_over_models takes a model B, .*; got int"):
        jt.coherent.map_over_models(lambda m: m, 3)  # AttributeError: 'int' object has no attribute 'species'
    with pytest.raises(TypeError, match="fn must be a function of one model; got int"):
        jt.coherent.map_over_models(3, model)


def test_superoperator_refuses_a_map_with_non_finite_images():
    with pytest.raises(ValueError, match="linear_map's images must be finite"):
        jt.superoperator(lambda x: x * jnp.nan, 2)  # a NaN (4, 4) matrix
    h = jnp.diag(jnp.array([0.0, 1.0]))
    s = np.asarray(jt.superoperator(lambda x: -1j * (h @ x - x @ h), 2))
    # −i(H ⊗ 1 − 1 ⊗ Hᵀ) in row-major vectorisation, written out
    np.testing.assert_allclose(
        s, -1j * (np.kron(np.diag([0.0, 1.0]), np.eye(2)) - np.kron(np.eye(2), np.diag([0.0, 1.0])))
    )
