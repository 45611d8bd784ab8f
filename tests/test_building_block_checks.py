"""Input checks of the building blocks ``collide_unitary``, ``gibbs_populations``, ``dephase`` and
``lindblad_dissipator``: each case below was computed without a word before (a "unitary" 2·1 gave
a system state of trace 4; NaN β gave NaN populations; two rates for one jump were broadcast to
3 D[L]ρ; a vector was "dephased" into the identity) or failed deep inside JAX without naming the
argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

import jaxthermo as jt

H2 = np.diag([0.0, 1.0])
RS, RA = np.diag([0.7, 0.3]), np.diag([0.6, 0.4])


def random_unitary(n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return expm(-1j * (a + a.conj().T) / 2)


@pytest.mark.parametrize(
    "args, words",
    [
        ((RS, RA, 2 * np.eye(4), H2, H2), "unitary is not unitary"),
        ((RS, RA, np.full((4, 4), np.nan), H2, H2), "unitary must be finite"),
        ((RS, RA, np.eye(6), H2, H2), "unitary has shape (6, 6)"),
        ((RS, RA, np.eye(4), np.array([[0, 1], [0, 1.0]]), H2), "h_s is not Hermitian"),
        ((RS, RA, np.eye(4), np.diag([0, 1.0, 2]), H2), "h_s has shape (3, 3)"),
        ((np.diag([1.2, -0.2]), RA, np.eye(4), H2, H2), "rho_s is not positive"),
        ((RS, np.diag([0.6, 0.6]), np.eye(4), H2, H2), "rho_a must have unit trace"),
        ((RS, np.ones(2), np.eye(4), H2, H2), "rho_a must be a square matrix"),
    ],
)
def test_collide_unitary_refuses(args, words):
    with pytest.raises(ValueError) as info:
        jt.collide_unitary(*args)
    assert words in str(info.value)


def test_collide_unitary_accepts_rounded_and_traced_unitaries():
    """A float32 unitary (rounding ~1e-7) passes; under jit the unitary is not checked (traced) and
    the result equals the eager one; the first law ΔU = W + Q holds (an independent identity)."""
    u = random_unitary(4)
    res = jt.collide_unitary(RS, RA, u, H2, H2)
    u32 = u.astype(np.complex64)
    jt.collide_unitary(RS.astype(np.float32), RA.astype(np.float32), u32, H2, H2)
    jitted = jax.jit(jt.collide_unitary)(RS, RA, u, H2, H2)
    np.testing.assert_allclose(jitted.system, res.system, atol=1e-14)
    assert abs(float(res.energy_change - res.work - res.heat)) < 1e-14
    # the reduced state by hand: Tr_A[U (ρ_S ⊗ ρ_A) U†]
    x = u @ np.kron(RS, RA) @ u.conj().T
    np.testing.assert_allclose(res.system, np.einsum("iaja->ij", x.reshape(2, 2, 2, 2)), atol=1e-14)


@pytest.mark.parametrize(
    "energies, beta, error, words",
    [
        ([0.0, 1.0, 2.0], np.nan, ValueError, "beta must be finite"),
        ([0.0, 1.0, 2.0], np.inf, ValueError, "beta must be finite"),
        ([0.0, np.nan, 2.0], 1.0, ValueError, "energies must be finite"),
        ([0.0, 1j, 2.0], 1.0, TypeError, "energies must be real"),
        ([], 1.0, ValueError, "energies must have shape (..., d) with d >= 1"),
    ],
)
def test_gibbs_populations_refuses(energies, beta, error, words):
    with pytest.raises(error) as info:
        jt.gibbs_populations(np.asarray(energies), beta)
    assert words in str(info.value)


def test_gibbs_populations_values_and_traced_beta():
    e = np.array([0.0, 1.0, 2.5])
    want = np.exp(-0.7 * e) / np.exp(-0.7 * e).sum()
    np.testing.assert_allclose(jt.gibbs_populations(e, 0.7), want, rtol=1e-14)
    np.testing.assert_allclose(jax.jit(jt.gibbs_populations)(e, 0.7), want, rtol=1e-14)
    g = jax.grad(lambda b: jt.gibbs_populations(e, b)[0])(0.7)
    fd = (jt.gibbs_populations(e, 0.7 + 1e-6)[0] - jt.gibbs_populations(e, 0.7 - 1e-6)[0]) / 2e-6
    assert abs(float(g - fd)) < 1e-8


def test_dephase_needs_a_square_matrix():
    for bad in (np.ones(3), np.ones((2, 3))):
        with pytest.raises(ValueError, match="rho must be a square matrix"):
            jt.dephase(bad)
    rho = np.array([[0.6, 0.2j], [-0.2j, 0.4]])
    np.testing.assert_allclose(jt.dephase(rho), np.diag([0.6, 0.4]))
    np.testing.assert_allclose(jt.dephase(np.stack([rho, rho])), np.stack([np.diag([0.6, 0.4])] * 2))


def test_lindblad_dissipator_shapes_and_rates():
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])
    rho = np.array([[0.3, 0.1], [0.1, 0.7]])

    def by_hand(gamma, jump):
        return gamma * (jump @ rho @ jump.conj().T - 0.5 * (jump.conj().T @ jump @ rho + rho @ jump.conj().T @ jump))

    # a negative rate (a time-local generator of a non-Markovian map) is legal
    got = jt.lindblad_dissipator(np.array([-0.5, 2.0]), np.stack([lower, lower.T]), rho)
    np.testing.assert_allclose(got, by_hand(-0.5, lower) + by_hand(2.0, lower.T), atol=1e-15)
    cases = [
        ((np.array([1.0, 2.0]), lower[None], rho), "rates must have shape (K,) = (1,)"),
        ((1.0, lower[None], rho), "rates must have shape (K,) = (1,)"),
        ((np.array([1.0]), lower, rho), "jumps must have shape (K, d, d)"),
        ((np.array([1.0]), lower[None], np.eye(3) / 3), "rho must have shape (2, 2)"),
        ((np.array([np.nan]), lower[None], rho), "rates must be finite"),
    ]
    for args, words in cases:
        with pytest.raises(ValueError) as info:
            jt.lindblad_dissipator(*args)
        assert words in str(info.value)
    traced = jax.jit(jt.lindblad_dissipator)(jnp.array([1.0]), lower[None], rho)
    np.testing.assert_allclose(traced, by_hand(1.0, lower), atol=1e-15)


@pytest.mark.parametrize(
    "function, args",
    [
        (jt.renyi_divergence, (np.array([0.7, 0.3]), np.array([0.2, 0.3, 0.5]), 2.0)),
        (jt.relative_entropy, (np.diag([0.7, 0.3]), np.eye(3) / 3)),
        (jt.petz_renyi_divergence, (np.diag([0.7, 0.3]), np.eye(3) / 3, 0.5)),
        (jt.sandwiched_renyi_divergence, (np.diag([0.7, 0.3]), np.eye(3) / 3, 2.0)),
        (jt.quantum_renyi_divergence, (np.diag([0.7, 0.3]), np.eye(3) / 3, 2.0)),
        (jt.trace_distance, (np.diag([0.7, 0.3]), np.eye(3) / 3)),
    ],
)
def test_divergences_of_states_of_different_dimension(function, args):
    """Before: an einsum label or broadcasting error from inside JAX, naming neither argument."""
    with pytest.raises(ValueError, match="must have the same dimension d; got shapes"):
        function(*args)


def test_partial_swap_refuses_non_finite_angles():
    """Before: an all-NaN 'unitary' for θ = NaN or ±∞. The finite case against cos θ·1 + i sin θ·S
    built from the swap's definition S|ab⟩ = |ba⟩."""
    for theta in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="theta must be finite"):
            jt.partial_swap(2, theta)
    with pytest.raises(ValueError, match="d=1"):
        jt.partial_swap(1, 0.1)
    swap = np.zeros((9, 9))
    for a in range(3):
        for b in range(3):
            swap[b * 3 + a, a * 3 + b] = 1.0
    want = np.cos(0.3) * np.eye(9) + 1j * np.sin(0.3) * swap
    np.testing.assert_allclose(jt.partial_swap(3, 0.3), want, atol=1e-15)
    with pytest.raises(ValueError, match="d=0"):
        jt.log_partition_function(0, 1.0, 1.0)


