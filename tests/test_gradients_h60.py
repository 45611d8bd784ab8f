"""Derivatives at the edges a gradient-based parameter study reaches (helper-60, session 24).

Each expected value comes from an independent route: closed forms of the Rényi divergences of a pure
state, evaluated in NumPy/SciPy (fractional matrix powers), and central finite differences of them.
"""

from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl

import jaxthermo as jt

SIGMA = np.array([[0.6, 0.05], [0.05, 0.4]], dtype=complex)


def _ket(t, d=2):
    """A unit vector rotating with t: (cos t, e^{0.3i} sin t), or (0.8 cos t, e^{0.3i} sin t, 0.6 e^{−0.7i} cos t, 0)."""
    c, s = jnp.cos(t), jnp.sin(t)
    if d == 2:
        return jnp.array([c, s * jnp.exp(0.3j)])
    return jnp.array([0.8 * c, s * jnp.exp(0.3j), 0.6 * c * jnp.exp(-0.7j), 0.0 * c])


def _sandwiched_pure(t, alpha, sigma, d=2):
    """Closed form for ρ = |ψ><ψ|: σ^γ ρ σ^γ is rank one with eigenvalue <ψ|σ^{2γ}|ψ>, γ = (1 − α)/2α, so
    D̃_α = α/(α − 1) log <ψ|σ^{(1−α)/α}|ψ> (Müller-Lennert et al., J. Math. Phys. 54, 122203 (2013))."""
    psi = np.asarray(_ket(t, d))
    power = sl.fractional_matrix_power(sigma, (1.0 - alpha) / alpha)
    return alpha / (alpha - 1.0) * np.log(np.real(psi.conj() @ power @ psi))


def _sigma4():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    s = a @ a.conj().T + 0.5 * np.eye(4)
    return s / np.trace(s).real


@pytest.mark.parametrize("d", [2, 4])
@pytest.mark.parametrize("alpha", [0.5, 0.51, 0.6])
def test_sandwiched_below_one_of_a_pure_state_is_accurate_with_its_gradient(alpha, d):
    """The rounding-level eigenvalues (~1e-17) of the rank-one σ^γρσ^γ entered Tr(·)^α as (1e-17)^α ≈ 3e-9
    each at α = ½: D̃_½ of a pure qubit state 2.4e-8 off, its t-derivative 4.7e-8 off (1e-6 relative), more with d
    (Petz, which resolves ρ's eigenvalues, is exact to 1e-15). Now those below the rounding floor are zero."""
    sigma = SIGMA if d == 2 else _sigma4()

    def lib(t):
        psi = _ket(t, d)
        return jt.sandwiched_renyi_divergence(jnp.outer(psi, psi.conj()), jnp.asarray(sigma), alpha)

    for t in (0.3, 0.7, 1.1):
        exact = _sandwiched_pure(t, alpha, sigma, d)
        h = 1e-4
        slope = (
            -_sandwiched_pure(t + 2 * h, alpha, sigma, d)
            + 8 * _sandwiched_pure(t + h, alpha, sigma, d)
            - 8 * _sandwiched_pure(t - h, alpha, sigma, d)
            + _sandwiched_pure(t - 2 * h, alpha, sigma, d)
        ) / (12 * h)  # five-point rule, error ~h⁴ ≈ 1e-16
        assert abs(float(lib(t)) - exact) < 1e-13
        assert abs(float(jax.grad(lib)(t)) - slope) < 1e-9 * max(1.0, abs(slope))
        assert abs(float(jax.jacfwd(lib)(t)) - slope) < 1e-9 * max(1.0, abs(slope))


