"""Model A's ensemble averages and reservoir laws against independent routes (helper-65, session 26).

References: NumPy closed forms of one collision ([ATO19] eq. (8), docs/inhomogeneous.md §2) summed by
hand over two-point laws, the averaged map iterated in NumPy, and SciPy quadrature of the densities.
"""

import numpy as np
import pytest

import jaxthermo as jt

A = jt.inhomogeneous


def _q(d, y):
    """Populations of exp(−y s_z)/Z, m_j = j − (d − 1)/2, in NumPy."""
    m = np.arange(d) - (d - 1) / 2
    logits = -y * m
    w = np.exp(logits - logits.max())
    return w / w.sum()


def _one_collision(d, beta, g0, theta, kind, p, delta):
    """State populations and (W, Q, ΔU) of the partial swap from diag(p) (docs/inhomogeneous.md §2)."""
    q = _q(d, beta * g0 * (1 + delta))
    g_r = g0 * (1 + delta) if kind == "hamiltonian" else g0
    m = np.arange(d) - (d - 1) / 2
    s2 = np.sin(theta) ** 2
    shift = np.sum(m * (q - p))
    return (1 - s2) * p + s2 * q, np.array([(g0 - g_r) * s2 * shift, g_r * s2 * shift, g0 * s2 * shift])


# ---- an explicit theta= of one collision ----------------------------------------------------------------

_MODEL = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.TwoPoint(0.2))
_RHO = np.diag([0.6, 0.4]).astype(complex)
_ONE_COLLISION = {
    "mean_collision": lambda theta: A.mean_collision(_MODEL, _RHO, theta=theta),
    "collision_step": lambda theta: A.collision_step(_MODEL, _RHO, 0.1, theta=theta),
    "collide_closed_form": lambda theta: A.collide_closed_form(_MODEL, _RHO, 0.1, theta=theta),
    "collide_generic": lambda theta: A.collide_generic(_MODEL, _RHO, 0.1, theta=theta),
}


@pytest.mark.parametrize("function", sorted(_ONE_COLLISION))
@pytest.mark.parametrize("theta", [np.array([0.1, 0.2]), np.nan, np.inf, 1j], ids=["schedule", "nan", "inf", "complex"])
def test_explicit_theta_is_one_finite_real_angle(function, theta):
    """A (2,) θ gave a 'state' with ρ_00 from θ = 0.1 and ρ_11 from θ = 0.2 (trace 0.996) and two energetics,
    NaN/inf gave NaN, 1j ran as θ = 0 (nothing happened), all without a word."""
    with pytest.raises((ValueError, TypeError), match="theta"):
        _ONE_COLLISION[function](theta)


def test_explicit_theta_averages_by_hand():
    """mean_collision(theta=0.7) over TwoPoint(0.2) = half the sum of the two collisions in NumPy."""
    p = np.array([0.6, 0.4])
    states, energies = zip(*(_one_collision(2, 1.0, 1.0, 0.7, "hamiltonian", p, x) for x in (-0.2, 0.2)))
    got = A.mean_collision(_MODEL, _RHO, theta=0.7)
    np.testing.assert_allclose(np.diag(np.asarray(got.state)).real, 0.5 * sum(states), rtol=0, atol=1e-15)
    np.testing.assert_allclose([float(v) for v in got.energetics], 0.5 * sum(energies), rtol=1e-13)


# ---- collision_number_scaling's trace-distance limit -----------------------------------------------------


