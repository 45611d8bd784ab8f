"""Helper-51 (session 21): relative accuracy of small divergences and entropy productions of model A.

References are independent of the library: the definitions evaluated in 250-digit ``decimal`` arithmetic
(qubits: eigenvalues in closed form), the states' entries taken exactly as the floats passed.
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._information import log_thermal_populations, quantum_divergence_to_diagonal

getcontext().prec = 250


def _xlogx(x):
    return x * x.ln() if x > 0 else Decimal(0)


def _decimal_umegaki_to_thermal(rho, beta, g):
    """S(ρ‖τ) = −S(ρ) − Σ_j ρ_jj log t_j − Tr ρ + Tr τ of a 2×2 ρ against τ = diag(e^{log t}), log t the float
    log-populations of the thermal state of g s_z at β that the library uses (rounded in their last bit, which moves
    D by ~ε² t_j: as much as D itself for c = 1e-9), in decimals: the relative entropy Tr ρ(log ρ − log τ) − Tr ρ +
    Tr τ, ≥ 0 also for float entries, whose trace is 1 only to rounding (≲ 1e-16, which the value 4e-17 at βg = 40
    would not resolve otherwise)."""
    p0, p1 = Decimal(float(rho[0, 0].real)), Decimal(float(rho[1, 1].real))
    o = Decimal(float(rho[0, 1].real)) ** 2 + Decimal(float(rho[0, 1].imag)) ** 2
    z = p0 - p1
    r = (z * z + 4 * o).sqrt()
    lam_plus = (p0 + p1 + r) / 2
    lam_minus = (p0 * p1 - o) / lam_plus
    log_t = [Decimal(float(x)) for x in np.asarray(log_thermal_populations(2, beta, g))]
    trace_tau = sum(x.exp() for x in log_t)
    return _xlogx(lam_plus) + _xlogx(lam_minus) - p0 * log_t[0] - p1 * log_t[1] - (p0 + p1) + trace_tau


def _cold_coherent(beta_g, c):
    """ρ with the thermal populations at βg and the coherence c√(p0 p1) (real)."""
    a = Decimal(-beta_g).exp()
    p0, p1 = 1 / (1 + a), a / (1 + a)
    off = c * float((p0 * p1).sqrt())
    return np.array([[float(p0), off], [off, float(p1)]], dtype=complex)


@pytest.mark.parametrize("beta_g", [5.0, 20.0, 40.0, 60.0, 300.0])
@pytest.mark.parametrize("c", [0.5, 1e-3, 1e-9])
def test_umegaki_of_cold_coherent_qubit_is_relatively_accurate(beta_g, c):
    """D_1(ρ‖τ_S) of a coherent qubit with thermal populations (the coherence part only, ~c² βg e^{−βg}) to 1e-13
    relative: −S(ρ) − Σ ρ_jj log t_j from the spectrum came out 2.5 % low at βg = 40 (4.157e-17 for 4.263e-17),
    0.15 % at βg = 20, c = 1e-3; through model A's divergences_to_thermal(quantum=True) and free energies."""
    rho = _cold_coherent(beta_g, c)
    expected = float(_decimal_umegaki_to_thermal(rho, beta_g, 1.0))
    model = jt.InhomogeneousReservoir(2, beta=beta_g, g0=1.0, theta=0.3)
    got = float(jt.inhomogeneous.divergences_to_thermal(model, rho, [1.0], quantum=True)[0])
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    log_t = log_thermal_populations(2, beta_g, 1.0)
    np.testing.assert_allclose(float(quantum_divergence_to_diagonal(rho, log_t, 1.0)), expected, rtol=1e-13)


def test_umegaki_to_thermal_of_random_qubits_matches_decimals():
    """Random qubit states (mixed, pure, diagonal, complex coherences) at βg from −3 to 3: D_1 to 1e-12 relative
    (the closed form replaces the spectrum for every qubit, so it must hold everywhere), and never negative."""
    rng = np.random.default_rng(51)
    for i in range(40):
        a = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
        rho = np.outer(a[:, 0], a[:, 0].conj()) if i % 4 == 0 else a @ a.conj().T
        if i % 5 == 0:
            rho = np.diag(np.diag(rho))
        rho = rho / np.trace(rho).real
        beta = rng.uniform(-3, 3)
        got = float(quantum_divergence_to_diagonal(rho, log_thermal_populations(2, beta, 1.0), 1.0))
        expected = float(_decimal_umegaki_to_thermal(rho, beta, 1.0))
        assert got >= 0
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=f"state {i}")


