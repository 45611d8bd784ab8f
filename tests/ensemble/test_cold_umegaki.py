"""Umegaki D_1(ρ‖τ_S) in the ensemble accurate relative to its value (jaxthermo/ensemble/_divergences.py
``relative_entropy_term``, ``_umegaki_qubit``). Reference: the definition in decimals (250 digits: tests/conftest.py).

Before: D_1 = Σ_k λ_k log λ_k − Σ_j p_j log t_j (qubit closed form) or Σ_j p_j (log p_j − log t_j) (diagonal
states) cancelled to ~ε: for a cold qubit (βg = 40) whose excited population is 1.1 t1, D_1 came out
4.5e-19 (classical) and 1.9e-16 (closed form) for 2.1e-20, at 0.5 t1 negative (−1.5e-18 for 6.5e-19); a
coherent ρ = τ_S + 1e-9 |0⟩⟨1| + h.c. gave 1.7e-16 for 4.0e-17. A cold reservoir with inhomogeneity puts the
frozen-configuration D_1 at e^{−βg}-sized values, where those errors are the whole value.
"""

from __future__ import annotations

from decimal import Decimal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._divergences import classical_divergences, qubit_quantum_divergences


def _thermal(bg):
    """(t0, t1) of a qubit with levels ∓g/2 at inverse temperature β (β g = bg), in decimals."""
    w = (-Decimal(bg)).exp()
    return 1 / (1 + w), w / (1 + w)


def _umegaki(p1, c_abs, bg):
    """D_1 of ρ = [[1 − p1, c], [c*, p1]] against τ_S by its definition Σ λ ln λ − Σ p ln t (decimals)."""
    t0, t1 = _thermal(bg)
    p1 = Decimal(repr(float(p1))) if not isinstance(p1, Decimal) else p1
    c2 = (Decimal(repr(float(c_abs))) ** 2) if not isinstance(c_abs, Decimal) else c_abs
    p0 = 1 - p1
    rr = ((p0 - p1) ** 2 + 4 * c2).sqrt()
    lam = [(1 + rr) / 2, (1 - rr) / 2]
    return sum(x * x.ln() for x in lam if x > 0) - p0 * t0.ln() - p1 * t1.ln()


CASES = [  # (βg, p1 / t1, |c|)
    (40.0, 1.1, 0.0),
    (40.0, 0.5, 0.0),
    (40.0, 3.0, 1e-9),
    (40.0, 1.0, 1e-9),
    (20.0, 1.1, 0.0),
    (20.0, 1.0, 1e-12),
    (5.0, 1.001, 0.0),
    (5.0, 1.0, 1e-6),
    (1.0, 1.0 + 1e-6, 0.0),
    (1.0, 0.7, 0.05),
    (300.0, 2.0, 0.0),
]


@pytest.mark.parametrize("bg,f,c", CASES)
def test_qubit_closed_form_relative_accuracy(bg, f, c):
    t1 = float(_thermal(bg)[1])
    p1 = f * t1
    ref = float(_umegaki(p1, c, bg))
    val = float(
        qubit_quantum_divergences(
            jnp.asarray(1.0 - p1), jnp.asarray(c), jnp.asarray(0.0), bg, 1.0, (1.0,), p1=jnp.asarray(p1)
        )[0]
    )
    assert val >= 0.0
    # abs: the dominant level's population 1 − p1 is rounded (ε), which moves D_1 by ~ε²
    assert val == pytest.approx(ref, rel=1e-9, abs=1e-30)
    if c == 0.0:  # diagonal states: the classical route of the ensemble
        cl = float(classical_divergences(jnp.asarray([1.0 - p1, p1]), bg, 1.0, (1.0,))[0])
        assert cl >= 0.0
        assert cl == pytest.approx(ref, rel=1e-9, abs=1e-30)


