"""Quantum ΔD_α from the change Δρ itself (jaxthermo._information.quantum_divergence_change_to_diagonal) and the
second laws' quantum route for coherent states, against 45-digit decimals with a Jacobi eigen-decomposition written
here (docs/information.md §3)."""

from decimal import Decimal, localcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import (
    log_thermal_populations,
    quantum_divergence_change_to_diagonal,
)
from tests.helpers import random_hermitian, random_state

DIGITS = 45


def _jacobi(a, vectors=False):
    """Eigenvalues (and eigenvectors as the columns of V, ``vectors=True``) of a real symmetric matrix (list of lists of
    Decimal) by cyclic Jacobi rotations, to the context's precision (quadratic convergence; the off-diagonal mass is
    driven below 10^−2·DIGITS)."""
    n = len(a)
    a = [row[:] for row in a]
    v = [[Decimal(int(i == j)) for j in range(n)] for i in range(n)]
    limit = Decimal(10) ** (-2 * DIGITS)
    for _ in range(100):
        if sum(a[i][j] * a[i][j] for i in range(n) for j in range(i + 1, n)) < limit:
            break
        for p in range(n):
            for q in range(p + 1, n):
                if a[p][q] == 0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                t = (1 if theta >= 0 else -1) / (abs(theta) + (theta * theta + 1).sqrt())
                c = 1 / (t * t + 1).sqrt()
                s = t * c
                for k in range(n):
                    akp, akq = a[k][p], a[k][q]
                    a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
                for k in range(n):
                    apk, aqk = a[p][k], a[q][k]
                    a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
                if vectors:
                    for k in range(n):
                        vkp, vkq = v[k][p], v[k][q]
                        v[k][p], v[k][q] = c * vkp - s * vkq, s * vkp + c * vkq
    values = [a[i][i] for i in range(n)]
    return (values, v) if vectors else values


def _jacobi_eigenvalues(a):
    return _jacobi(a)


def _function(m, f):
    """f(M) = V f(Λ) Vᵀ of a real symmetric M (the embedding of a Hermitian matrix: f of it is the embedding of f)."""
    values, v = _jacobi(m, vectors=True)
    fv = [f(x) for x in values]
    n = len(m)
    return [[sum(v[i][k] * fv[k] * v[j][k] for k in range(n)) for j in range(n)] for i in range(n)]


def _matmul(a, b):
    n = len(a)
    return [[sum(a[i][k] * b[k][j] for k in range(n)) for j in range(n)] for i in range(n)]


def _power(x, a):
    return (a * x.ln()).exp() if x > 0 else Decimal(0)


def _embed(h):
    """The real symmetric 2d×2d [[A, −B], [B, A]] of a Hermitian h = A + iB (list of lists of complex Decimal pairs):
    its eigenvalues are h's, each twice. h is read from its upper triangle (the lower one its conjugate, the diagonal
    real), so the embedding is exactly symmetric, as the Jacobi rotations assume, also where the floats it came from
    were Hermitian only to rounding (a BLAS a a† off by 1e-17 stalled them)."""
    d = len(h)
    h = [
        [h[i][j] if i < j else (h[j][i][0], -h[j][i][1]) if i > j else (h[i][i][0], Decimal(0)) for j in range(d)]
        for i in range(d)
    ]
    return [
        [
            (h[i % d][j % d][0] if (i < d) == (j < d) else (-1 if i < d else 1) * h[i % d][j % d][1])
            for j in range(2 * d)
        ]
        for i in range(2 * d)
    ]


def _dec(x):
    """A complex float matrix as exact decimals, [[(re, im)]]."""
    x = np.asarray(x, dtype=complex)
    return [[(Decimal(float(v.real)), Decimal(float(v.imag))) for v in row] for row in x]