def test_sandwiched_keeps_a_cold_state_small_eigenvalues():
    """The rounding floor must not drop a certified small eigenvalue: ρ thermal at βΔE = 30 against I/2 (commuting,
    so D̃_α is the classical D_α of the populations, computed in closed form)."""
    q = np.array([1.0, np.exp(-30.0)]) / (1.0 + np.exp(-30.0))
    rho = jnp.diag(jnp.asarray(q)).astype(complex)
    for alpha in (0.5, 0.7):
        exact = np.log(np.sum(q**alpha * 0.5 ** (1 - alpha))) / (alpha - 1.0)
        value = float(jt.sandwiched_renyi_divergence(rho, jnp.eye(2) / 2, alpha))
        assert abs(value - exact) < 1e-14


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("field", ["unitary", "channel"])
def test_partial_swap_error_delta_derivative_at_the_kink(d, field):
    """Both distances vanish at δ = 0 (V = U(θ) exactly) with equal and opposite one-sided slopes: the returned
    derivative there was the rounding noise of V − U (operator norm: −0.025 for a qubit where the slopes are ±0.4;
    channel: 0.0032 for ±0.0099); now 0, the least-magnitude subgradient (docs/inhomogeneous.md §11). Away from 0
    the derivative is unchanged (central differences)."""
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.4, distribution=jt.Gaussian(0.3))

    @jax.jit
    def err(x):
        return getattr(jt.partial_swap_error(model, 0.5, x), field)

    grad = jax.jit(jax.grad(err))
    h = 1e-6
    right = (err(2 * h) - err(h)) / h  # one-sided slopes, away from the kink
    left = (err(-h) - err(-2 * h)) / h
    assert right > 1e-3 and abs(right + left) < 1e-3 * right  # a symmetric kink: 0 is the least subgradient
    assert float(grad(0.0)) == 0.0
    assert float(jax.jacfwd(err)(0.0)) == 0.0
    for x in (-0.1, 0.1):
        slope = (err(x + 1e-5) - err(x - 1e-5)) / 2e-5
        assert abs(float(grad(x)) - slope) < 1e-8


def _pure(seed, d):
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    psi /= np.linalg.norm(psi)
    return jnp.asarray(np.outer(psi, psi.conj()))


@pytest.mark.parametrize("d", [2, 3])
def test_entropy_gradient_at_a_pure_state_does_not_depend_on_rounding(d):
    """ρ(t) = (1 − t)|ψ><ψ| + t 1/d has eigenvalues 1 − t(d−1)/d and t/d (d − 1 times). At t = 0 the kernel's
    one-sided slope is +∞; the gradient returned is that of the support term −λ log λ, (d − 1)/d (docs/information.md
    §6). It was −(log λ + 1)·(d−1)/d + (d−1)/d ≈ 19 instead of ½ (qubits) whenever the rounding eigenvalue of
    |ψ><ψ| came out positive (1e-17), depending on ψ's basis. Also S, I(A:B) and D(ρ‖σ) built on it."""
    for seed in range(6):
        p = _pure(seed, d)

        def entropy(t, p=p):
            return jt.von_neumann_entropy((1 - t) * p + t * jnp.eye(d) / d)

        expected = (d - 1) / d
        assert abs(float(jax.grad(entropy)(0.0)) - expected) < 1e-12
        assert abs(float(jax.jacfwd(entropy)(0.0)) - expected) < 1e-12
        # inside the simplex the derivative is the closed form −Σ λ_i' log λ_i
        t = 0.1
        slope = (d - 1) / d * (np.log(1 - t * (d - 1) / d) - np.log(t / d))
        assert abs(float(jax.grad(entropy)(t)) - slope) < 1e-10


def test_relative_entropy_gradient_at_a_pure_state_does_not_depend_on_rounding():
    """D(ρ‖σ) = −S(ρ) − Tr ρ log σ: the same rounding eigenvalue of a pure ρ gave ∂D/∂t at t = 0 along
    ρ(t) = (1 − t)|ψ><ψ| + t 1/2 that depended on ψ's basis; now −½ + d/dt(−Tr ρ(t) log σ) for every ψ."""
    sigma = jnp.asarray(SIGMA)
    log_sigma = sl.logm(SIGMA)
    for seed in range(6):
        p = _pure(seed, 2)

        def rel(t, p=p):
            return jt.relative_entropy((1 - t) * p + t * jnp.eye(2) / 2, sigma)

        cross = -np.real(np.trace((np.eye(2) / 2 - np.asarray(p)) @ log_sigma))
        assert abs(float(jax.grad(rel)(0.0)) - (-0.5 + cross)) < 1e-12


def _eig2(m):
    """Eigenpairs of a real symmetric 2×2 matrix of Decimals, closed form."""
    a, b, c = m[0][0], m[0][1], m[1][1]
    if b == 0:
        return [(a, (Decimal(1), Decimal(0))), (c, (Decimal(0), Decimal(1)))]
    mean, r = (a + c) / 2, (((a - c) / 2) ** 2 + b * b).sqrt()
    pairs = []
    for w in (mean + r, mean - r):
        n = (b * b + (w - a) ** 2).sqrt()
        pairs.append((w, (b / n, (w - a) / n)))
    return pairs


