"""Operators and states (docs/conventions.md) against their definitions and QuTiP."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from scipy.linalg import expm

import jaxthermo as jt
from tests.helpers import random_state


@pytest.mark.parametrize("d", [2, 3, 5])
def test_spin_z_is_qutip_jz_reversed(d):
    # QuTiP's jmat(j, 'z') is diag(j, j-1, ..., -j); ours runs upward so |0> is the ground state.
    jz = qutip.jmat((d - 1) / 2, "z").full()
    np.testing.assert_allclose(jt.spin_z(d), np.diag(np.diag(jz)[::-1]).real, atol=1e-15)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_swap_exchanges_product_vectors(d):
    s = np.asarray(jt.swap(d))
    eye = np.eye(d)
    for a in range(d):
        for b in range(d):
            np.testing.assert_array_equal(s @ np.kron(eye[a], eye[b]), np.kron(eye[b], eye[a]))


@pytest.mark.parametrize("d", [2, 3])
def test_partial_swap_is_generated_by_the_swap(d):
    theta = 0.37
    u = np.asarray(jt.partial_swap(d, theta))
    np.testing.assert_allclose(u, expm(1j * theta * np.asarray(jt.swap(d))), atol=1e-14)
    np.testing.assert_allclose(u @ u.conj().T, np.eye(d * d), atol=1e-14)
    # batched angles
    ub = jt.partial_swap(d, jnp.array([0.1, 0.2]))
    assert ub.shape == (2, d * d, d * d)
    np.testing.assert_allclose(ub[1], jt.partial_swap(d, 0.2), atol=1e-15)


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("beta_g", [0.0, 0.3, 1.0, 40.0, -2.0])
def test_thermal_populations_closed_form(d, beta_g):
    q = np.asarray(jt.thermal_populations(d, beta_g, 1.0))
    a = np.exp(-beta_g)
    j = np.arange(d)
    expected = np.full(d, 1 / d) if beta_g == 0 else a**j * (1 - a) / (1 - a**d)
    np.testing.assert_allclose(q, expected, rtol=1e-12, atol=1e-300)
    # and the Gibbs state through the matrix exponential
    h = np.asarray(jt.spin_z(d))
    gibbs = expm(-beta_g * h)
    np.testing.assert_allclose(jt.thermal_state(d, beta_g, 1.0), gibbs / np.trace(gibbs), atol=1e-12)
    np.testing.assert_allclose(jt.log_partition_function(d, beta_g, 1.0), np.log(np.trace(gibbs)), rtol=1e-12)


def test_thermal_populations_broadcast_and_grad():
    q = jt.thermal_populations(3, jnp.array([0.5, 1.0]), jnp.array([[1.0], [2.0]]))
    assert q.shape == (2, 2, 3)
    np.testing.assert_allclose(q[1, 0], jt.thermal_populations(3, 0.5, 2.0))
    # dq0/d(βg) for qubits is a/(1+a)^2 (the small-δ coefficient of docs/inhomogeneous.md with βg0 = 1)
    dq0 = jax.grad(lambda b: jt.thermal_populations(2, b, 1.0)[0])(1.0)
    a = np.exp(-1.0)
    np.testing.assert_allclose(dq0, a / (1 + a) ** 2, rtol=1e-12)


@pytest.mark.parametrize("dims,keep", [((2, 3), 0), ((2, 3), 1), ((2, 3, 2), (0, 2)), ((3, 2, 2), 1)])
def test_partial_trace_matches_qutip(dims, keep):
    rng = np.random.default_rng(3)
    rho = random_state(int(np.prod(dims)), rng)
    q = qutip.Qobj(rho, dims=[list(dims), list(dims)])
    expected = q.ptrace(keep).full()
    np.testing.assert_allclose(jt.partial_trace(rho, dims, keep), expected, atol=1e-14)


def test_partial_trace_batched_and_product():
    rng = np.random.default_rng(4)
    a = np.stack([random_state(2, rng) for _ in range(3)])
    b = np.stack([random_state(3, rng) for _ in range(3)])
    ab = jt.tensor(a, b)
    np.testing.assert_allclose(jt.partial_trace(ab, (2, 3), 0), a, atol=1e-14)
    np.testing.assert_allclose(jt.partial_trace(ab, (2, 3), 1), b, atol=1e-14)
    with pytest.raises(ValueError, match="dims"):
        jt.partial_trace(ab, (2, 2), 0)
    with pytest.raises(ValueError, match="keep"):
        jt.partial_trace(ab, (2, 3), 2)


@pytest.mark.parametrize("bad", [1, 0, 2.0, True])
def test_bad_dimension_is_named(bad):
    with pytest.raises(ValueError, match="d="):
        jt.spin_z(bad)


def test_validation_accepts_complex_numbers_without_warning():
    import warnings

    from jaxthermo._validation import is_numeric, should_validate

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert is_numeric(np.array([[1.0, 1j], [-1j, 1.0]]))
        assert should_validate(np.eye(2, dtype=complex))
    assert not is_numeric(object())
    assert not should_validate(None)


def test_import_policy_x64_and_highest_matmul_precision():
    """The documented import-time policies (README, Precision): float64 default, no TF32 on GPUs."""
    import jax

    assert jax.config.jax_enable_x64
    assert str(jax.config.jax_default_matmul_precision).lower() == "highest"


def test_thermal_state_where_beta_g_overflows_is_the_limit():
    """β = 10³⁰⁰, g = 10¹⁰: βg overflowed to inf and the softmax gave NaN populations, silently. The limit
    βg → +∞ is the ground state (−∞: the top state), which NumPy's closed form q_j ∝ e^{−βg m_j} already
    gives to every digit at βg = 800 (e^{−800} underflows); float32 overflows at 3.4·10³⁸."""
    import jax

    closed = lambda d, bg: (lambda w: w / w.sum())(np.exp(-bg * (np.arange(d) - (d - 1) / 2) - 800 * (d - 1) / 2))
    for d in (2, 3, 5):
        ground = np.eye(d)[0]
        np.testing.assert_array_equal(np.diag(np.asarray(jt.thermal_state(d, 1e300, 1e10))), ground)
        np.testing.assert_array_equal(np.asarray(jt.thermal_populations(d, 1e300, 1e10)), closed(d, 800.0))
        np.testing.assert_array_equal(np.asarray(jt.thermal_populations(d, -1e300, 1e10)), np.eye(d)[-1])
        p32 = jt.thermal_populations(d, jnp.float32(1e30), jnp.float32(1e10))
        assert p32.dtype == jnp.float32 and np.array_equal(np.asarray(p32), ground)
    grad = jax.grad(lambda b: jt.thermal_populations(2, b, 1e10)[1])(1e300)
    assert np.isfinite(grad) and grad == 0.0  # e^{−βg} and its derivative vanish in the limit
