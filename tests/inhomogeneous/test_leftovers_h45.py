"""Model A leftovers: trajectory's overflow check as check_representable at the given δ's, and the
derivatives of the ε bound at exactly β = 0 and σ = 0 (docs/inhomogeneous.md §8)."""

import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import inhomogeneous as ia
from jaxthermo.inhomogeneous._model import check_representable

F32_MAX = float(np.finfo(np.float32).max)


def test_check_representable_at_given_deltas_refuses_at_the_float32_bound():
    """g_r = g0(1 + δ) against float32's largest number, the bound computed here in float64: δ just below
    fmax/g0 − 1 passes, just above is refused, by check_representable(deltas=) and by trajectory."""
    f = np.float32
    g0 = 3e38
    model = jt.InhomogeneousReservoir(2, beta=f(1e-30), g0=f(g0), theta=f(0.5))
    g0_32 = float(f(g0))
    edge = F32_MAX / g0_32 - 1  # ≈ 0.134
    rho = jnp.eye(2, dtype=jnp.complex64) / 2
    below, above = edge * (1 - 1e-6), edge * (1 + 1e-6)
    check_representable(model, np.float32, deltas=np.array([0.0, below]))
    traj = ia.trajectory(model, rho, jnp.array([below, -below], f))
    assert np.all(np.isfinite(np.asarray(traj.heat)))
    message = (
        "^"
        + re.escape(
            f"deltas: |δ| up to {above:.3g} with beta=1e-30, g0=3e+38 (d = 2): the reservoir spacing "
            f"|g0|(1 + δ) ≈ {g0_32 * (1 + above):.3g} overflows float32 (largest {F32_MAX:.3g})"
        )
        + "$"
    )
    with pytest.raises(ValueError, match=message):
        check_representable(model, np.float32, deltas=np.array([0.0, above]))
    with pytest.raises(ValueError, match=message):
        ia.trajectory(model, rho, jnp.array([0.0, above], f))
    with pytest.raises(ValueError, match=message.replace("^deltas", "^delta", 1)):
        ia.collide(model, rho, f(above))


def test_check_representable_at_given_deltas_heat_and_work():
    """The energies of one collision at the given δ's: heat up to |g_r|(d − 1), work up to |g0| Δ (d − 1)
    with Δ = max |δ| (> max |1 + δ| for δ < −½); each product beyond float64 prints as inf."""
    model = jt.InhomogeneousReservoir(3, beta=1e-300, g0=1e308, theta=0.5)
    with pytest.raises(ValueError, match=r"^deltas: .*heat of one collision, up to \|g_r\|\(d − 1\) ≈ inf"):
        check_representable(model, np.float64, deltas=[0.0])
    # temperature kind: g_r = g0, no work; β_r = β(1 + δ) is the reservoir's number that grows
    cold = jt.InhomogeneousReservoir(2, beta=1e308, g0=1e-300, theta=0.5, kind="temperature")
    check_representable(cold, np.float64, deltas=[0.5])
    with pytest.raises(ValueError, match=r"^deltas: .*the reservoir's \|beta\|\(1 \+ δ\) ≈ inf"):
        check_representable(cold, np.float64, deltas=[1.0])
    # δ = −X with g0 (X − 1) ≤ the largest float64 < g0 X: the spacing and the heat fit, the work does not
    g0 = 1e300
    x = np.finfo(np.float64).max / g0 + 0.5
    spread = jt.InhomogeneousReservoir(2, beta=1e-300, g0=g0, theta=0.5)
    check_representable(spread, np.float64, deltas=[-(x - 1.0)])
    with pytest.raises(ValueError, match=r"^deltas: .*the work of one collision, up to \|g0 δ\|\(d − 1\) ≈ inf"):
        check_representable(spread, np.float64, deltas=[-x])


def _epsilon(beta, sigma, d=2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = jt.InhomogeneousReservoir(d, beta=beta, g0=1.0, theta=0.3, distribution=jt.Gaussian(sigma))
        return ia.approximate_second_law_epsilon(model)


def _one_sided_slopes(f, h=1e-7):
    """(f(h) − f(0))/h for each field of f's result: the right derivative, to O(h)."""
    return [(float(a) - float(b)) / h for a, b in zip(f(h), f(0.0))]


@pytest.mark.parametrize("d", [2, 3])
def test_epsilon_bound_derivatives_at_zero_beta_are_subgradients(d):
    """At β = 0 JAX returns 0 for the bound and the estimate (documented); the right derivative, by a
    one-sided difference, is |g0| E|δ| ½ Σ|m_j|/d for both (Gaussian E|δ| = σ√(2/π)), and jax.grad at
    a small positive β gives it; ε grows as β²: slope 0 either way."""
    sigma = 0.1
    at_zero = jax.jacrev(lambda b: _epsilon(b, sigma, d))(0.0)
    assert [float(v) for v in at_zero] == [0.0, 0.0, 0.0] or np.allclose(at_zero, 0.0, atol=1e-15)
    m = np.arange(d) - (d - 1) / 2
    slope = sigma * np.sqrt(2 / np.pi) * 0.5 * np.sum(np.abs(m)) / d
    fd_eps, fd_bound, fd_small = _one_sided_slopes(lambda b: _epsilon(b, sigma, d))
    np.testing.assert_allclose([fd_bound, fd_small], slope, rtol=1e-5)
    assert abs(fd_eps) < 1e-6 * slope
    near = jax.jacrev(lambda b: _epsilon(b, sigma, d))(1e-12)
    np.testing.assert_allclose([near.upper_bound, near.small_sigma], slope, rtol=1e-8)


@pytest.mark.parametrize("d", [2, 3])
def test_epsilon_bound_derivatives_at_zero_sigma_are_subgradients(d):
    """At σ = 0 JAX returns 0 (documented); the right derivative is √(2/π)·½Σ|q_j'(0)| for both fields
    (q_j'(0) = −βg0 q_j (m_j − ⟨m⟩) from NumPy here), by a one-sided difference and by jax.grad at a
    tiny positive σ; ε grows as σ²."""
    beta = 1.0
    at_zero = jax.jacrev(lambda s: _epsilon(beta, s, d))(0.0)
    assert np.allclose([float(v) for v in at_zero], 0.0, atol=1e-15)
    m = np.arange(d) - (d - 1) / 2
    q = np.exp(-beta * m) / np.sum(np.exp(-beta * m))
    slope = np.sqrt(2 / np.pi) * 0.5 * np.sum(np.abs(beta * q * (m - np.sum(m * q))))
    fd_eps, fd_bound, fd_small = _one_sided_slopes(lambda s: _epsilon(beta, s, d))
    np.testing.assert_allclose([fd_bound, fd_small], slope, rtol=1e-5)
    assert abs(fd_eps) < 1e-5 * slope
    near = jax.jacrev(lambda s: _epsilon(beta, s, d))(1e-12)
    np.testing.assert_allclose([near.upper_bound, near.small_sigma], slope, rtol=1e-8)
