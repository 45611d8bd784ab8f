"""float32 outside the ensemble engine (helper-57): results keep the precision of the inputs and are
accurate to the float32 rounding of the quantity itself, against independent references."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit

import jaxthermo as jt
from jaxthermo import inhomogeneous as A


def _mean_work_reference(beta, g0, sigma, theta):
    """W̄ of a qubit, Hamiltonian kind, Gaussian σ: W(δ) = g0 δ sin²θ (p_1 − q_1(δ)) (docs/inhomogeneous.md §2),
    so W̄ = −g0 sin²θ ∫ G(δ) δ q_1(δ) dδ (E[δ] = 0), q_1(δ) = 1/(1 + e^{βg0(1+δ)}), by SciPy's adaptive
    quadrature split where q_1 turns over (δ = −1) and at 0."""
    density = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    q1 = lambda x: expit(-beta * g0 * (1.0 + x))
    width = 40.0 / (beta * g0)
    points = sorted({-60 * sigma, -1 - width, -1.0, -1 + width, 0.0, 60 * sigma})
    points = [x for x in points if -60 * sigma <= x <= 60 * sigma]
    total = sum(
        quad(lambda x: density(x) * x * q1(x), a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
        for a, b in zip(points[:-1], points[1:])
    )
    return -g0 * np.sin(theta) ** 2 * total


@pytest.mark.parametrize(("beta", "sigma"), [(20.0, 0.1), (40.0, 0.1), (60.0, 0.2), (20.0, 0.05)])
def test_mean_work_float32_cold_reservoir_relative(beta, sigma):
    """A cold reservoir's mean work is tiny (4.4e-16 at βg0 = 40, σ = 0.1): it came from E[g_r q] − g0 q̄,
    which cancelled to ε·q̄ (float32 1.3e-9 for 4.4e-16, 1.0e-8 for 2.7e-10 at βg0 = 20), and E[δ] of the
    rule (ε σ) added a ρ-dependent part. Now accurate relative to itself, in float32 and float64, and the
    same for every ρ (centred law, [ATO19] eq. (17))."""
    theta = float(np.float32(0.3))
    sigma = float(np.float32(sigma))
    expected = _mean_work_reference(beta, 1.0, sigma, theta)
    for dt, cdt, rtol in ((np.float32, np.complex64, 2e-5), (np.float64, np.complex128, 1e-5)):
        model = A.InhomogeneousReservoir(
            2, beta=dt(beta), g0=dt(1.0), theta=dt(theta), distribution=A.Gaussian(dt(sigma))
        )
        works = [A.mean_work(model, np.diag(p).astype(cdt)) for p in ([0.75, 0.25], [0.25, 0.75], [1.0, 0.0])]
        for w in works:
            assert w.dtype == dt
            np.testing.assert_allclose(float(w), expected, rtol=rtol)
        traj = A.averaged_trajectory(model, np.diag([0.5, 0.5]).astype(cdt), 5)
        assert traj.work.dtype == dt
        np.testing.assert_allclose(np.asarray(traj.work, float), expected, rtol=rtol)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_mean_work_temperature_kind_is_zero(dt):
    """The temperature kind generates no work (g_r = g0): W̄ is exactly 0 (float32 gave ±2.6e-9, 5.2e-9 for
    d = 3, and accumulated_mean_work −1.4e-7), and Q̄ = ΔŪ."""
    cdt = jnp.complex64 if dt == np.float32 else jnp.complex128
    for d, p in ((2, [0.75, 0.25]), (3, [0.5, 0.25, 0.25])):
        model = A.InhomogeneousReservoir(
            d, beta=dt(1.0), g0=dt(1.0), theta=dt(0.3), kind="temperature", distribution=A.Gaussian(dt(0.2))
        )
        rho = np.diag(p).astype(cdt)
        step = A.mean_collision(model, rho)
        assert float(step.work) == 0.0
        assert float(step.heat) == float(step.energy_change)
        assert float(A.accumulated_mean_work(model, rho, 20)) == 0.0


def test_small_delta_mean_work_temperature_kind_keeps_float32():
    """small_delta_mean_work of the temperature kind (0) came back float64 for a float32 model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = A.InhomogeneousReservoir(
            2, beta=np.float32(1.0), g0=np.float32(1.0), theta=np.float32(0.3), kind="temperature"
        )
    out = A.small_delta_mean_work(model, np.float32(0.04))
    assert out.dtype == np.float32 and float(out) == 0.0
    hamiltonian = model.replace(kind="hamiltonian")
    assert A.small_delta_mean_work(hamiltonian, np.float32(0.04)).dtype == np.float32
    assert jt is not None


