"""Derivative of ``hermitian_function`` (Daleckii–Krein, docs/information.md §6) near degeneracies.

Independent route: the Fréchet derivative L(A, E) of a primary matrix function is the upper-right
block of f([[A, E], [0, A]]) (Mathias 1996; Higham, *Functions of Matrices*, Thm 3.6), here with
SciPy's expm, logm and fractional_matrix_power in float64, and for the Bose/Fermi occupations
(1 + e^B)^{-1}, (e^B − 1)^{-1} through expm and a linear solve. No eigendecomposition, no divided
difference.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl

import jaxthermo as jt
from jaxthermo._information import _power_resolved, log_resolved, support_tolerance
from jaxthermo._linalg import divided_differences, hermitian_function
from jaxthermo.assignment._quadratic import _bose, _fermi
from tests.helpers import random_hermitian, random_unitary

GAPS = (1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-3, 1.0)


def _power(gamma):
    return (lambda x: x**gamma), (lambda b: b @ b if gamma == 2 else sl.fractional_matrix_power(b, gamma))


# name -> (elementwise f for JAX, f of a general matrix with SciPy)
FUNCTIONS = {
    "exp": (jnp.exp, sl.expm),
    "log": (jnp.log, sl.logm),
    "pow-0.5": _power(-0.5),
    "pow0.3": _power(0.3),
    "pow2": _power(2),
    "fermi": (_fermi, lambda b: np.linalg.inv(np.eye(len(b)) + sl.expm(b))),
    "bose": (_bose, lambda b: np.linalg.inv(sl.expm(b) - np.eye(len(b)))),
}
# eigenvalue scales of the designed pair (s, s + gap)
SCALES = {
    "exp": (1.0, -50.0),
    "log": (1e-10, 0.3),
    "pow-0.5": (1e-10, 1.0),
    "pow0.3": (1e-10, 1.0),
    "pow2": (1e-10, 1.0),
    "fermi": (0.5, 3.0),
    "bose": (0.5, 20.0),
}
CASES = [(name, s, gap) for name, scales in SCALES.items() for s in scales for gap in GAPS]


def _frechet_block(fm, a, e):
    """L(A, E) as the upper-right block of f([[A, tE], [0, A]])/t (t balances the two blocks)."""
    d = len(a)
    t = np.linalg.norm(a) / np.linalg.norm(e)
    block = np.block([[a, t * e], [np.zeros_like(a), a]])
    return fm(block)[:d, d:] / t


def _designed(s, gap, rng):
    """Spectrum with the pair (s, s + gap) and two further eigenvalues, and a tangent E.

    Rotated by a random unitary when the spectrum is well conditioned (largest/smallest magnitude
    ≤ 10⁴: eigh's absolute error ε‖A‖ is then a small relative error of every eigenvalue);
    otherwise A stays diagonal (eigh exact) and E strictly upper triangular, so that the block
    matrix is triangular and SciPy's Schur form of it is exact as well.
    """
    others = [s + 0.7, s + 1.9] if s < 0 or s >= 0.3 else [2.5 * s + 1.6 * gap, 4.0 * s + 3.0 * gap]
    eigs = np.array([s, s + gap, *others])
    mags = np.abs(eigs)
    if mags.max() / mags.min() <= 1e4:
        v = random_unitary(4, rng)
        a = v @ np.diag(eigs) @ v.conj().T
        return 0.5 * (a + a.conj().T), v @ random_hermitian(4, rng) @ v.conj().T, True
    e = np.triu(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)), 1)
    return np.diag(eigs).astype(complex), e, False


def _jvp(f, a, e, fn=hermitian_function):
    return np.asarray(jax.jvp(lambda x: fn(f, x), (jnp.asarray(a),), (jnp.asarray(e),))[1])


@pytest.mark.parametrize("name,s,gap", CASES)
def test_jvp_matches_block_frechet_derivative(name, s, gap):
    """Relative error ≤ 1e-10 at every gap 1e-14…1 (reached: ≤ 5e-14 for the rotated spectra,
    ≤ 6e-12 for the diagonal ones spread over more than 4 decades but 8e-11 for x^−0.5 with
    eigenvalues 1e-10 and 1, where both routes agree with the plain quotient and SciPy's Schur–Padé
    algorithm limits the reference: 1e-9 there). The old rule (divided difference unless
    |Δλ| ≤ 10³ε(1 + |λ_i| + |λ_j|)) fails 27 of these cases, off by up to 1.4e-4 (exp at gap
    1e-12: 6e-6; x^0.3: 8e-5; the Fermi function: 1.4e-4)."""
    f, fm = FUNCTIONS[name]
    rng = np.random.default_rng(CASES.index((name, s, gap)))
    a, e, rotated = _designed(s, gap, rng)
    want = _frechet_block(fm, a, e)
    got = _jvp(f, a, e)
    assert np.isfinite(got).all()
    assert np.linalg.norm(got - want) / np.linalg.norm(want) <= (1e-10 if rotated else 1e-9)


def test_divided_differences_of_the_pair():
    """Γ of the designed pair itself against closed forms without cancellation:
    exp: e^m·sinh(h/2)/(h/2) (m the midpoint, h the gap); log: 2 atanh(h/(2m))/h."""
    for m in (1.0, 1e-10, 37.0):
        for h in np.array([1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-3]) * min(m, 1.0):
            w = jnp.array([m - h / 2, m + h / 2])
            g = np.asarray(divided_differences(jnp.exp, w - m))[0, 1]  # exponent near 0
            np.testing.assert_allclose(g, np.sinh(h / 2) / (h / 2), rtol=4e-16)
            g = np.asarray(divided_differences(jnp.log, w))[0, 1]
            np.testing.assert_allclose(g, 2 * np.arctanh(h / (2 * m)) / h, rtol=4e-16)


def test_exact_degeneracy_gives_the_derivative():
    """Coincident eigenvalues: Γ_ij = f'(λ) exactly where λ_i = λ_j, finite everywhere, symmetric."""
    w = jnp.array([-0.3, -0.3, 1.0, 1.0, 1.0])
    g = np.asarray(divided_differences(jnp.exp, w))
    assert np.isfinite(g).all()
    np.testing.assert_array_equal(g, g.T)
    same = np.asarray(w)[:, None] == np.asarray(w)[None, :]
    np.testing.assert_allclose(g[same], np.exp(np.broadcast_to(np.asarray(w)[:, None], (5, 5))[same]), rtol=4e-16)


def _log_above(tol):
    return lambda w: log_resolved(w, (jnp.asarray(tol), jnp.asarray(tol), jnp.asarray(0.0)))


def _inverse_sqrt_above(tol):
    return lambda w: _power_resolved(-0.5)(w, (jnp.asarray(tol), jnp.asarray(tol), jnp.asarray(0.0)))


@pytest.mark.parametrize("maker", [_log_above, _inverse_sqrt_above])
def test_on_support_functions_finite_at_zero_eigenvalues(maker):
    """log and negative powers restricted to the support (value 0 below the tolerance): the JVP is
    finite at a degenerate kernel, and on the support equals the block route applied to the
    support (the kernel block of A is 0 and stays out of the support's Fréchet derivative)."""
    tol = support_tolerance(jnp.float64)
    rng = np.random.default_rng(3)
    v = random_unitary(4, rng)
    eigs = np.array([0.0, 0.0, 0.4, 0.4 + 1e-11])
    a = v @ np.diag(eigs) @ v.conj().T
    e = random_hermitian(4, rng)
    got = _jvp(maker(tol), a, e)
    assert np.isfinite(got).all()
    # on the support (the last two eigenvectors) the derivative is the ordinary one of f there
    p = v[:, 2:]
    f_plain = sl.logm if maker is _log_above else (lambda b: sl.fractional_matrix_power(b, -0.5))
    want = _frechet_block(f_plain, np.diag(eigs[2:]).astype(complex), p.conj().T @ e @ p)
    np.testing.assert_allclose(p.conj().T @ got @ p, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_clipped_log_finite_below_the_clip():
    """log(max(w, floor)) (the coherent model's log): f' = 0 below the clip, so pairs below it get
    Γ = 0 and pairs across it the divided difference; no NaN anywhere."""
    floor = 1e-9

    def log_clipped(w):
        return jnp.log(jnp.maximum(w, floor))

    w = jnp.array([0.0, 1e-12, 1e-11, 0.5, 0.5 + 1e-12])
    g = np.asarray(divided_differences(log_clipped, w))
    assert np.isfinite(g).all()
    np.testing.assert_array_equal(g[:3, :3], 0.0)
    np.testing.assert_allclose(g[0, 3], (np.log(0.5) - np.log(floor)) / 0.5, rtol=1e-15)
    np.testing.assert_allclose(g[3, 4], 2 * np.arctanh(1e-12 / (2 * (0.5 + 5e-13))) / 1e-12, rtol=4e-16)


def test_gibbs_state_gradient_matches_finite_differences():
    """∂/∂θ Tr[O ρ_β(H + θP)] at a nearly degenerate ground state (gap 1e-12) against Richardson
    extrapolated central differences (steps 5e-4 and 1e-3, which agree with steps 2e-4 and 4e-4 to
    5e-11): agreement 1.5e-11; the old rule was off by 7.8e-4 relative."""
    rng = np.random.default_rng(7)
    v = random_unitary(4, rng)
    h = v @ np.diag([0.3, 0.3 + 1e-12, 1.1, 1.6]) @ v.conj().T
    h = 0.5 * (h + h.conj().T)
    p, o = random_hermitian(4, rng), random_hermitian(4, rng)

    def objective(theta):
        rho = jt.gibbs_state(jnp.asarray(h) + theta * jnp.asarray(p), 1.0)
        return jnp.real(jnp.trace(jnp.asarray(o) @ rho))

    grad = float(jax.grad(objective)(0.0))

    def central(step):
        return (float(objective(step)) - float(objective(-step))) / (2 * step)

    fd = (4 * central(5e-4) - central(1e-3)) / 3
    assert abs(grad - fd) <= 3e-10 * abs(fd)


def test_float32_stays_float32_and_is_accurate():
    """float32 in, float32 out (value and tangent). At a gap of 1e-3 (above the old rule's 10³ε
    threshold, divided difference with error ~ε/gap) the old rule was off by 4.8e-6 against the
    float64 block route, the new one by 2.9e-7."""
    rng = np.random.default_rng(11)
    v = random_unitary(3, rng)
    a64 = v @ np.diag([0.25, 0.25 + 1e-3, 0.9]) @ v.conj().T
    a64 = 0.5 * (a64 + a64.conj().T)
    e64 = random_hermitian(3, rng)
    a32, e32 = jnp.asarray(a64, jnp.complex64), jnp.asarray(e64, jnp.complex64)
    out, tan = jax.jvp(lambda x: hermitian_function(jnp.exp, x), (a32,), (e32,))
    assert out.dtype == jnp.complex64 and tan.dtype == jnp.complex64
    # the same float32 matrices in float64
    want = _frechet_block(sl.expm, np.asarray(a32, np.complex128), np.asarray(e32, np.complex128))
    assert np.linalg.norm(np.asarray(tan) - want) / np.linalg.norm(want) <= 1.5e-6
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    real = jnp.asarray(q @ np.diag([0.25, 0.25 + 1e-4, 0.9]) @ q.T, jnp.float32)
    g = jax.grad(lambda x: jnp.sum(hermitian_function(jnp.log, x)))(real)
    assert g.dtype == jnp.float32
    assert divided_differences(jnp.exp, jnp.array([0.1, 0.1 + 1e-4], jnp.float32)).dtype == jnp.float32


def test_far_pair_of_a_nearly_linear_power_keeps_the_quotient():
    """x^0.99 on (1e-3, 10): f' varies by only 9% (a switch on f'(a)/f'(b) ∈ [2/3, 3/2] would
    integrate), but the interval reaches to 1e-4 of its length from the branch point at 0, where
    Gauss–Legendre converges only algebraically (16 nodes: 2e-5 relative). The quotient has no
    cancellation there; it is what the error comparison picks (closed form: NumPy's quotient)."""
    f = lambda x: x**0.99
    a, b = 1e-3, 10.0
    g = np.asarray(divided_differences(f, jnp.array([a, b])))[0, 1]
    np.testing.assert_allclose(g, (a**0.99 - b**0.99) / (a - b), rtol=1e-15)


def test_expm_rounds_the_squarings_up():
    """jax.scipy.linalg.expm rounds log₂(‖A‖₁/θ₁₃) down, so its Padé approximant saw norms up to 2θ₁₃:
    e^{diag(−20i, 6.7i)} was 6.8·10⁻⁹ off (worst 1.9·10⁻⁹·‖A‖₁ over the scan below). The package's expm
    against SciPy's for anti-Hermitian A, diagonal and dense, ‖A‖₁ from 0.1 to 10³ (the conditioning of
    e^A allows ~ε‖A‖₁); a real non-normal A; NaN beyond JAX's range; derivatives against central differences."""
    from jaxthermo._linalg import expm

    rng = np.random.default_rng(0)
    h = rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6))
    h = h + h.conj().T
    h /= np.abs(h).sum(0).max()
    for n in np.geomspace(0.1, 1e3, 60):
        for a in (np.diag([-n * 1j, n / 3 * 1j]), -1j * n * h):
            err = np.abs(np.asarray(expm(jnp.asarray(a))) - sl.expm(a)).max()
            assert err <= 1e-15 * max(1.0, n), (n, err)
    assert (
        np.abs(np.asarray(expm(jnp.asarray(np.diag([-20j, 20j / 3])))) - np.diag(np.exp([-20j, 20j / 3]))).max() < 1e-14
    )
    general = rng.normal(size=(5, 5))
    general *= 20 / np.abs(general).sum(0).max()
    ref = sl.expm(general)
    assert np.abs(np.asarray(expm(jnp.asarray(general))) - ref).max() < 1e-13 * np.abs(ref).max()
    assert np.isnan(np.asarray(expm(jnp.asarray(np.diag([-5.38j * 2**17, 0]))))).all()
    assert expm(jnp.asarray(-1j * h, jnp.complex64)).dtype == jnp.complex64
    f = lambda x: jnp.real(jnp.trace(expm(-1j * x * jnp.asarray(h)) @ jnp.asarray(h @ h)))
    eps = 1e-6
    np.testing.assert_allclose(jax.grad(f)(12.0), (f(12.0 + eps) - f(12.0 - eps)) / (2 * eps), rtol=1e-7)
