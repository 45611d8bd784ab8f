"""Model A at extreme but legal parameters: the right number or a refusal naming the parameter.

* ``population_derivatives_closed_form`` against the published form evaluated in 1500-digit decimal
  arithmetic (Python's ``decimal``): the float form was 0/0 (NaN) for |βg0| ≲ 10⁻¹⁶ and inf/inf for
  βg0 ≲ −710/d, so ``small_delta_mean_work`` and ε's small-σ estimate were NaN at β = 10⁻³⁰⁰.
* ε = D(τ_S, τ̄) and its bound E_G[D(τ_S, τ(δ))] against SciPy's adaptive quadrature of the qubit's
  q_1(δ) − q_1(0) = −expm1(βg0 δ) expit(βg0) expit(−βg0(1 + δ)) (a closed form of its own): from q̄ − q(0)
  ε lost the filled level's share (float64, βg0 = 60: half of ε) and the bound underflowed for tiny β.
* derivatives in β at β = 0 and 10⁻³⁰⁰ (NaN through the quadrature's step placement before).
* ``trajectory`` and ``collide`` refuse δ's that overflow the state's precision (inf/NaN before).
"""

import decimal

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

import jaxthermo as jt
from jaxthermo import inhomogeneous as ia


def _published_q_prime(d, x, digits=1500):
    """[ATO-preprint] (text after eq. (14)): q_j'(0) = −x a^j/(1−a^d)² [j − (1+j)a + (d−j)a^d − (d−j−1)a^{d+1}],
    a = e^{−x}, x = βg0, in decimal arithmetic with ``digits`` digits (the 0/0 at x = 10⁻³⁰⁰ resolved)."""
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        x = decimal.Decimal(x)
        a = (-x).exp()
        out = []
        for j in range(d):
            bracket = j - (1 + j) * a + (d - j) * a**d - (d - j - 1) * a ** (d + 1)
            out.append(float(-x * a**j / (1 - a**d) ** 2 * bracket))
        return np.array(out)


def _model(d, beta, g0=1.0, sigma=0.1, theta=0.3, **kw):
    return jt.InhomogeneousReservoir(d, beta=beta, g0=g0, theta=theta, distribution=jt.Gaussian(sigma), **kw)


X = [1e-300, -1e-300, 1e-20, 1e-8, 1e-3, 0.7, 1.3, -2.0, 30.0, -400.0, 700.0, -800.0]


@pytest.mark.filterwarnings("ignore:g0=-1.0:UserWarning")  # an inverted spacing: legal, warned
@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_closed_form_derivatives_against_decimal_arithmetic(d):
    """Every entry to its relative precision (also the middle level of odd d, ≈ −(βg0)²/… near 0)."""
    for x in X:
        model = jt.InhomogeneousReservoir(d, beta=abs(x), g0=float(np.sign(x)), theta=0.3)
        got = np.asarray(ia.population_derivatives_closed_form(model))
        np.testing.assert_allclose(got, _published_q_prime(d, x), rtol=2e-15, atol=0, err_msg=f"x={x}")
    # beyond every digit: the cold limit, 0
    huge = np.asarray(ia.population_derivatives_closed_form(jt.InhomogeneousReservoir(d, 1e300, 1.0, 0.3)))
    assert np.all(huge == 0)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_small_delta_work_and_epsilon_estimate_at_beta_1e_300(d):
    """W̄ = −g0 σ² sin²θ Σ_j j q_j'(0) and ε ≈ E|δ| ½ Σ_j |q_j'(0)| (E|δ| = σ√(2/π)) with the decimal q'."""
    sigma, theta = 0.1, 0.3
    model = _model(d, 1e-300, sigma=sigma, theta=theta)
    want_q = _published_q_prime(d, 1e-300)
    want_w = -1.0 * sigma**2 * np.sin(theta) ** 2 * np.sum(np.arange(d) * want_q)
    np.testing.assert_allclose(ia.small_delta_mean_work(model, sigma**2), want_w, rtol=1e-14)
    small = ia.approximate_second_law_epsilon(model).small_sigma
    np.testing.assert_allclose(small, sigma * np.sqrt(2 / np.pi) * 0.5 * np.sum(np.abs(want_q)), rtol=1e-13)