def _swap_reference(rho, qs, theta):
    """The partial swap in float64 as the 4×4 unitary U = cos θ 1 + i sin θ S on ρ ⊗ diag(q), traced over
    the reservoir qubit (docs/conventions.md), for every q of the sequence: the reference trajectory."""
    swap = np.zeros((4, 4))
    for a in range(2):
        for b in range(2):
            swap[b * 2 + a, a * 2 + b] = 1.0
    u = np.cos(theta) * np.eye(4) + 1j * np.sin(theta) * swap
    out = [rho]
    for q in qs:
        x = u @ np.kron(out[-1], np.diag(q)) @ u.conj().T
        out.append(np.einsum("ajbj->ab", x.reshape(2, 2, 2, 2)))
    return np.array(out)


def test_float32_trajectory_small_angle_keeps_the_trace():
    """fl(cos²θ) + fl(sin²θ) ≠ 1 in float32 pulled a long trajectory's trace to 1 + O(ε/sin²θ): θ = 0.003,
    10⁴ collisions gave Tr ρ − 1 = 8.4·10⁻⁴ (10⁵: 4.4·10⁻³, and the summed heat 12 % off). Against the full
    4×4 unitary in float64 on the same (float32) δ's."""
    n, theta = 10_000, float(np.float32(0.003))
    deltas = (0.2 * np.random.default_rng(3).standard_normal(n)).astype(np.float32)
    model = A.InhomogeneousReservoir(2, beta=np.float32(1.0), g0=np.float32(1.0), theta=np.float32(theta))
    rho0 = np.array([[0.75, 0.125], [0.125, 0.25]])
    traj = A.trajectory(model, rho0.astype(np.complex64), deltas)
    assert traj.states.dtype == np.complex64 and traj.heat.dtype == np.float32
    states = np.asarray(traj.states, np.complex128)
    qs = np.asarray(jt.thermal_populations(2, 1.0, 1.0 + deltas.astype(np.float64)))
    reference = _swap_reference(rho0, qs, theta)
    assert np.max(np.abs(np.trace(states, axis1=1, axis2=2) - 1)) < 1e-5
    assert np.max(np.abs(states - reference)) < 1e-5
    # heat into the system: the energy the reservoir qubit gives up, g_r (q_1 − p_1') summed (first law of §8)
    heat = np.sum((1.0 + deltas) * np.real(reference[1:, 1, 1] - reference[:-1, 1, 1]))
    np.testing.assert_allclose(np.sum(np.asarray(traj.heat, np.float64)), heat, rtol=1e-3)


@pytest.mark.parametrize("theta", [0.01, 0.003])
def test_float32_averaged_trajectory_relaxes_to_tau_bar(theta):
    """ρ̄_N = τ̄ − (τ̄ − ρ_0) cos^{2N}θ ([ATO-preprint] eq. (10)): iterated in float32 as ρ̄ ← cos²θ ρ̄ + sin²θ τ̄, the
    trace went to 1.0083 at θ = 0.003 after 3·10⁵ collisions (populations 0.7367 for 0.7307), θ = 0.01 to
    1 − 5.5·10⁻⁴. Now within 1e-6 of the closed form (with the float32 τ̄)."""
    n = int(3.0 / np.sin(theta) ** 2)
    model = A.InhomogeneousReservoir(
        2, beta=np.float32(1.0), g0=np.float32(1.0), theta=np.float32(theta), distribution=A.Gaussian(np.float32(0.2))
    )
    rho0 = np.array([[0.75, 0.125], [0.125, 0.25]])
    traj = A.averaged_trajectory(model, rho0.astype(np.complex64), n)
    assert traj.states.dtype == np.complex64
    tau_bar = np.diag(np.asarray(A.averaged_reservoir_populations(model), np.float64))
    c2 = np.cos(np.float64(np.float32(theta))) ** 2
    expected = tau_bar + (rho0 - tau_bar) * c2**n  # its diagonal; the coherence below
    final = np.asarray(traj.states[-1], np.complex128)
    assert abs(np.trace(final) - 1) < 1e-6
    np.testing.assert_allclose(np.real(np.diag(final)), np.diag(expected), atol=1e-6)
    # the coherence: |ρ̄_01| = |ρ_01| |cos θ|^{2N} |1 + i tanθ (q̄_0 − q̄_1)|^N
    k = np.sqrt(c2) * np.sqrt(1 - c2) * (tau_bar[0, 0] - tau_bar[1, 1])
    np.testing.assert_allclose(abs(final[0, 1]), 0.125 * abs(c2 + 1j * k) ** n, rtol=1e-3, atol=1e-9)