def _power2(m, s):
    out = [[Decimal(0)] * 2 for _ in range(2)]
    for w, v in _eig2(m):
        ws = (s * w.ln()).exp()
        for i in range(2):
            for j in range(2):
                out[i][j] += ws * v[i] * v[j]
    return out


def _mul2(x, y):
    return [[sum(x[i][k] * y[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


def _hp_divergences(rho, sigma, alpha):
    """Petz and sandwiched D_α of real symmetric 2×2 ρ, σ in 50-digit decimal arithmetic (closed-form eigenpairs)."""
    getcontext().prec = 50
    rho = [[Decimal(float(x)) for x in row] for row in rho]
    sigma = [[Decimal(float(x)) for x in row] for row in sigma]
    a = Decimal(float(alpha))
    prod = _mul2(_power2(rho, a), _power2(sigma, 1 - a))
    petz = (prod[0][0] + prod[1][1]).ln() / (a - 1)
    g = _power2(sigma, (1 - a) / (2 * a))
    inner = _mul2(_mul2(g, rho), g)
    inner[0][1] = inner[1][0] = (inner[0][1] + inner[1][0]) / 2
    total = sum((a * w.ln()).exp() for w, _ in _eig2(inner))
    return float(petz), float(total.ln() / (a - 1))


@pytest.mark.parametrize("delta", [-1e-14, -1e-12, -1e-9, 1e-12, 1e-9, 1e-7])
def test_quantum_divergences_next_to_alpha_one(delta):
    """log Tr(·)/(α − 1) lost ε/|α − 1|: Petz D_α 0.035 off (of 0.091) at α = 1 − 10⁻¹⁴ and 2.5·10⁻⁴ off at
    1 + 10⁻¹², sandwiched 4.7·10⁻⁴; and their ρ-gradients likewise. Now D_1 + (α − 1)V/2 for |α − 1| < 10⁻⁶
    (Lin & Tomamichel 2015), against 50-digit decimal arithmetic; gradients within 100|α − 1| of D_1's."""
    rho = np.array([[0.6, 0.2], [0.2, 0.4]])
    sigma = np.array([[0.7, 0.05], [0.05, 0.3]])
    alpha = 1.0 + delta
    petz, sandwiched = _hp_divergences(rho, sigma, alpha)
    assert abs(float(jt.petz_renyi_divergence(rho, sigma, alpha)) - petz) < 1e-13
    if alpha >= 0.5:
        assert abs(float(jt.sandwiched_renyi_divergence(rho, sigma, alpha)) - sandwiched) < 1e-13

    def path(t):
        return (1 - t) * jnp.asarray(rho, complex) + t * jnp.eye(2) / 2

    slope = float(jax.grad(lambda t: jt.relative_entropy(path(t), sigma))(0.1))
    for fn in (jt.petz_renyi_divergence, jt.sandwiched_renyi_divergence):
        assert (
            abs(float(jax.grad(lambda t, fn=fn: fn(path(t), sigma, alpha))(0.1)) - slope) < 100 * abs(delta) + 1e-12
        )  # d/dt of (α − 1)V/2


@pytest.mark.parametrize("delta", [-1e-14, -1e-12, 1e-12, 1e-9])
def test_divergences_to_thermal_next_to_alpha_one(delta):
    """The quantum route of divergences_to_thermal / free_energies had the same loss: D_α − D_1 of a coherent qubit
    was −0.023 at α = 1 − 10⁻¹⁴ and 2·10⁻⁴ at 1 + 10⁻¹² (true −1.5·10⁻¹⁵, 1.5·10⁻¹³). Against 50-digit decimals."""
    rho = np.array([[0.6, 0.2], [0.2, 0.4]])
    t = np.asarray(jt.thermal_populations(2, 1.0, 1.0))
    alpha = 1.0 + delta
    petz, sandwiched = _hp_divergences(rho, np.diag(t), alpha)
    value = float(jt.divergences_to_thermal(jnp.asarray(rho, complex), 1.0, 1.0, [alpha], quantum=True)[0])
    assert abs(value - (petz if alpha < 1 else sandwiched)) < 1e-13