def test_qudit_helpers_name_their_arguments():
    """Before: partial_trace truncated dims=(2.5, 2) to (2, 2) silently and failed on keep=1.0 with
    "list indices must be integers"; tensor() raised IndexError; expectation/commutator of a 3×3
    operator and a 2×2 state failed inside JAX."""
    cases = [
        (lambda: jt.partial_trace(np.eye(4) / 4, (2.5, 2), 0), TypeError, "dims=2.5"),
        (lambda: jt.partial_trace(np.eye(4) / 4, (2, 2), 1.0), TypeError, "keep=1.0"),
        (lambda: jt.tensor(), ValueError, "at least one operator"),
        (lambda: jt.tensor(np.eye(2), np.ones(2)), ValueError, "operator 1 must have shape"),
        (lambda: jt.expectation(np.eye(3), np.eye(2) / 2), ValueError, "op and rho must be"),
        (lambda: jt.commutator(np.eye(3), np.eye(2)), ValueError, "a and b must be"),
    ]
    for call, error, words in cases:
        with pytest.raises(error) as info:
            call()
        assert words in str(info.value)
    # NumPy integers and index arrays are integers: Tr_B of |0><0| ⊗ 1/2 is |0><0|
    rho = np.kron(np.diag([1.0, 0.0]), np.eye(2) / 2)
    for keep in (np.int64(0), [0], np.array([0])):
        np.testing.assert_allclose(jt.partial_trace(rho, np.array([2, 2]), keep), np.diag([1.0, 0.0]))