def _decimal_sin_cos(x):
    x = Decimal(float(x))
    s, c, ts, tc, n = x, Decimal(1), x, Decimal(1), 1
    while abs(ts) > Decimal(10) ** -240 or abs(tc) > Decimal(10) ** -240:
        ts *= -x * x / ((n + 1) * (n + 2))
        tc *= -x * x / (n * (n + 1))
        s, c, n = s + ts, c + tc, n + 2
    return s, c


def _decimal_entropy_production(d, beta, theta, delta, p):
    """ΔS = S(p') − S(p) + Σ_k (q_k − r'_k) log q_k (p' = c²p + s²q, r' = c²q + s²p: the partial swap on diagonal
    states) for the normalised p and q = τ(δ) of the Hamiltonian kind (g0 = 1), in 250-digit decimals."""
    bg = Decimal(float(beta)) * (1 + Decimal(float(delta)))
    logw = [-bg * (Decimal(j) - Decimal(d - 1) / 2) for j in range(d)]
    top = max(logw)
    log_z = top + sum((w - top).exp() for w in logw).ln()
    log_q = [w - log_z for w in logw]
    q = [w.exp() for w in log_q]
    s, c = _decimal_sin_cos(theta)
    p = [Decimal(float(x)) for x in p]
    total = sum(p)
    p = [x / total for x in p]
    p_new = [c * c * a + s * s * b for a, b in zip(p, q)]
    r_new = [c * c * b + s * s * a for a, b in zip(p, q)]
    return (
        sum(_xlogx(x) for x in p)
        - sum(_xlogx(x) for x in p_new)
        + sum((b - r) * lq for b, r, lq in zip(q, r_new, log_q))
    )


@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("beta", [0.1, 1.0, 40.0])
@pytest.mark.parametrize("theta", [1e-8, 1e-4, 0.3, np.pi / 2])
def test_entropy_production_of_diagonal_states_is_relatively_accurate(d, beta, theta):
    """ΔS ∝ sin²θ of the partial swap on diagonal ρ (a mixed state, the ground state) with δ = 0.1, −1.5 (inverted),
    0: 1e-12 relative to the definition in decimals. The difference of entropies was off by ε/θ²: at θ = 1e-4 by
    1e-8 relative, at θ = 1e-8 (ΔS ~ 1e-17) negative or 0 — documented as never negative; at βg = 40 a qudit's
    q_0 − p_0 lost the e^{−40} populations (20 % low); never below 0."""
    model = jt.InhomogeneousReservoir(d, beta=beta, g0=1.0, theta=theta)
    mixed = np.linspace(1.0, 2.0, d) / np.sum(np.linspace(1.0, 2.0, d))
    ground = np.eye(d)[0]
    for p in (mixed, ground):
        for delta in (0.1, -1.5, 0.0):
            got = float(jt.inhomogeneous.entropy_production(model, np.diag(p).astype(complex), delta))
            expected = float(_decimal_entropy_production(d, beta, theta, delta, p))
            assert got >= 0
            np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"p={p}, delta={delta}")


def test_entropy_production_gradients_and_batches():
    """d/dθ, d/dβ of ΔS of a diagonal qutrit at θ = 1e-3 (ΔS ≈ θ² Σ...) against central differences in decimals
    (relative 1e-7), and vmap over δ equal to the single calls."""
    import jax

    p = np.array([0.5, 0.3, 0.2])
    rho = np.diag(p).astype(complex)

    def f(theta, beta):
        return jt.inhomogeneous.entropy_production(
            jt.InhomogeneousReservoir(3, beta=beta, g0=1.0, theta=theta), rho, 0.2
        )

    theta, beta, h = 1e-3, 1.3, 1e-7
    d_theta, d_beta = jax.grad(f, argnums=(0, 1))(theta, beta)

    def ref(t, b):
        return _decimal_entropy_production(3, b, t, 0.2, p)

    fd_theta = (ref(theta + h, beta) - ref(theta - h, beta)) / (2 * Decimal(h))
    fd_beta = (ref(theta, beta + 1e-6) - ref(theta, beta - 1e-6)) / (2 * Decimal(1e-6))
    np.testing.assert_allclose(float(d_theta), float(fd_theta), rtol=1e-7)
    np.testing.assert_allclose(float(d_beta), float(fd_beta), rtol=1e-7)
    model = jt.InhomogeneousReservoir(3, beta=beta, g0=1.0, theta=theta)
    deltas = np.array([0.2, -0.3, 0.0])
    batch = jax.vmap(lambda dl: jt.inhomogeneous.entropy_production(model, rho, dl))(deltas)
    single = [float(jt.inhomogeneous.entropy_production(model, rho, dl)) for dl in deltas]
    np.testing.assert_allclose(np.asarray(batch), single, rtol=1e-14)