def _add(a, b):
    return [[(x[0] + y[0], x[1] + y[1]) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def _scaled(h, s):
    """s h s for the diagonal s (list of Decimal)."""
    return [[(s[i] * h[i][j][0] * s[j], s[i] * h[i][j][1] * s[j]) for j in range(len(h))] for i in range(len(h))]


def _decimal_divergence(h, log_t, alpha):
    """D_α(h‖τ) of docs/information.md §4 (Petz below 1, Umegaki, sandwiched above, α = ∞ the max-relative entropy)
    with τ = diag(e^{log t}) in decimals; log t exact decimals of the library's floats."""
    d = len(h)
    if alpha == 1:
        lam = _jacobi_eigenvalues(_embed(h))
        return sum(x * x.ln() for x in lam if x > 0) / 2 - sum(h[j][j][0] * log_t[j] for j in range(d))
    if alpha < 1:  # Tr ρ^α τ^{1−α} = Σ_k λ_k^α ⟨k|τ^{1−α}|k⟩: as ½ Tr of the embedding of τ^{(1−α)/2} ρ^α τ^{(1−α)/2}
        # computed through the similar matrix: the eigenvalues of ρ^α τ^{1−α} are not enough, so form ρ^α by Jacobi
        raise NotImplementedError
    a = Decimal(alpha) if np.isfinite(alpha) else None
    gamma = Decimal(-1) / 2 if a is None else (1 - a) / (2 * a)
    s = [(gamma * x).exp() for x in log_t]
    mu = _jacobi_eigenvalues(_embed(_scaled(h, s)))
    if a is None:
        return max(mu).ln()
    return (sum((a * x.ln()).exp() for x in mu if x > 0) / 2).ln() / (a - 1)


def _decimal_petz(h, log_t, alpha):
    """Petz D_α(h‖τ) = log Tr(h^α τ^{1−α})/(α − 1) in decimals, τ = diag(e^{log t})."""
    d = len(h)
    al = Decimal(alpha)
    f = _function(_embed(h), lambda x: _power(x, al))
    # ½ Tr[f(M) diag(T, T)], T_j = t_j^{1−α}
    total = sum(((1 - al) * log_t[j % d]).exp() * f[j][j] for j in range(2 * d)) / 2
    return total.ln() / (al - 1)


def _decimal_change(rho, delta, log_t, alpha):
    """D_α(ρ + Δ‖τ) − D_α(ρ‖τ) in decimals, ρ + Δ formed exactly."""
    with localcontext() as ctx:
        ctx.prec = DIGITS
        h, dh = _dec(rho), _dec(delta)
        lt = [Decimal(float(x)) for x in np.asarray(log_t)]
        f = _decimal_petz if 0 < alpha < 1 else _decimal_divergence
        return float(f(_add(h, dh), lt, alpha) - f(h, lt, alpha))


def _traceless_hermitian(d, rng):
    h = np.asarray(random_hermitian(d, rng))
    h = h - np.trace(h).real / d * np.eye(d)
    return h / np.max(np.abs(np.linalg.eigvalsh(h)))


ALPHAS = [0.5, 0.9, 1.0, 2.0, 3.5, np.inf]


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("eta", [1e-12, 1e-6, 0.3])
def test_change_from_delta_against_decimals(d, eta):
    """ΔD_α(ρ → ρ + Δ‖τ_S) (βg = 1) of a random coherent qubit/qutrit, Δ = η λ_min(ρ) H (H Hermitian, traceless,
    ‖H‖ = 1) for α = ½, 0.9, 1, 2, 3.5, ∞ within 10⁻¹⁰ relative of 45-digit decimals (ρ + Δ formed exactly there).
    The difference of the two divergences, each ~ε absolute, was 10⁻⁴…1 off at η = 10⁻¹², ~10⁻¹⁰ at η = 10⁻⁶;
    η = 0.3 takes that difference (outside ‖Δ‖ ≤ λ_min/4), exact there to ε D_α/|ΔD_α|."""
    rng = np.random.default_rng(40 + d)
    rho = np.asarray(random_state(d, rng))
    delta = eta * np.min(np.linalg.eigvalsh(rho)) * _traceless_hermitian(d, rng)
    log_t = np.asarray(log_thermal_populations(d, 1.0, 1.0))
    for a in ALPHAS:
        want = _decimal_change(rho, delta, log_t, a)
        got = float(quantum_divergence_change_to_diagonal(rho, delta, log_t, a))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0, err_msg=f"alpha={a}")


def _decimal_sin_cos(x):
    x = Decimal(float(x))
    s, c, ts, tc, n = x, Decimal(1), x, Decimal(1), 1
    while abs(ts) > Decimal(10) ** -(DIGITS + 5) or abs(tc) > Decimal(10) ** -(DIGITS + 5):
        ts *= -x * x / ((n + 1) * (n + 2))
        tc *= -x * x / (n * (n + 1))
        s, c, n = s + ts, c + tc, n + 2
    return s, c


def _decimal_collision_change(model, rho, delta, theta, alpha):
    """β ΔF_α = D_α(ρ'‖τ_S) − D_α(ρ‖τ_S) with ρ' = c²ρ + s²Q + i sc[Q, ρ] (the partial swap of docs/inhomogeneous.md,
    Q = τ_R(δ) the library's reservoir populations as exact decimals) formed in decimals."""
    q = np.asarray(jt.inhomogeneous.reservoir_populations(model, delta))
    log_t = np.asarray(log_thermal_populations(model.d, model.beta, model.g0))
    with localcontext() as ctx:
        ctx.prec = DIGITS
        s, c = _decimal_sin_cos(theta)
        h = _dec(rho)
        qd = [Decimal(float(x)) for x in q]
        d = model.d
        new = [[None] * d for _ in range(d)]
        for i in range(d):
            for j in range(d):
                re, im = h[i][j]
                k = s * c * (qd[i] - qd[j])  # i k ρ_ij = −k im + i k re
                new[i][j] = (c * c * re - k * im + (s * s * qd[i] if i == j else 0), c * c * im + k * re)
        lt = [Decimal(float(x)) for x in log_t]
        f = _decimal_petz if 0 < alpha < 1 else _decimal_divergence
        return float(f(new, lt, alpha) - f(h, lt, alpha))


def test_weak_collision_quantum_route_against_decimals(d=3):
    """collision_second_laws(quantum=True) of a coherent qutrit: βΔF_α for θ = 10⁻⁸, 10⁻⁴, 0.3 (δ = 0.3, βg0 = 1) within
    10⁻¹⁰ relative of the decimals. Before, the difference of the two quantum divergences: at θ = 10⁻⁸ βΔF_2 was
    +2.2·10⁻¹⁶ for −1.39·10⁻¹⁶ and βΔF_½ −1.1·10⁻¹⁵ for −1.13·10⁻¹⁶ (a qubit's: 0 for −8.4·10⁻¹⁷, +1.1·10⁻¹⁶ for
    −1.05·10⁻¹⁶)."""
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.3)
    rho = np.asarray(random_state(d, np.random.default_rng(70 + d)))
    alphas = [0.5, 1.0, 2.0, 3.5, np.inf]
    for theta in [1e-8, 1e-4, 0.3]:
        m = model.replace(theta=theta)
        got = np.asarray(m.beta * jt.collision_second_laws(m, rho, 0.3, alphas, quantum=True)[1])
        want = [_decimal_collision_change(m, rho, 0.3, theta, a) for a in alphas]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0, err_msg=f"theta={theta}")