def test_hermitian_function_needs_a_hermitian_matrix():
    """``eigh`` reads one triangle: [[0, 1], [0, 0]] gave e^{σ_x} without a word; NaN gave NaN. The
    Hermitian case against SciPy's expm; traced inputs (grad) go through unchecked."""
    for bad, words in (
        (np.array([[0.0, 1.0], [0.0, 0.0]]), "a is not Hermitian"),
        (np.full((2, 2), np.nan), "a must be finite"),
        (np.ones(2), "a must be a square matrix"),
    ):
        with pytest.raises(ValueError, match=words):
            jt.hermitian_function(jnp.exp, bad)
    a = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, -0.4]])
    np.testing.assert_allclose(jt.hermitian_function(jnp.exp, a), expm(a), atol=1e-14)
    g = jax.grad(lambda t: jnp.real(jnp.trace(jt.hermitian_function(jnp.exp, t * a))))(1.0)
    assert abs(float(g) - float(np.real(np.trace(a @ expm(a))))) < 1e-12


def test_superoperator_dimension():
    """d = 0 gave an empty matrix without a word. The matrix of X ↦ A X B is A ⊗ Bᵀ (row-major)."""
    with pytest.raises(ValueError, match="d=0"):
        jt.superoperator(lambda x: x, 0)
    with pytest.raises(TypeError, match="d=2.0"):
        jt.superoperator(lambda x: x, 2.0)
    a, b = np.array([[1.0, 2.0], [0.0, 1j]]), np.array([[0.5, 0.0], [3.0, -1.0]])
    np.testing.assert_allclose(jt.superoperator(lambda x: a @ x @ b, 2), np.kron(a, b.T), atol=1e-15)


def test_gibbs_state_beta_must_be_a_real_number():
    """Before: beta='1' (a string from a config file, say) failed inside np.isfinite ("ufunc 'isfinite'
    not supported"), not naming beta; a complex beta lost its imaginary part."""
    for beta, words in (("1", "beta must be a real number"), (1 + 1j, "beta must be real")):
        with pytest.raises(TypeError, match=words):
            jt.gibbs_state(H2, beta)
    np.testing.assert_allclose(jt.gibbs_state(H2, 1.0), np.diag([1.0, np.exp(-1.0)]) / (1 + np.exp(-1.0)), rtol=1e-15)
    g = jax.grad(lambda b: jt.gibbs_state(H2, b)[1, 1].real)(1.0)
    assert abs(float(g) - (-np.exp(-1.0) / (1 + np.exp(-1.0)) ** 2)) < 1e-14