def test_never_negative_near_tau():
    """D_1 ≥ 0 for states a rounding away from τ_S (each term of the sum is ≥ 0)."""
    t1 = float(_thermal(1.0)[1])
    rng = np.random.default_rng(3)
    p1 = t1 * (1.0 + rng.normal(scale=1e-12, size=64))
    cl = np.asarray(classical_divergences(jnp.stack([1.0 - p1, p1], -1), 1.0, 1.0, (1.0,)))[:, 0]
    q = np.asarray(
        qubit_quantum_divergences(
            jnp.asarray(1.0 - p1), jnp.asarray(1e-13 * np.ones(64)), jnp.zeros(64), 1.0, 1.0, (1.0,), p1=jnp.asarray(p1)
        )
    )[:, 0]
    assert np.all(cl >= 0.0) and np.all(q >= 0.0)


def test_derivatives_match_the_closed_form():
    """d D_1/dp1 of a diagonal qubit (p0 = 1 − p1) is log(p1/t1) − log(p0/t0); the coherent closed form's
    derivative in |c| equals a central difference of the decimal reference."""
    bg, p1 = 2.0, 0.3
    t0, t1 = (float(x) for x in _thermal(bg))
    f = lambda q1: classical_divergences(jnp.stack([1.0 - q1, q1]), bg, 1.0, (1.0,))[0]
    expected = np.log(p1 / t1) - np.log((1 - p1) / t0)
    assert float(jax.grad(f)(jnp.asarray(p1))) == pytest.approx(expected, rel=1e-12)

    c = 0.1
    fq = lambda cc: qubit_quantum_divergences(
        jnp.asarray(1.0 - p1), cc, jnp.asarray(0.0), bg, 1.0, (1.0,), p1=jnp.asarray(p1)
    )[0]
    h = Decimal("1e-20")
    num = (
        _umegaki(Decimal(repr(p1)), (Decimal(repr(c)) + h) ** 2, bg)
        - _umegaki(Decimal(repr(p1)), (Decimal(repr(c)) - h) ** 2, bg)
    ) / (2 * h)
    assert float(jax.grad(fq)(jnp.asarray(c))) == pytest.approx(float(num), rel=1e-10)


def _partial_swap_recursion(p1, c_abs, bg, theta, n):
    """Populations and |ρ01| of a qubit after n collisions with τ_S (σ = 0) by the partial swap
    ρ' = c²ρ + s²τ + isc[τ, ρ]: p1' − t1 = c²(p1 − t1), ρ01' = c(c + is(t0 − t1))ρ01 (decimals)."""
    t0, t1 = _thermal(bg)
    cth, sth = Decimal(repr(float(np.cos(theta)))), Decimal(repr(float(np.sin(theta))))
    p1 = Decimal(repr(float(p1)))
    c2 = Decimal(repr(float(c_abs))) ** 2
    out = []
    for _ in range(n + 1):
        out.append(_umegaki(p1, c2, bg))
        p1 = t1 + cth**2 * (p1 - t1)
        c2 = c2 * cth**2 * (cth**2 + sth**2 * (t0 - t1) ** 2)
    return out