@pytest.mark.parametrize("beta", [0.0, 1e-300])
def test_work_derivative_at_infinite_temperature(beta):
    """Σ_j j q_j'(0) = −βg0 Var_τ(s_z) (from q_j' = −βg0 q_j (m_j − ⟨m⟩)), so W̄ = β g0² σ² sin²θ Var_τ(s_z) and
    dW̄/dβ at β = 0 is g0² σ² sin²θ (d² − 1)/12 (Var of s_z in the maximally mixed state)."""
    d, g0, sigma, theta = 3, 1.5, 0.1, 0.3
    model = _model(d, beta, g0=g0, sigma=sigma, theta=theta)
    slope = jax.grad(lambda b: ia.small_delta_mean_work(model.replace(beta=b), sigma**2))(beta)
    np.testing.assert_allclose(slope, g0**2 * sigma**2 * np.sin(theta) ** 2 * (d * d - 1) / 12, rtol=1e-14)


def _qubit_shift(beta_g0, delta):
    """q_1(δ) − q_1(0) of a qubit: q_1(y) = expit(−y), so the difference is −expm1(βg0 δ) expit(βg0) expit(−y)."""
    return -np.expm1(beta_g0 * delta) * special.expit(beta_g0) * special.expit(-beta_g0 * (1 + delta))


def _scipy_epsilon(beta_g0, sigma):
    """(ε, bound) of a qubit under Gaussian(σ) by SciPy's adaptive quadrature over −30σ ≤ δ ≤ 9σ (the whole line:
    the excited level's mass reaches beyond −9σ, 0.13 % of it at βg0 = 60, σ = 0.1), split at the turn δ = −1."""
    pdf = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    ends = sorted({-30 * sigma, max(-1.0, -30 * sigma), 0.0, 9 * sigma, float(np.clip(-0.6, -9 * sigma, 9 * sigma))})
    quad = lambda f: sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-13, limit=500)[0] for a, b in zip(ends, ends[1:]))
    mean = quad(lambda x: pdf(x) * _qubit_shift(beta_g0, x))
    return abs(mean), quad(lambda x: pdf(x) * abs(_qubit_shift(beta_g0, x)))


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_epsilon_and_bound_of_a_cold_qubit_against_scipy():
    """βg0 = 60, σ = 0.1 (the mass of τ̄'s excited level comes from δ ≈ −0.6): ε and the bound ≈ 5.7·10⁻¹⁹."""
    eps, bound = _scipy_epsilon(60.0, 0.1)
    got = ia.approximate_second_law_epsilon(_model(2, 60.0))
    np.testing.assert_allclose(got.epsilon, eps, rtol=1e-9)
    np.testing.assert_allclose(got.upper_bound, bound, rtol=1e-9)
    got32 = ia.approximate_second_law_epsilon(_model(2, np.float32(60.0), np.float32(1.0), np.float32(0.1)))
    assert got32.epsilon.dtype == jnp.float32
    np.testing.assert_allclose(got32.epsilon, eps, rtol=1e-5)


@pytest.mark.parametrize("d", [2, 3])
def test_epsilon_at_a_tiny_beta(d):
    """β = 10⁻¹⁰⁰: the bound is E|δ| βg0 Σ_j |m_j|/2d to first order (q_j(δ) − q_j(0) ≈ −βg0 δ m_j/d), as the
    small-σ estimate (it was 0); ε = O(β²) stays below the bound (ε ≤ bound, convexity)."""
    sigma, beta = 0.1, 1e-100
    got = ia.approximate_second_law_epsilon(_model(d, beta, sigma=sigma))
    m = np.arange(d) - (d - 1) / 2
    want = sigma * np.sqrt(2 / np.pi) * beta * np.sum(np.abs(m)) / (2 * d)
    np.testing.assert_allclose(got.upper_bound, want, rtol=1e-12)
    np.testing.assert_allclose(got.small_sigma, want, rtol=1e-12)
    assert 0 <= float(got.epsilon) <= 1e-12 * want
    eps32 = ia.approximate_second_law_epsilon(_model(d, np.float32(1e-30), np.float32(1.0), np.float32(sigma)))
    assert float(eps32.epsilon) <= float(eps32.upper_bound)  # 4.5e-8 > 0 before