def test_change_gradient_matches_finite_differences():
    """d/dt ΔD_α(ρ + tH → ρ + tH + Δ‖τ_S) by jax.grad (under jit) against a central difference (h = 10⁻⁵: error
    ~h² and ε|ΔD|/h, below 10⁻⁸ relative), α = ½, 1, 2, ∞, a coherent qutrit, ‖Δ‖ = 10⁻³ λ_min."""
    rng = np.random.default_rng(5)
    rho = jnp.asarray(random_state(3, rng))
    lam = np.min(np.linalg.eigvalsh(np.asarray(rho)))
    h_dir = jnp.asarray(0.1 * lam * _traceless_hermitian(3, rng))
    delta = jnp.asarray(1e-3 * lam * _traceless_hermitian(3, rng))
    log_t = log_thermal_populations(3, 1.0, 1.0)
    for a in [0.5, 1.0, 2.0, np.inf]:

        def f(t, a=a):
            return quantum_divergence_change_to_diagonal(rho + t * h_dir, delta, log_t, a)

        grad = float(jax.jit(jax.grad(f))(0.0))
        h = 1e-5
        fd = float((f(h) - f(-h)) / (2 * h))
        np.testing.assert_allclose(grad, fd, rtol=1e-6, err_msg=f"alpha={a}")
        assert abs(grad) > 1e-3 * abs(float(f(0.0)))  # a slope that matters


