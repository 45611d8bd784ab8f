"""Model B under a physicist's trial (helper-44): energies in any unit, batches of Hamiltonians, bad input.

Independent routes: NumPy's eigendecomposition and entropies, SciPy's expm for the collision
(tests/coherent/helpers.py), closed forms.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import collision_thermodynamics, energy_coherence, pinching
from tests.coherent.helpers import numpy_entropy, ptrace, random_model_arrays, reference_collision
from tests.helpers import random_hermitian, random_state


def numpy_pinching(rho, h):
    """Dephasing in the eigenbasis of a non-degenerate h (NumPy)."""
    _, u = np.linalg.eigh(h)
    rotated = u.conj().T @ rho @ u
    return u @ np.diag(np.diag(rotated)) @ u.conj().T


def numpy_coherence(rho, h):
    return numpy_entropy(numpy_pinching(rho, h)) - numpy_entropy(rho)


@pytest.mark.parametrize("scale", [1e-9, 1e-10, 1e-12, 1e-15])
def test_energy_coherence_does_not_depend_on_the_unit_of_h(scale):
    # |+><+| in the eigenbasis of a qubit of splitting `scale`: C = log 2 in any unit. The block mask took
    # every gap below 1e-9 (absolutely) as a degeneracy and returned 0.
    plus = np.full((2, 2), 0.5)
    h = scale * np.diag([0.0, 1.0])
    np.testing.assert_allclose(float(energy_coherence(plus, h)), np.log(2), rtol=1e-13)
    rng = np.random.default_rng(7)
    rho, h3 = random_state(3, rng), scale * random_hermitian(3, rng)
    np.testing.assert_allclose(pinching(rho, h3), numpy_pinching(rho, h3), atol=1e-13)
    np.testing.assert_allclose(float(energy_coherence(rho, h3)), numpy_coherence(rho, h3), atol=1e-12)


def test_pinching_keeps_a_degenerate_block_at_any_scale():
    # h = s·diag(0, 0, 1): the degenerate pair stays one block (its coherence kept), the third level dephased
    rng = np.random.default_rng(3)
    rho = random_state(3, rng)
    for s in (1e-12, 1.0, 1e8):
        out = np.asarray(pinching(rho, s * np.diag([0.0, 0.0, 1.0])))
        expected = rho * np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])
        np.testing.assert_allclose(out, expected, atol=1e-15)


def test_pinching_and_coherence_of_a_batch_of_hamiltonians():
    # a batch of h (B, d, d): each state dephased in its own h's eigenbasis (the mask was formed as if h were
    # one matrix: 0.48 off, and energy_coherence refused its own non-Hermitian result)
    rng = np.random.default_rng(11)
    rhos = np.stack([random_state(3, rng) for _ in range(4)])
    hs = np.stack([random_hermitian(3, rng) for _ in range(4)])
    for r, h in ((rhos, hs), (rhos[0], hs)):
        got = np.asarray(pinching(r, h))
        rb = np.broadcast_to(r, hs.shape)
        np.testing.assert_allclose(got, [numpy_pinching(rb[i], hs[i]) for i in range(4)], atol=1e-13)
        np.testing.assert_allclose(
            np.asarray(energy_coherence(r, h)), [numpy_coherence(rb[i], hs[i]) for i in range(4)], atol=1e-12
        )
    # and its derivative in h, member by member, vs central differences
    direction = random_hermitian(3, rng)

    def c(x):
        return jnp.sum(energy_coherence(rhos, hs + x * direction))

    fd = (c(1e-6) - c(-1e-6)) / 2e-6
    np.testing.assert_allclose(float(jax.grad(c)(0.0)), float(fd), rtol=1e-6)


def test_model_in_small_energy_units_matches_numpy():
    # the same physics with energies in units 1e-10 (β scaled up): the χ check took the 1e-10 gaps for a
    # degeneracy and refused a legal χ; ΔC_A (pinching in the eigenbasis of H_A) equals NumPy's
    rng = np.random.default_rng(4)
    p = random_model_arrays(2, 3, rng, omega=1e-10, beta=0.7e10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = jt.CoherentCollisionModel(**p)
    rho = random_state(2, rng)
    th = collision_thermodynamics(model, rho)
    _, rho_a_out, _ = reference_collision(p, rho)
    rho_a = ptrace(np.kron(rho, np.asarray(jt.coherent.ancilla_state(model))), 2, 3, 1)
    expected = numpy_coherence(rho_a_out, p["H_A"]) - numpy_coherence(rho_a, p["H_A"])
    assert abs(expected) > 1e-4  # a coherence change that a spurious degeneracy would set to 0
    np.testing.assert_allclose(float(th.coherence_change), expected, rtol=1e-8, atol=1e-13)


@pytest.mark.parametrize(
    ("rho", "h", "message"),
    [
        (np.array([0.7, 0.3]), np.diag([0.0, 1.0]), "rho must be an operator of shape"),
        (np.diag([0.7, 0.3]), np.array([[0.0, 1.0], [0.0, 1.0]]), "h is not Hermitian"),
        (np.diag([0.7, 0.3]), np.array([[np.nan, 1.0], [1.0, 1.0]]), "h must be finite"),
        (np.diag([np.nan, 0.3]), np.diag([0.0, 1.0]), "rho must be finite"),
        (np.diag([0.7, 0.3]), np.eye(3), "rho has dimension 2 but h has dimension 3"),
        (np.stack([np.eye(2) / 2] * 2), np.stack([np.eye(2)] * 3), "batch shapes"),
    ],
)
def test_pinching_refuses_bad_input_naming_it(rho, h, message):
    # these gave a (2,)-shaped or NaN result, or a shape error from inside the einsum
    with pytest.raises(ValueError, match=message):
        pinching(rho, h)


def test_free_energy_at_infinite_temperature_is_the_limit_not_nan():
    # F = U − S/β at β = 0: the limit β → 0⁺ is ∓∞ by the sign of the entropy change, and the energy change
    # where the entropy does not change (0/0 gave NaN: the maximally mixed state, stationary at β = 0)
    model = jt.qubit_example(beta=0.0)
    mixed = np.eye(2) / 2
    h = np.asarray(model.H_S)
    rho_dot = np.asarray(jt.master_equation_rhs(model, mixed))
    assert float(jt.coherent.entropy_rate(model, mixed)) == 0.0
    np.testing.assert_allclose(
        float(jt.coherent.free_energy_rate(model, mixed)), np.trace(h @ rho_dot).real, atol=1e-15
    )
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")}
    p.update(beta=0.0, lam=float(model.lam), tau=float(model.tau))
    rho_out, _, _ = reference_collision(p, mixed)
    th = collision_thermodynamics(model, mixed)
    if float(jt.von_neumann_entropy(rho_out)) == float(jt.von_neumann_entropy(mixed)):
        np.testing.assert_allclose(float(th.free_energy_change), np.trace(h @ (rho_out - mixed)).real, atol=1e-15)
    else:  # ΔS ≠ 0 in floating point: the sign of the limit
        assert np.isinf(float(th.free_energy_change))
    # a state whose entropy grows at β = 0: −∞, as the values at small β > 0 approach
    rho = np.array([[0.8, 0.1], [0.1, 0.2]])
    assert float(jt.coherent.entropy_rate(model, rho)) > 0
    assert float(jt.coherent.free_energy_rate(model, rho)) == -np.inf
    small = [float(jt.coherent.free_energy_rate(jt.qubit_example(beta=b), rho)) for b in (1e-3, 1e-6)]
    assert small[1] < small[0] < 0


def test_nested_lists_as_states_give_the_array_result_without_warnings():
    # propagate and stroboscopic_trajectory read the shape of a list ρ0 through jnp.ndim/jnp.shape, which JAX
    # deprecates for lists (a DeprecationWarning from inside the library, an error in a future JAX)
    model = jt.qubit_example()
    rho = [[0.7, 0.1], [0.1, 0.3]]
    times = np.linspace(0.0, 1.0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        states = jt.propagate(model, rho, times)
        traj = jt.stroboscopic_trajectory(model, rho, 2)
    np.testing.assert_array_equal(states, jt.propagate(model, np.asarray(rho), times))
    np.testing.assert_array_equal(traj.states, jt.stroboscopic_trajectory(model, np.asarray(rho), 2).states)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.rates(np.eye(3), 1.0), r"H_A must have shape \(2, 2\)"),
        (lambda c: c.rates(np.array([[0.0, 1.0], [0.0, 1.0]]), 1.0), "H_A is not Hermitian"),
        (lambda c: c.dissipator(np.diag([1.2, -0.2]), np.diag([-0.5, 0.5]), 1.0), "rho is not positive"),
        (lambda c: c.dissipator(np.diag([np.nan, 1.0]), np.diag([-0.5, 0.5]), 1.0), "rho must be finite"),
        (lambda c: c.dissipator(np.eye(3) / 3, np.diag([-0.5, 0.5]), 1.0), r"rho must have shape \(2, 2\)"),
        (lambda c: c.drive(np.array([[0.0, np.nan], [np.nan, 0.0]])), "chi must be finite"),
        (lambda c: c.drive(np.eye(3)), r"chi must have shape \(2, 2\)"),
    ],
)
def test_eigenoperator_coupling_methods_refuse_bad_input_naming_it(call, message):
    # a non-state ρ gave a dissipator (−0.47 on the diagonal), a NaN ρ or χ NaN, other dimensions an einsum's
    # "Size of label 'j' ... does not match": the model-level functions already refused them
    with pytest.raises(ValueError, match=message):
        call(jt.coherent.qubit_coupling())


def test_collision_unitary_takes_a_positive_number_of_species():
    # n_species = 0 gave a NaN unitary, −1 the backward collision e^{+i(τ)(H_S + H_A) − i√τV}, 2.5 a collision of
    # τ/2.5, all without a word; m = 2 is SciPy's exp(−i(τ/2)(H_S + H_A) − i√τ V)
    from scipy.linalg import expm

    model = jt.qubit_example()
    h0 = np.kron(np.asarray(model.H_S), np.eye(2)) + np.kron(np.eye(2), np.asarray(model.H_A))
    tau = float(model.tau)
    expected = expm(-1j * (tau / 2 * h0 + np.sqrt(tau) * np.asarray(model.V)))
    np.testing.assert_allclose(jt.coherent.collision_unitary(model, 2), expected, atol=1e-14)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_species"):
            jt.coherent.collision_unitary(model, bad)