def _distance_after(rho0, q_bar, theta, n):
    """D(ρ̄_N, τ̄) of the averaged partial swap in NumPy: entry jk of ρ̄ − τ̄ is multiplied by
    c² + i s c (q̄_j − q̄_k) at each collision (docs/inhomogeneous.md §3), here raised to the N-th power."""
    c, s = np.cos(theta), np.sin(theta)
    factor = c * c + 1j * s * c * (q_bar[:, None] - q_bar[None, :])
    dev = (rho0 - np.diag(q_bar)) * np.exp(n * np.log(factor))
    return 0.5 * np.sum(np.abs(np.linalg.eigvalsh(dev)))


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("coherent", [True, False])
def test_trace_distance_limit_of_coherent_states(d, coherent):
    """ξ = 1, N → ∞: a coherent ρ_0's coherences decay as exp(−c + c(q̄_j − q̄_k)²/2), not e^{−c}; the limit
    was e^{−c} D(ρ_0, τ̄) for every ρ_0 (qubit |+⟩, βg0 = 1, c = 1: 0.2024 for 0.2211). Reference: the averaged
    map's N-th power at N = 10⁹ (within ~1/N of the limit), τ̄ by hand over TwoPoint(0.4)."""
    law = jt.TwoPoint(0.4)
    model = jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=0.3, distribution=law)
    q_bar = 0.5 * (_q(d, 0.6) + _q(d, 1.4))
    psi = np.ones(d) / np.sqrt(d)
    rho0 = np.outer(psi, psi) if coherent else np.diag(np.linspace(1.0, 2.0, d) / np.linspace(1.0, 2.0, d).sum())
    c, n = 1.0, 10**9
    expected = _distance_after(rho0, q_bar, np.arcsin(np.sqrt(c / n)), n)
    got = A.collision_number_scaling(model, rho0.astype(complex), [10], c)
    np.testing.assert_allclose(got.trace_distance_limit, expected, rtol=1e-7)
    if not coherent:  # the diagonal case: e^{−c} D(ρ_0, τ̄) ([ATO19] eq. (20))
        d0 = 0.5 * np.sum(np.abs(np.diag(rho0) - q_bar))
        np.testing.assert_allclose(got.trace_distance_limit, np.exp(-c) * d0, rtol=1e-13)


# ---- averaged dynamics of other couplings in float32 ------------------------------------------------------


def _exact_unitary(d, beta, g0, theta, g_int, delta):
    """U = exp(−i t_int (H_S + H_r − g_int S)), t_int = θ/g_int, Hamiltonian kind ([ATO-preprint] App. A1), SciPy."""
    from scipy.linalg import expm

    from tests.helpers import numpy_swap

    sz = np.diag(np.arange(d) - (d - 1) / 2)
    h = np.kron(g0 * sz, np.eye(d)) + np.kron(np.eye(d), g0 * (1 + delta) * sz) - g_int * numpy_swap(d)
    return expm(-1j * theta / g_int * h)


def test_averaged_exact_unitary_float32_keeps_its_trace():
    """The averaged collision of ExactUnitary is trace preserving, but its float32 U only to ~ε: Tr ρ̄ drifted
    (2.3·10⁻⁴ after 5000 collisions) and the excess entered every heat through Tr[ρ'_R H_r] (Σ Q̄ 0.134 for
    0.00424; 0.00418 after renormalising, 0.0042380 for 0.0042374 since b198df8). Reference: the averaged map over TwoPoint(0.2) iterated in NumPy float64 (SciPy expm)."""
    d, theta, g_int, n = 2, 0.01, 5.0, 5000
    model = jt.InhomogeneousReservoir(
        d, beta=1.0, g0=1.0, theta=theta, coupling=jt.ExactUnitary(g_int), distribution=jt.TwoPoint(0.2)
    )
    rho0 = np.array([[0.75, 0.125], [0.125, 0.25]])
    units = [_exact_unitary(d, 1.0, 1.0, theta, g_int, x) for x in (-0.2, 0.2)]
    taus = [np.diag(_q(d, 1.0 + x)) for x in (-0.2, 0.2)]
    h_r = [(1 + x) * np.diag(np.arange(d) - (d - 1) / 2) for x in (-0.2, 0.2)]
    rho, heat = rho0.astype(complex), 0.0
    for _ in range(n):
        new = np.zeros_like(rho)
        for u, tau, h in zip(units, taus, h_r):
            x = (u @ np.kron(rho, tau) @ u.conj().T).reshape(d, d, d, d)
            new += 0.5 * np.einsum("ajbj->ab", x)
            heat -= 0.5 * np.trace((np.einsum("jajb->ab", x) - tau) @ h).real
        rho = new
    got = A.averaged_trajectory(model, rho0.astype(np.complex64), n)
    traces = np.trace(np.asarray(got.states), axis1=1, axis2=2)
    assert np.max(np.abs(traces - 1)) < 1e-6
    np.testing.assert_allclose(np.asarray(got.states[-1]), rho, atol=5e-5)
    np.testing.assert_allclose(np.sum(np.asarray(got.heat, float)), heat, rtol=0.1)


# ---- the Gaussian tail of a cold reservoir's small populations ------------------------------------------