@pytest.mark.parametrize("beta", [0.0, 1e-300])
def test_beta_derivatives_at_infinite_temperature_are_finite(beta):
    """d τ̄/dβ = −g0 m_j/d at β = 0 (E_G(1 + δ) = 1); ε's fields finite, the bound's slope that of the estimate
    for β > 0 (NaN before, through the step placement 36/|βg0| of the quadrature)."""
    d, sigma = 2, 0.1
    model = _model(d, beta, sigma=sigma)
    dq = jax.jacfwd(lambda b: ia.averaged_reservoir_populations(model.replace(beta=b)))(beta)
    np.testing.assert_allclose(dq, -(np.arange(d) - (d - 1) / 2) / d, rtol=1e-12)
    slopes = jax.jacrev(lambda b: ia.approximate_second_law_epsilon(model.replace(beta=b)))(beta)
    assert np.all(np.isfinite(np.asarray(slopes)))
    if beta > 0:
        np.testing.assert_allclose(slopes.upper_bound, sigma * np.sqrt(2 / np.pi) / 4, rtol=1e-12)


def test_trajectory_refuses_overflowing_deltas():
    """float32 g0 = 3·10³⁸ with δ = 0.5: g_r = 4.5·10³⁸ > 3.4·10³⁸ (W = inf, Q = −inf before)."""
    f = np.float32
    model = jt.InhomogeneousReservoir(2, beta=f(1.0), g0=f(3e38), theta=f(0.5))
    rho = jnp.eye(2, dtype=jnp.complex64) / 2
    with pytest.raises(ValueError, match="deltas.*g0=3e\\+38.*overflows float32"):
        ia.trajectory(model, rho, jnp.array([0.5, 0.5], f))
    with pytest.raises(ValueError, match="delta.*overflows float32"):
        ia.collide(model, rho, f(0.5))
    ok = ia.trajectory(model, rho, jnp.array([0.05, -0.5], f))  # g_r ≤ 3.15·10³⁸: finite
    assert all(np.all(np.isfinite(np.asarray(v))) for v in ok)
    # a float64 model with a float32 state: β = 10³⁰⁰ does not exist in float32 (cast to inf)
    with pytest.raises(ValueError, match="beta=1e\\+300: overflows float32"):
        ia.trajectory(jt.InhomogeneousReservoir(2, beta=1e300, g0=1.0, theta=0.5), rho, jnp.array([0.1], f))
    # float64: g0 = 10³⁰⁸, d = 3 and δ = 0.9 (inf heat before); the heat of a collision is up to |g_r|(d − 1)
    rho3 = jnp.eye(3, dtype=complex) / 3
    wide = jt.InhomogeneousReservoir(3, beta=1e-300, g0=1e308, theta=0.5)
    with pytest.raises(ValueError, match="deltas.*float64"):
        ia.trajectory(wide, rho3, jnp.array([0.9]))
    with pytest.raises(ValueError, match="deltas.*heat of one collision"):
        ia.trajectory(wide, rho3, jnp.array([0.0]))


def test_sigma_derivatives_at_a_tiny_law_and_temperature():
    """β = σ = 10⁻³⁰⁰: d/dσ of the bound and of the mean work are ≈ 0 (the bound is E|δ| ½ Σ|q'(0)| ≈ 2.7·10⁻³⁰¹ σ-slope,
    W̄ ∝ σ²β): finite (NaN before, through the refinement's placement reach/σ = ∞); at σ = 0.3, βg0 = 1 they
    equal central differences."""
    model = _model(3, 1e-300, sigma=1e-300)
    bound = lambda s, m=model: ia.approximate_second_law_epsilon(m.replace(distribution=jt.Gaussian(s))).upper_bound
    work = lambda s, m=model: ia.mean_work(m.replace(distribution=jt.Gaussian(s)), jnp.eye(3, dtype=complex) / 3)
    for f in (bound, work):
        assert abs(float(jax.grad(f)(1e-300))) <= 1e-300
    ordinary = _model(3, 1.0, sigma=0.3)
    for f in (lambda s: bound(s, ordinary), lambda s: work(s, ordinary)):
        h = 1e-6
        np.testing.assert_allclose(jax.grad(f)(0.3), (f(0.3 + h) - f(0.3 - h)) / (2 * h), rtol=1e-8)