def test_float32_stroboscopic_trajectory_summed_heat():
    """Model B in float32: U = e^{−iτH_SA} is unitary to ~ε only, so Tr ρ_S drifted by ~ε per collision and the error
    entered every later heat (τ = 10⁻³: 5000 collisions gave Σ Q = −0.013 for +0.021; 2·10⁴ collisions were off by
    0.3 for 0.023). Reference: the same collisions in float64 with SciPy's expm, ρ_A = e^{−βH_A}/Z + √τ λ χ
    ([WCCM] eqs. (1), (4), (5)), Q = −Tr[H_A(ρ_A' − ρ_A)]."""
    from scipy.linalg import expm

    tau, lam, beta, n = float(np.float32(1e-3)), float(np.float32(0.1)), 1.0, 5000
    model = jt.qubit_example(beta=beta, lam=lam, tau=tau, dtype=jnp.float32)
    rho0 = np.array([[0.75, 0.125], [0.125, 0.25]])
    traj = jt.stroboscopic_trajectory(model, rho0.astype(np.complex64), n)
    assert traj.states.dtype == np.complex64 and traj.heat.dtype == np.float32

    h = np.diag([-0.5, 0.5])
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    v = np.kron(sm, sm.T) + np.kron(sm.T, sm)  # g(σ₊σ₋ + σ₋σ₊) between S and A, g = 1
    u = expm(-1j * (tau * (np.kron(h, np.eye(2)) + np.kron(np.eye(2), h)) + np.sqrt(tau) * v))
    w = np.exp(-beta * np.diag(h))
    rho_a = np.diag(w / w.sum()) + np.sqrt(tau) * lam * np.array([[0.0, 1.0], [1.0, 0.0]])
    rho, heats = rho0.astype(complex), []
    for _ in range(n):
        x = (u @ np.kron(rho, rho_a) @ u.conj().T).reshape(2, 2, 2, 2)
        rho, ancilla = np.einsum("ajbj->ab", x), np.einsum("jajb->ab", x)
        heats.append(-np.real(np.trace(h @ (ancilla - rho_a))))
    states = np.asarray(traj.states, np.complex128)
    assert np.max(np.abs(np.trace(states, axis1=1, axis2=2) - 1)) < 1e-6
    np.testing.assert_allclose(states[-1], rho, atol=1e-4)
    np.testing.assert_allclose(np.sum(np.asarray(traj.heat, np.float64)), np.sum(heats), rtol=2e-2)


def test_free_energies_keep_the_precision_of_the_state():
    """free_energy of float32 populations and quantum_free_energy of a complex64 state with a Python-float β came
    back float64. F_1 = ⟨H⟩ − S/β (docs/information.md §3), here by hand: H = g s_z, p = (0.75, 0.25)."""
    p = np.array([0.75, 0.25])
    beta, g = 1.3, 0.7
    energies = g * np.array([-0.5, 0.5])
    expected = p @ energies + np.sum(p * np.log(p)) / beta
    f = jt.free_energy(p.astype(np.float32), beta, g, 1.0)
    q = jt.quantum_free_energy(np.diag(p).astype(np.complex64), beta, g, 1.0)
    assert f.dtype == np.float32 and q.dtype == np.float32
    np.testing.assert_allclose([float(f), float(q)], expected, rtol=1e-6)
    assert jt.free_energy(p, np.float32(beta), g, 1.0).dtype == np.float64