def _scipy_tau_bar(d, beta_g0, sigma):
    """q̄_j = ∫ φ(z) q_j(βg0(1 + σz)) dz over the whole line (|z| ≤ 120) by SciPy, split at the turn z = −1/σ
    and at the peak z = −βg0 σ (m_j − m_0) of the integrand φ(z) e^{−βg0 σ z (m_j − m_0)} of a small population."""
    from scipy import integrate

    m = np.arange(d) - (d - 1) / 2
    out = []
    for j in range(d):
        f = lambda z, j=j: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) * _q(d, beta_g0 * (1 + sigma * z))[j]
        inner = sorted({-1 / sigma, -beta_g0 * sigma * (m[j] - m[0]), 0.0})
        ends = [-120.0] + [x for x in inner if -120 < x < 120] + [120.0]
        out.append(sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-13, limit=400)[0] for a, b in zip(ends, ends[1:])))
    return np.array(out)


@pytest.mark.parametrize("d, beta_g0, sigma", [(2, 100.0, 0.1), (3, 50.0, 0.1), (4, 30.0, 0.1), (2, -100.0, 0.1)])
def test_cold_tau_bar_small_populations_from_the_gaussian_tail(d, beta_g0, sigma):
    """q̄_j of a level a cold reservoir leaves nearly empty comes from G's tail, z ≈ −βg0 σ (m_j − m_0) or the
    turn at −1/σ, beyond the rule's 9σ: qubit βg0 = 100, σ = 0.1 had q̄_1 = 3.1·10⁻²³ for 9.6·10⁻²³ (the
    effective β̄g0 = log(q̄_0/q̄_1) 51.8 for 50.7), d = 3, βg0 = 50: q̄_2 65 % low, d = 4, βg0 = 30: q̄_3 35 %."""
    with pytest.warns(UserWarning) if beta_g0 < 0 else _no_warning():
        model = jt.InhomogeneousReservoir(d, beta=beta_g0, g0=1.0, theta=0.3, distribution=jt.Gaussian(sigma))
    got = np.asarray(A.averaged_reservoir_populations(model))
    np.testing.assert_allclose(got, _scipy_tau_bar(d, beta_g0, sigma), rtol=1e-12)


def _no_warning():
    import contextlib

    return contextlib.nullcontext()


def test_cold_tau_bar_sigma_derivative():
    """d q̄_1/dσ of the cold qubit (βg0 = 100, σ = 0.1) against central differences of SciPy's q̄_1: the
    extended rule's placement carries no derivative."""
    import jax

    grad = jax.grad(
        lambda s: A.averaged_reservoir_populations(
            jt.InhomogeneousReservoir(2, beta=100.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(s))
        )[1]
    )(0.1)
    h = 1e-6  # q̄_1 varies on the scale 1/(βg0² σ) = 10⁻³ in σ
    fd = (_scipy_tau_bar(2, 100.0, 0.1 + h)[1] - _scipy_tau_bar(2, 100.0, 0.1 - h)[1]) / (2 * h)
    np.testing.assert_allclose(float(grad), fd, rtol=1e-6)


# ---- a law passed as distribution= gets the model's checks -----------------------------------------------


def test_distribution_argument_is_checked_as_in_the_model():
    """β = 10³⁰⁰ with Gaussian(10¹⁰) is refused by the constructor (βg0(1 + 9σ) overflows); passed as
    distribution= it gave τ̄ = (½, ½) and W̄ = NaN without a word. The temperature kind with Uniform(3)
    (β_r = β(1 + δ) < 0 for δ < −1) warns in the model and did not as an argument."""
    hot = jt.InhomogeneousReservoir(2, beta=1e300, g0=1.0, theta=0.3)
    with pytest.raises(ValueError, match="beta=1e"):
        jt.InhomogeneousReservoir(2, beta=1e300, g0=1.0, theta=0.3, distribution=jt.Gaussian(1e10))
    for call in (
        lambda: A.averaged_reservoir_populations(hot, jt.Gaussian(1e10)),
        lambda: A.mean_work(hot, np.eye(2) / 2, jt.Gaussian(1e10)),
    ):
        with pytest.raises(ValueError, match="beta=1e"):
            call()
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, kind="temperature")
    with pytest.warns(UserWarning, match="temperature"):
        q_bar = A.averaged_reservoir_populations(model, jt.Uniform(3.0))
    # the law is still computed as it is: τ̄ = (1/3) ∫_{−1.5}^{1.5} τ(δ) dδ, q_1 = 1/(1 + e^{y}), y = 1 + δ,
    # ∫ dy/(1 + e^{y}) = y − log(1 + e^{y})
    y0, y1 = -0.5, 2.5
    q1 = ((y1 - np.log1p(np.exp(y1))) - (y0 - np.log1p(np.exp(y0)))) / 3.0
    np.testing.assert_allclose(np.asarray(q_bar), [1 - q1, q1], rtol=1e-13)