@pytest.mark.parametrize("coherence", [0.0, 1e-9])
def test_ensemble_frozen_d1_of_a_cold_homogeneous_reservoir(coherence):
    """σ = 0: every configuration relaxes the same way towards τ_S; the frozen-configuration ⟨D_1⟩ after every
    collision equals the definition evaluated on the decimal recursion of the partial swap (βg0 = 40)."""
    bg, theta, n = 40.0, 0.1, 30
    t1 = float(_thermal(bg)[1])
    p1 = 3.0 * t1
    rho0 = np.array([[1.0 - p1, coherence], [coherence, p1]])
    model = jt.InhomogeneousReservoir(2, bg, 1.0, theta, distribution=jt.Gaussian(0.0))
    res = jt.ensemble(model, rho0, n, 8, alphas=(1.0,), coherent=coherence > 0)
    ref = np.array([float(x) for x in _partial_swap_recursion(p1, coherence, bg, theta, n)])
    got = np.asarray(res.mean_divergence)[:, 0]
    assert np.all(got >= 0.0)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0.0)
    # the mean state is every configuration's state: D_1(ρ̄_r‖τ_S) by the reference route (row 0 too)
    np.testing.assert_allclose(np.asarray(res.mean_state_divergence)[:, 0], ref, rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("bg,f", [(40.0, 1.1), (40.0, 0.5), (20.0, 1.1), (5.0, 1.001), (300.0, 2.0)])
def test_reference_classical_kl_relative_accuracy(bg, f):
    """renyi_divergence(p, q, 1) and divergences_to_thermal(quantum=False) near a cold τ_S (Σ p log(p/q) gave
    4.5e-19 for 2.1e-20 and −1.5e-18 for 6.5e-19 at βg = 40)."""
    t0, t1 = _thermal(bg)
    p1 = f * float(t1)
    ref = float(_umegaki(p1, 0.0, bg))
    p = jnp.asarray([1.0 - p1, p1])
    d_ref = float(jt.divergences_to_thermal(jnp.diag(p), bg, 1.0, (1.0,), quantum=False)[0])
    assert d_ref >= 0.0 and d_ref == pytest.approx(ref, rel=1e-9, abs=1e-30)
    if bg < 700:  # q as populations (t1 normal)
        d_pq = float(jt.renyi_divergence(p, jnp.asarray([float(t0), float(t1)]), 1.0))
        assert d_pq >= 0.0 and d_pq == pytest.approx(ref, rel=1e-6, abs=1e-30)


def _spin_thermal(d, bg):
    """Thermal populations of g s_z (levels m = −(d−1)/2 … (d−1)/2) at βg = bg, in decimals."""
    w = [(-Decimal(bg) * (Decimal(j) - Decimal(d - 1) / 2)).exp() for j in range(d)]
    z = sum(w)
    return [x / z for x in w]


def _block_state(d, bg, factors, blocks):
    """ρ with populations factors_j · t_j (level 0 taking the rest of the trace) and coherences
    f·√(p_i p_j) in disjoint 2×2 blocks (i, j, f): float entries and, from them, the exact D_1 in decimals
    (eigenvalues of each block in closed form; Σ λ ln λ − Σ p ln t − Σ p + Σ t, the generalised relative
    entropy, so the rounding of ρ's trace does not enter)."""
    t = _spin_thermal(d, bg)
    p = [float(Decimal(repr(float(f))) * t[j]) for j, f in enumerate(factors)]
    p[0] = float(1 - sum(Decimal(x) for x in p[1:]))
    rho = np.diag(np.asarray(p, complex))
    for i, j, f in blocks:
        rho[i, j] = rho[j, i] = f * np.sqrt(p[i] * p[j])
    pd = [Decimal(x) for x in p]
    lam, seen = [], set()
    for i, j, _ in blocks:
        a, b, c = pd[i], pd[j], Decimal(float(np.real(rho[i, j])))
        disc = ((a - b) ** 2 + 4 * c * c).sqrt()
        lam += [(a + b + disc) / 2, (a + b - disc) / 2]
        seen |= {i, j}
    lam += [pd[k] for k in range(d) if k not in seen]
    exact = sum(x * x.ln() for x in lam if x > 0) - sum(pj * tj.ln() for pj, tj in zip(pd, t)) - sum(pd) + sum(t)
    return rho, exact


QUDIT_CASES = [  # (d, βg, population factors, coherent blocks (i, j, f))
    (3, 40.0, (1, 1.0, 1.0), [(0, 1, 0.5)]),  # 1.7e-16 for 4.3e-17 before
    (3, 40.0, (1, 1.0, 1.0), [(0, 1, 1e-3)]),  # 1.7e-16 for 1.7e-22
    (3, 20.0, (1, 1.5, 0.7), [(0, 1, 0.3)]),
    (3, 1.0, (1, 1.2, 0.9), [(0, 2, 0.3)]),  # hot: every term O(1)
    (4, 15.0, (1, 1.0, 1.3, 1.0), [(0, 1, 0.2), (2, 3, 0.4)]),
    (5, 30.0, (1, 1.2, 0.8, 1.0, 1.0), [(0, 1, 0.01)]),
    (8, 10.0, (1,) + (1.0,) * 7, [(0, 3, 0.3)]),
    (8, 10.0, (1, 1.4) + (1.0,) * 6, [(0, 1, 1e-2), (2, 4, 0.5)]),
]


@pytest.mark.parametrize("d,bg,factors,blocks", QUDIT_CASES)
def test_coherent_qudit_d1_relative_accuracy(d, bg, factors, blocks):
    """Coherent d ≥ 3 (eigenvalues from the LAPACK-free routine, ``umegaki_from_spectrum``): D_1 to 1e-9 of
    its value, one matrix and in the blocked batch path (600 copies), where Σ λ log λ − Σ p log t cancelled
    to ~ε (and the routine's 2×2 closed form lost the e^{−40} eigenvalue of a cold qutrit to 0)."""
    from jaxthermo.ensemble._divergences import quantum_divergences_thermal

    rho, exact = _block_state(d, bg, factors, blocks)
    for batch in (1, 600):
        got = np.asarray(quantum_divergences_thermal(jnp.asarray(np.stack([rho] * batch)), bg, 1.0, (1.0,)))[:, 0]
        assert np.all(got >= 0.0)
        np.testing.assert_allclose(got, float(exact), rtol=1e-9, atol=4 * _floor(rho, d, bg))
    # the reference route (LAPACK's eigenvalues; C = S(Δρ) − S(ρ) from the spectra was 2.5 % low at βg = 40)
    ref = float(jt.divergences_to_thermal(jnp.asarray(rho), bg, 1.0, (1.0,), quantum=True)[0])
    assert ref >= 0.0 and ref == pytest.approx(float(exact), rel=1e-9, abs=4 * _floor(rho, d, bg))


def _floor(rho, d, bg):
    """ε Σ_(k>0) p_k |log(t_k/t_0)|: the eigenvalues' ~ε relative rounding in D_1 (docs/ensemble.md §2)."""
    p = np.real(np.diag(rho))
    lt = np.asarray([float(x.ln()) for x in _spin_thermal(d, bg)])
    return np.finfo(float).eps * np.sum(p[1:] * np.abs(lt[1:] - lt[0]))


def test_graded_2x2_keeps_its_small_eigenvalue():
    """The routine's closed form for the last 2×2 block: [[1, c], [c, e^{−40}]] (c = e^{−20}/2) has the small
    eigenvalue e^{−40}(1 − 1/4)/(1 + …) to relative precision (mid − rad gave 0)."""
    from jaxthermo.ensemble._small_eigvalsh import eigvalsh_small

    small, c = Decimal(-40).exp(), Decimal(-20).exp() / 2
    disc = ((1 - small) ** 2 + 4 * c * c).sqrt()
    exact = (1 + small - disc) / 2
    h = jnp.asarray([[1.0, float(c)], [float(c), float(small)]])
    lam = np.sort(np.asarray(eigvalsh_small(h)))
    assert lam[0] == pytest.approx(float(exact), rel=1e-14, abs=0.0)


def test_coherent_qudit_d1_floor_between_rare_levels():
    """A coherence between two rare levels shifts eigenvalues by less than ε times the larger populations, which
    the eigenvalues carry only to ~ε relative: there D_1 is at the floor ε Σ_(k>0) p_k |log(t_k/t_0)| (docs/ensemble.md
    §2), never negative (the reference route gave −1.1e-19 for 1.5e-21)."""
    from jaxthermo.ensemble._divergences import quantum_divergences_thermal

    d, bg = 8, 10.0
    rho, exact = _block_state(d, bg, (1,) * d, [(2, 5, 0.5)])
    got = float(quantum_divergences_thermal(jnp.asarray(rho[None]), bg, 1.0, (1.0,))[0, 0])
    assert got >= 0.0 and abs(got - float(exact)) <= 4 * _floor(rho, d, bg)
    ref = float(jt.divergences_to_thermal(jnp.asarray(rho), bg, 1.0, (1.0,), quantum=True)[0])
    assert ref >= 0.0 and abs(ref - float(exact)) <= 4 * _floor(rho, d, bg)


def _gap(x):
    """(1 + x) ln(1 + x) − x in decimals, at the float x: its series Σ_{n≥2} (−1)ⁿ xⁿ/(n(n − 1)) below |x| < 10⁻³
    (the closed form cancels x away, beyond the context's 250 digits for |x| < 10⁻¹²⁵)."""
    xd = Decimal(repr(float(x)))
    if abs(xd) >= Decimal("1e-3"):
        return (1 + xd) * (1 + xd).ln() - xd
    return sum((-1) ** n * xd**n / (n * (n - 1)) for n in range(2, 60))


def _gap_points():
    """x from 10⁻¹⁵⁰ (x²/2 a normal float64) through fdlibm's reduced range (−0.29…0.41) to 10¹⁰⁰, both signs, and
    down to −1 and beyond (value −x there: u log u → 0)."""
    mags = np.geomspace(1e-150, 0.29, 60)
    far = [0.4142, 0.5, 1.0, 10.0, 1e3, 1e100, -0.3, -0.5, -0.9, -0.999999, -1.0, -2.0]
    return np.concatenate([mags, -mags, [0.0], far])


def _gap_exact(x):
    return float(_gap(x)) if x > -1 else -float(x)


@pytest.mark.parametrize("division_free", [False, True])
def test_the_near_one_gap_is_accurate_relative_to_its_value_under_jit(division_free):
    """xlogx_gap(x) = (1 + x) ln(1 + x) − x compiled (XLA rewrote the old form's (1 + y) − 1 to y, which left ~ε
    absolute: relative error ε/x², 1 at x = 10⁻⁸), eager alike, and with the division-free reciprocal of the GPU
    kernel's body; its derivative log(1 + x). float32 through its own path to a few float32 ε."""
    from jaxthermo._elementary import division_free as no_division
    from jaxthermo._elementary import xlogx_gap

    x = _gap_points()
    want = np.array([_gap_exact(v) for v in x])
    with no_division() if division_free else np.errstate():
        jitted = np.asarray(jax.jit(xlogx_gap)(jnp.asarray(x)))
        eager = np.asarray(xlogx_gap(jnp.asarray(x)))
        slope = np.asarray(jax.jit(jax.vmap(jax.grad(xlogx_gap)))(jnp.asarray(x)))
    for got in (jitted, eager):
        np.testing.assert_allclose(got, want, rtol=8 * np.finfo(float).eps, atol=0)
        assert np.all(got >= 0)
    inside = x > -1
    np.testing.assert_allclose(slope[inside], np.log1p(x[inside]), rtol=4 * np.finfo(float).eps, atol=1e-300)
    # the second derivative 1/(1 + x): ΔD_1's gradient differentiates the D_1 JVP (it was 0 beyond the reduced
    # range, the reduction's bit operations having no derivative)
    curvature = np.asarray(jax.jit(jax.vmap(jax.grad(jax.grad(xlogx_gap))))(jnp.asarray(x[inside])))
    np.testing.assert_allclose(curvature, 1.0 / (1.0 + x[inside]), rtol=4 * np.finfo(float).eps)
    x32 = x[(np.abs(x) > 1e-18) & (np.abs(x) < 1e30)].astype(np.float32)
    got32 = np.asarray(jax.jit(xlogx_gap)(jnp.asarray(x32)))
    assert got32.dtype == np.float32
    want32 = np.array([_gap_exact(v) for v in x32])
    np.testing.assert_allclose(got32, want32, rtol=8 * np.finfo(np.float32).eps, atol=0)


def test_the_relative_entropy_term_is_accurate_near_and_far_from_its_level_under_jit():
    """relative_entropy_term(dev, t, log t) = t[(1 + x) ln(1 + x) − x], x = dev/t, compiled, against decimals: near
    (|x| from 10⁻¹² up, where the old form returned ~εt: 3.7·10⁻¹⁷ for a term of 4.8·10⁻¹⁷ at t = 1/3) and far
    (x up to 10³, down to −1), for an ordinary and a cold level (t = e⁻⁴⁰)."""
    from jaxthermo._information import relative_entropy_term

    term = jax.jit(relative_entropy_term)
    xs = np.concatenate([np.geomspace(1e-12, 1e3, 40), -np.geomspace(1e-12, 1.0, 30)])
    for log_t in (np.log(1 / 3), -40.0):
        t = np.exp(log_t)
        dev = xs * t
        x_exact = [Decimal(repr(float(d))) / Decimal(repr(float(t))) for d in dev]
        want = np.array(
            [float(Decimal(repr(float(t))) * ((1 + x) * (1 + x).ln() - x if x > -1 else 1)) for x in x_exact]
        )
        got = np.asarray(term(jnp.asarray(dev), jnp.full_like(dev, t), jnp.full_like(dev, log_t)))
        np.testing.assert_allclose(got, want, rtol=3e-14, atol=0)


@pytest.mark.parametrize(
    "d, beta, g0, sigma, rho0, rtol",
    [
        (3, 1e-6, 1.0, 0.1, "thermal", 1e-6),
        (2, 1.0, 1.0, 1e-6, "thermal", 1e-6),
        (3, 1e-12, 1.0, 0.1, "mixed", 1e-3),
        (2, 1.0, 1e-8, 0.1, "mixed", 1e-6),
    ],
)
def test_the_engines_mean_d1_near_the_thermal_state_is_accurate(d, beta, g0, sigma, rho0, rtol):
    """⟨D_1(ρ_{S|N}‖τ_S)⟩ of jt.ensemble where every D_α ~ 10⁻²⁶…10⁻¹⁵ (states within ~10⁻⁸ of τ_S): the engine's
    compiled D_1 terms carried ~ε t absolute (6 % high for the qutrit at β = 10⁻⁶; 2.2·10⁻¹⁷ for 5.4·10⁻²⁶ at
    β = 10⁻¹², above D_2; 0 for 1.25·10⁻¹⁷ at g0 = 10⁻⁸) while D_{1/2} and D_2 were right. Against the same
    configurations through frozen_vs_averaged_divergence (the reference's divergences, an independent route), and
    D_α ≈ α·χ²/2 near τ_S: D_1 = 2 D_{1/2} = D_2/2 to the order of the deviation. Both to the precision the states
    carry: a deviation p − t of ~10⁻¹³ (β = 10⁻¹²) is known to ε p/|p − t| ~ 10⁻⁴ (each route rounds its own)."""
    model = jt.InhomogeneousReservoir(d, beta, g0, 0.3 if g0 == 1.0 else 1e-8, distribution=jt.Gaussian(sigma))
    state = jt.thermal_state(d, beta, g0) if rho0 == "thermal" else jnp.eye(d) / d
    alphas = [0.5, 1.0, 2.0]
    got = np.asarray(jt.ensemble(model, state, 10, 256, alphas=alphas).mean_divergence[-1])
    ref = np.asarray(jt.frozen_vs_averaged_divergence(model, state, jax.random.key(0), 256, 10, alphas).frozen_mean[-1])
    np.testing.assert_allclose(got, ref, rtol=rtol)
    np.testing.assert_allclose([got[1] / got[0], got[2] / got[1]], [2.0, 2.0], rtol=rtol)