def _normalised(m):
    trace = sum(m[i][i] for i in range(len(m))) / 2
    return [[x / trace for x in row] for row in m]


def _decimal_general(rho, sigma, alpha, kind):
    """Petz or sandwiched D_α(ρ‖σ) of general (non-commuting) states in decimals."""
    with localcontext() as ctx:
        ctx.prec = DIGITS
        # normalised in decimals: the float trace 1 + δ (δ ~ 10⁻¹⁶) moves log Tr(·)/(α − 1) by αδ/(α − 1)
        r, g = (_normalised(_embed(_dec(x))) for x in (rho, sigma))
        a = Decimal(alpha)
        if kind == "petz":
            prod = _matmul(_function(r, lambda x: _power(x, a)), _function(g, lambda x: _power(x, 1 - a)))
            total = sum(prod[i][i] for i in range(len(r))) / 2
        else:
            s = _function(g, lambda x: _power(x, (1 - a) / (2 * a)))
            total = sum(_power(x, a) for x in _jacobi(_matmul(_matmul(s, r), s))) / 2
        return float(total.ln() / (a - 1))


@pytest.mark.parametrize("kind", ["petz", "sandwiched"])
@pytest.mark.parametrize("near", [False, True])
def test_divergences_across_the_alpha_one_window(kind, near):
    """Petz and sandwiched D_α(ρ‖σ) of a random non-commuting qubit pair (``near``: ρ = 0.99σ + 0.01ρ₁, D ~ 10⁻⁵) at
    α = 1 ± 3·10⁻⁶, 1 ± 5·10⁻⁴, 1 ± 2·10⁻³ within 10⁻¹² absolute of the decimals (normalised there).
    Before, the first-order expansion inside the 10⁻⁶ window and log Tr(·)/(α − 1) beyond: 4·10⁻¹¹ off at α = 1 − 3·10⁻⁶."""
    rng = np.random.default_rng(12)
    sigma = np.asarray(random_state(2, rng))
    rho = np.asarray(random_state(2, rng))
    if near:
        rho = 0.99 * sigma + 0.01 * rho
    f = jt.petz_renyi_divergence if kind == "petz" else jt.sandwiched_renyi_divergence
    for h in [3e-6, 5e-4, 2e-3]:
        for a in [1.0 - h, 1.0 + h]:
            want = _decimal_general(rho, sigma, a, kind)
            np.testing.assert_allclose(float(f(rho, sigma, a)), want, rtol=0, atol=1e-12, err_msg=f"alpha={a}")


@pytest.mark.parametrize("alpha", [1.0 - 3e-6, 1.0 + 1e-5, 1.0 + 0.02])
def test_float32_divergence_near_alpha_one(alpha):
    """complex64 states: D_α(ρ‖τ_S) (divergences_to_thermal(quantum=True)) near α = 1 within 2·10⁻⁵ of the float64
    value (a few float32 ε over the window of 3·10⁻²). Before, outside the 10⁻⁶ window log Tr(·)/(α − 1) lost
    ε/|α − 1|: 4·10⁻³ off at α = 1 + 10⁻⁵, 8·10⁻³ at 1 − 3·10⁻⁶ (now 2.4·10⁻⁷)."""
    rho = np.asarray(random_state(3, np.random.default_rng(9)))
    want = float(jt.divergences_to_thermal(rho, 1.0, 1.0, [alpha], quantum=True)[0])
    got = float(jt.divergences_to_thermal(rho.astype(np.complex64), 1.0, 1.0, [alpha], quantum=True)[0])
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)