def test_entropy_production_of_coherent_states_is_never_negative():
    """Coherent ρ (generic route, accurate to ~ε absolutely): at θ = 1e-9 near τ(δ) the difference of entropies came
    out −1e-16; rounding below 0 is now 0, and the value at θ = 0.3 is unchanged (against the
    decimal definition is out of reach here: compared with θ = 0.3 of the old route, the same expression)."""
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=1e-9)
    log_t = np.asarray(log_thermal_populations(2, 1.0, 1.0))
    rho = np.diag(np.exp(log_t)).astype(complex)
    rho[0, 1] = rho[1, 0] = 1e-3
    values = [float(jt.inhomogeneous.entropy_production(model, rho, dl)) for dl in np.linspace(-0.01, 0.01, 21)]
    assert min(values) >= 0


@pytest.mark.parametrize("theta", [1e-3, np.pi / 2])
def test_entropy_production_gradient_of_ground_state_with_cold_reservoir(theta):
    """Ground state of a qutrit against τ(δ) at βg_r = 330 (populations e^{−330}, e^{−660}): d/dβ against central
    differences of the decimal definition (the formula's quotients divide only above √tiny; 1/p'² underflowing
    made 0/0 = NaN)."""
    import jax

    rho = np.diag([1.0, 0.0, 0.0]).astype(complex)

    def f(beta):
        return jt.inhomogeneous.entropy_production(
            jt.InhomogeneousReservoir(3, beta=beta, g0=1.0, theta=theta), rho, 0.1
        )

    beta, h = 300.0, 1e-5
    got = float(jax.grad(f)(beta))
    ref = [_decimal_entropy_production(3, b, theta, 0.1, [1.0, 0.0, 0.0]) for b in (beta + h, beta - h)]
    expected = float((ref[0] - ref[1]) / (2 * Decimal(h)))
    np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_one_collision_functions_refuse_a_theta_schedule():
    """entropy_production and collision_second_laws are one collision: a θ schedule in the model (N,) is refused
    with a ValueError naming theta, as collision_step does. With d = N = 2 the schedule broadcast against the
    populations (ΔS 0.00308 twice for 0.00104 and 0.00405), and collision_second_laws failed on 'unit trace'."""
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=np.array([0.1, 0.2]))
    rho = np.diag([0.6, 0.4]).astype(complex)
    with pytest.raises(ValueError, match="theta"):
        jt.inhomogeneous.entropy_production(model, rho, 0.1)
    with pytest.raises(ValueError, match="theta"):
        jt.inhomogeneous.collision_second_laws(model, rho, 0.1, [1.0])


def test_heat_density_where_the_quadratic_term_vanishes():
    """Hamiltonian kind: A = −(q0' + q0''/2) of the heat vanishes at βg0 tanh(βg0/2) = 2 (βg0 = 2.39935728…); there
    (−b ± √D)/2a lost the near root's digits: G_Q 8.65 for 8.81 and 6.45 for 6.05 at A = 2e-15. Against the textbook
    roots in 250-digit decimals from the same (A, B, C); at A = 0 exactly the linear density G((y − C)/B)/|B|."""
    from jaxthermo.inhomogeneous._statistics import Quadratic, quadratic_density

    sigma = 0.1
    dist = jt.Gaussian(sigma)
    rho = np.diag([0.7, 0.3]).astype(complex)
    x0 = 2.3993572805154866
    model = jt.InhomogeneousReservoir(2, beta=x0, g0=1.0, theta=0.3, distribution=dist)
    a, b, c = (float(v) for v in jt.inhomogeneous.quadratic_coefficients(model, rho, "heat"))
    assert a != 0 and abs(a) < 1e-12
    ys = [c + 0.05 * b, c - 0.1 * b, c + 0.2 * b]
    got = np.asarray(jt.inhomogeneous.heat_density(model, rho, np.array(ys)))

    def gauss(x):
        return (-(x * x) / (2 * Decimal(sigma) ** 2)).exp() / (2 * Decimal(np.pi) * Decimal(sigma) ** 2).sqrt()

    da, db, dc = Decimal(a), Decimal(b), Decimal(c)
    for y, g in zip(ys, got):
        root = (db * db + 4 * da * (Decimal(y) - dc)).sqrt()
        expected = (gauss((-db + root) / (2 * da)) + gauss((-db - root) / (2 * da))) / root
        np.testing.assert_allclose(g, float(expected), rtol=1e-12)
    linear = np.asarray(quadratic_density(Quadratic(0.0, b, c), dist.pdf, np.array(ys)))
    expected = [float(gauss((Decimal(y) - dc) / db) / abs(db)) for y in ys]
    np.testing.assert_allclose(linear, expected, rtol=1e-12)