def test_float32_exact_unitary_trajectory_keeps_the_trace():
    """A coupling other than the partial swap goes through U on S ⊗ R, unitary to ~ε only in float32: Tr ρ drifted by
    ~ε per collision and every later heat took the error (ExactUnitary, θ = 0.01, 2·10⁴ collisions: Tr ρ − 1 =
    7.7·10⁻⁵, Σ Q off by 0.18 for 0.0022). Reference: U = exp(−i t (H_S + H_r + H_int)), t = θ/g_int, H_int = −g_int S
    (docs/inhomogeneous.md §11) by SciPy's expm in float64."""
    from scipy.linalg import expm

    n, theta, g_int = 3000, float(np.float32(0.01)), 5.0
    deltas = (0.2 * np.random.default_rng(5).standard_normal(n)).astype(np.float32)
    model = A.InhomogeneousReservoir(
        2, beta=np.float32(1.0), g0=np.float32(1.0), theta=np.float32(theta), coupling=A.ExactUnitary(np.float32(g_int))
    )
    rho0 = np.array([[0.75, 0.125], [0.125, 0.25]])
    traj = A.trajectory(model, rho0.astype(np.complex64), deltas)
    assert traj.states.dtype == np.complex64 and traj.heat.dtype == np.float32
    sz = np.diag([-0.5, 0.5])
    swap = np.eye(4)[[0, 2, 1, 3]]
    rho, heat = rho0.astype(complex), 0.0
    for delta in deltas.astype(np.float64):
        g_r = 1.0 + delta
        q = np.diag(np.exp(-g_r * np.diag(sz)) / np.sum(np.exp(-g_r * np.diag(sz))))
        h = np.kron(sz, np.eye(2)) + g_r * np.kron(np.eye(2), sz) - g_int * swap
        u = expm(-1j * (theta / g_int) * h)
        x = (u @ np.kron(rho, q) @ u.conj().T).reshape(2, 2, 2, 2)
        rho, res = np.einsum("ajbj->ab", x), np.einsum("jajb->ab", x)
        heat -= g_r * np.real(np.trace(sz @ (res - q)))
    states = np.asarray(traj.states, np.complex128)
    assert np.max(np.abs(np.trace(states, axis1=1, axis2=2) - 1)) < 1e-6
    np.testing.assert_allclose(states[-1], rho, atol=2e-5)
    np.testing.assert_allclose(np.sum(np.asarray(traj.heat, np.float64)), heat, rtol=0.1)


@pytest.mark.parametrize("beta_g", [60.0, 80.0])
def test_float32_cold_divergences_from_log_ratios(beta_g):
    """log(p/q) as log p − log q carried the rounding of each logarithm, |log p|·ε: a float32 qubit at βg = 80 with
    p_1 = 1.1 q_1 had D_1 8·10⁻⁵ and D_∞ 4·10⁻⁵ off (relative). Reference from the same float32 numbers in float64:
    D_∞ = log(p_1/q_1), D_1 = Σ_j [p_j log(p_j/q_j) − p_j + q_j] = q_1 χ(log p_1/q_1), χ(ℓ) = ℓe^ℓ − e^ℓ + 1
    (docs/information.md §2; p_0 = q_0 = 1 in float32)."""
    q = np.asarray(jt.thermal_populations(2, np.float32(beta_g), np.float32(1.0)))
    p = np.array([1.0, 1.1 * q[1]], np.float32)
    ell = np.log(np.float64(p[1]) / np.float64(q[1]))
    d_one = np.float64(q[1]) * (ell * np.exp(ell) - np.exp(ell) + 1.0)
    out = [jt.renyi_divergence(p, q, a) for a in (1.0, np.inf)]
    assert all(x.dtype == np.float32 for x in out)
    np.testing.assert_allclose([float(x) for x in out], [d_one, ell], rtol=2e-6)
    # to the thermal state itself, through its log-populations
    t1 = np.exp(-beta_g) / (1.0 + np.exp(-beta_g))
    ell_t = np.log(np.float64(p[1]) / t1)
    expected = [t1 * (ell_t * np.exp(ell_t) - np.exp(ell_t) + 1.0), ell_t]
    for quantum in (False, True):
        got = jt.divergences_to_thermal(np.diag(p).astype(np.complex64), 1.0, beta_g, [1.0, np.inf], quantum=quantum)
        assert got.dtype == np.float32
        np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=2e-6)
