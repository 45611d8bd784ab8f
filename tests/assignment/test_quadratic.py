"""Two quadratic reservoirs in the single-particle picture ([CVS25]) against the many-body Fock-space
construction (Jordan–Wigner fermions, truncated bosons), SciPy propagation and closed forms."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from jaxthermo import GlobalModel, QuadraticReservoirs, energy_assignment, minimal_dissipation
from jaxthermo.assignment._propagator import spectral_decomposition
from jaxthermo.assignment._quadratic import eigenbasis_data, step, step_reference
from tests.assignment import fock
from tests.helpers import random_hermitian


def _hermitian(n, rng, scale=1.0, shift=0.0):
    return scale * random_hermitian(n, rng) + shift * np.eye(n)


def _random_model(rng, n1, n2, statistics="fermion", coupling=0.3):
    shift = 3.0 if statistics == "boson" else 0.0
    return QuadraticReservoirs(
        _hermitian(n1, rng, 0.5, shift + 1.0),
        _hermitian(n2, rng, 0.5, shift + 0.6),
        coupling * (rng.normal(size=(n1, n2)) + 1j * rng.normal(size=(n1, n2))),
        beta1=0.8,
        beta2=1.7,
        mu1=0.3 if statistics == "fermion" else 0.0,
        mu2=-0.2 if statistics == "fermion" else 0.5,
        statistics=statistics,
    )


@pytest.mark.parametrize("statistics", ["fermion", "boson"])
def test_fast_path_equals_reference_path(statistics):
    rng = np.random.default_rng(0)
    model = _random_model(rng, 3, 4, statistics)
    m, r0 = model.single_particle_matrix(), model.initial_correlations()
    r0_dot = -1j * (m @ r0 - r0 @ m)
    w, v = spectral_decomposition(m)
    eig = eigenbasis_data(m, r0, r0_dot, v, 3)
    for t in (0.0, 0.7, 3.1):
        fast = step(m, r0, r0_dot, w, v, eig, 3, t)
        ref = step_reference(m, r0, r0_dot, w, v, 3, t)
        for a, b in zip(fast, ref):
            np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("statistics", ["fermion", "boson"])
def test_correlations_and_energies_against_scipy(statistics):
    rng = np.random.default_rng(1)
    model = _random_model(rng, 2, 3, statistics)
    times = np.linspace(0, 5, 11)
    out = model.energetics(times)
    m = np.asarray(model.single_particle_matrix())
    # thermal correlations from the occupation function applied to the eigenvalues (NumPy)
    blocks = []
    for h, beta, mu in ((model.h1, 0.8, model.mu1), (model.h2, 1.7, model.mu2)):
        e, vv = np.linalg.eigh(np.asarray(h))
        x = beta * (e - mu)
        occ = 1 / (np.exp(x) + 1) if statistics == "fermion" else 1 / (np.exp(x) - 1)
        blocks.append(vv @ np.diag(occ) @ vv.conj().T)
    r0 = np.zeros((5, 5), complex)
    r0[:2, :2], r0[2:, 2:] = blocks
    np.testing.assert_allclose(model.initial_correlations(), r0, atol=1e-13)
    for j, t in enumerate(times):
        u = expm(-1j * m * t)
        r = u @ r0 @ u.conj().T
        u_s = np.trace(m[:2, :2] @ r[:2, :2]).real
        u_i = (np.trace(m[:2, 2:] @ r[2:, :2]) + np.trace(m[2:, :2] @ r[:2, 2:])).real
        u_e = np.trace(m[2:, 2:] @ r[2:, 2:]).real
        np.testing.assert_allclose(out.energies[:, j], [u_s, u_i, u_e], atol=1e-12)
    np.testing.assert_allclose(out.bare.heat, out.interaction.heat, atol=0)
    for a in (out.bare, out.interaction, out.minimal_dissipation):
        np.testing.assert_allclose(a.energy - a.energy[0], a.heat + a.work, atol=1e-12)
        np.testing.assert_allclose(a.energy_change, a.heat + a.work, atol=1e-12)
    np.testing.assert_allclose(out.minimal_dissipation.energy[0], out.energies[0, 0], atol=1e-12)  # K_S(0) = H_1


@pytest.mark.parametrize("n1, n2", [(2, 2), (3, 2)])
def test_single_particle_minimal_dissipation_equals_fock_space(n1, n2):
    """Fermions, thermal baths with chemical potentials: many-body K_S (canonical form of the exact
    generator on the full 2^{N1} Fock space of reservoir 1) equals Σ k_ij a_i†a_j up to a multiple of
    the identity; Q^md, the bare and the interaction energetics agree exactly."""
    rng = np.random.default_rng(10 * n1 + n2)
    model = _random_model(rng, n1, n2, "fermion")
    h1, h2, g = (np.asarray(x) for x in (model.h1, model.h2, model.coupling))
    h_s, h_i, h_e, sys_ops, env_ops = fock.fermionic_global_model(h1, h2, g)
    rho_s = fock.gibbs(h_s, fock.quadratic(np.eye(n1), sys_ops), 0.8, 0.3)
    rho_e = fock.gibbs(h_e, fock.quadratic(np.eye(n2), env_ops), 1.7, -0.2)
    times = np.linspace(0.0, 2.0, 5)
    mb = minimal_dissipation(GlobalModel(h_s, h_i, h_e), rho_s, rho_e, times, order=3)
    sp = model.energetics(times, order=3)
    assert not np.any(mb.singular) and not np.any(sp.singular)
    for j in range(len(times)):
        diff = np.asarray(mb.hamiltonian[j]) - fock.quadratic(np.asarray(sp.k[j]), sys_ops)
        # many-body K_S has Tr K_S = Tr H_S = 2^{N1−1} Tr h1; Σ k a†a has trace 2^{N1−1} Tr k(t):
        # the offset is the time-dependent multiple ½(Tr h1 − Tr k(t))·1 (docs/assignment.md)
        shift = 0.5 * (np.trace(h1) - np.trace(np.asarray(sp.k[j]))).real
        assert np.max(np.abs(diff - shift * np.eye(diff.shape[0]))) < 1e-9
    assert np.ptp([np.trace(np.asarray(k)).real for k in sp.k]) > 1e-3  # the shift does move in time
    np.testing.assert_allclose(mb.assignment.heat, sp.minimal_dissipation.heat, atol=1e-9)
    glob = energy_assignment(GlobalModel(h_s, h_i, h_e), np.kron(rho_s, rho_e), times)
    np.testing.assert_allclose(glob.energies, sp.energies, atol=1e-10)
    np.testing.assert_allclose(glob.bare.work, sp.bare.work, atol=1e-10)
    np.testing.assert_allclose(glob.interaction.energy, sp.interaction.energy, atol=1e-10)


def test_bosonic_minimal_dissipation_equals_truncated_fock_space():
    """Bosons: one system mode (cutoff 3), two bath modes in the vacuum; number conservation keeps
    every quantum inside the cutoff, so the truncated many-body map is exact. k is independent of
    the bath state (docs/assignment.md), so the thermal-bath single-particle k is compared."""
    rng = np.random.default_rng(3)
    model = _random_model(rng, 1, 2, "boson")
    h1, h2, g = (np.asarray(x) for x in (model.h1, model.h2, model.coupling))
    cutoff = 3
    full = fock.boson_annihilators(3, cutoff)
    sys_ops, env_ops = fock.boson_annihilators(1, cutoff), fock.boson_annihilators(2, cutoff)
    a, b = full[:1], full[1:]
    h_i = sum(g[0, k] * a[0].conj().T @ b[k] + np.conj(g[0, k]) * b[k].conj().T @ a[0] for k in range(2))
    h_s, h_e = fock.quadratic(h1, sys_ops), fock.quadratic(h2, env_ops)
    vacuum = np.zeros(((cutoff + 1) ** 2,) * 2, complex)
    vacuum[0, 0] = 1.0
    rho_s = np.diag([0.4, 0.3, 0.2, 0.1]).astype(complex)
    times = np.linspace(0.0, 1.5, 4)
    mb = minimal_dissipation(GlobalModel(h_s, h_i, h_e), rho_s, vacuum, times, order=2)
    sp = model.energetics(times, order=2)
    for j in range(len(times)):
        diff = np.asarray(mb.hamiltonian[j]) - fock.quadratic(np.asarray(sp.k[j]), sys_ops)
        diff -= np.trace(diff) / diff.shape[0] * np.eye(diff.shape[0])
        assert np.max(np.abs(diff)) < 1e-9


def test_homogeneous_collective_mode_closed_form_and_peaks():
    """All-to-all reservoirs: only the uniform modes couple (effective coupling Γ/2), and for the
    reservoir-1 collective mode k_c(t) = ν̄ + (Δ/2)/(cos²x + (Δ/Ω)² sin²x), x = Ωt/2, Ω = √(Δ²+Γ²):
    peaks at t_m = (2m+1)π/Ω of height k_c − ν1 = Γ²/(2Δ), where σ_min(G) = |Δ|/Ω."""
    n1, n2, delta, big_gamma, nu2, g = 4, 3, 0.5, 1.2, 2.0, 0.1
    model = QuadraticReservoirs.from_regime(n1, n2, delta, big_gamma, nu2, g, beta1=1.0, beta2=0.3)
    omega = np.hypot(delta, big_gamma)
    t_peak = np.pi / omega
    times = np.linspace(0.0, 4 * t_peak, 81)  # contains t_1 = π/Ω (index 20) and t_2 = 3π/Ω (60)
    out = model.energetics(times)
    nu1, nubar = nu2 + delta, nu2 + delta / 2
    x = omega * times / 2
    k_c = nubar + (delta / 2) / (np.cos(x) ** 2 + (delta / omega) ** 2 * np.sin(x) ** 2)
    u = np.ones(n1) / np.sqrt(n1)
    k = np.asarray(out.k)
    np.testing.assert_allclose(np.einsum("i,tij,j->t", u, k, u).real, k_c, atol=1e-12)
    perp = np.eye(n1) - np.outer(u, u)
    np.testing.assert_allclose(perp @ k @ perp, np.broadcast_to((nu1 - n1 * g) * perp, k.shape), atol=1e-12)
    np.testing.assert_allclose(out.peak_times, [t_peak, 3 * t_peak], rtol=1e-12)
    assert abs(k_c[20] - nu1 - big_gamma**2 / (2 * delta)) < 1e-12
    np.testing.assert_allclose(out.sigma_min[20], delta / omega, rtol=1e-10)


def test_resonance_makes_g_singular_and_is_reported():
    model = QuadraticReservoirs.from_regime(2, 2, 0.0, 1.0, 2.0, 0.1)
    times = np.linspace(0.0, 2 * np.pi, 9)  # t = π/Γ·... : σ_min = |cos(Γt/2)| vanishes at t = π
    with pytest.warns(RuntimeWarning, match="G\\(t\\)"):
        out = model.energetics(times)
    assert out.singular[4] and np.isnan(out.minimal_dissipation.energy[4])
    assert np.all(np.isfinite(out.minimal_dissipation.heat[:4])) and np.all(np.isnan(out.minimal_dissipation.heat[4:]))
    assert np.all(np.isfinite(out.bare.heat))


def test_reservoir_two_is_the_swapped_model():
    rng = np.random.default_rng(4)
    model = _random_model(rng, 2, 3)
    times = np.linspace(0, 3, 7)
    two = model.energetics(times, reservoir=2)
    swapped = model.swapped().energetics(times)
    for a, b in zip(two.minimal_dissipation, swapped.minimal_dissipation):
        np.testing.assert_allclose(a, b, atol=1e-13)
    one = model.energetics(times)
    np.testing.assert_allclose(two.energies, one.energies[::-1], atol=1e-12)  # (S, I, E) ↔ (E, I, S)
    # Σ_X Q̃_X = 0: the bare heats of the two reservoirs add up to the interaction-energy change
    np.testing.assert_allclose(one.bare.heat + two.bare.heat, one.energies[1] - one.energies[1, 0], atol=1e-12)


def test_minimal_dissipation_heat_converges_around_a_peak():
    model = QuadraticReservoirs.from_regime(3, 3, 0.2, 1.0, 2.0, 0.05)
    t_end = 1.3 * np.pi / np.hypot(0.2, 1.0)  # past the first peak
    ref = model.energetics(np.linspace(0, t_end, 257), order=6).minimal_dissipation.heat[-1]
    errors = [
        abs(float(model.energetics(np.linspace(0, t_end, n + 1), order=3).minimal_dissipation.heat[-1] - ref))
        for n in (16, 32, 64)
    ]
    slopes = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-7 and np.all(slopes > 5), (errors, slopes)  # order 6


def test_weak_coupling_limit_only_minimal_dissipation_heat_recovers_it():
    """Dispersive regime, γ → 0 at fixed Δ: (Q^md − ΔŨ_S)/|ΔŨ_S| → 0 as γ², while the bare/interaction
    heat keeps an O(1) relative deviation (the interaction energy)."""
    times = np.linspace(0, 6, 61)
    rel_md, rel_bare = [], []
    for big_gamma in (0.2, 0.1, 0.05):
        out = QuadraticReservoirs.from_regime(3, 3, 1.0, big_gamma, 2.0, 0.1, beta1=0.5, beta2=2.0).energetics(times)
        scale = np.max(np.abs(out.weak_coupling_heat))
        rel_md.append(np.max(np.abs(out.minimal_dissipation.heat - out.weak_coupling_heat)) / scale)
        rel_bare.append(np.max(np.abs(out.bare.heat - out.weak_coupling_heat)) / scale)
    rel_md, rel_bare = np.array(rel_md), np.array(rel_bare)
    np.testing.assert_allclose(rel_md[:-1] / rel_md[1:], 4.0, rtol=0.05)
    assert rel_bare.min() > 0.3 and np.ptp(rel_bare) < 0.1 * rel_bare.mean()


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="h1 is not Hermitian"):
        QuadraticReservoirs(np.array([[1.0, 1.0], [0.0, 1.0]]), np.eye(1), np.ones((2, 1)))
    with pytest.raises(ValueError, match="n1"):
        QuadraticReservoirs.homogeneous(0, 2, 1.0, 1.0, 0.1, 0.1)
    with pytest.raises(ValueError, match="n2"):
        QuadraticReservoirs.from_regime(2, 0, 1.0, 0.1, 1.0, 0.1)
    with pytest.raises(ValueError, match="h1"):
        QuadraticReservoirs(np.zeros((0, 0)), np.eye(1), np.zeros((0, 1)))
    with pytest.raises(ValueError, match="positive definite"):
        QuadraticReservoirs.homogeneous(2, 2, 0.05, 1.0, -0.1, 0.1, statistics="boson")
    with pytest.raises(ValueError, match="beta2"):
        QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.0, 0.1, 0.1, beta2=-1.0, statistics="boson")
    with pytest.raises(ValueError, match="statistics"):
        QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.0, 0.1, 0.1, statistics="anyon")
    with pytest.raises(ValueError, match="coupling"):
        QuadraticReservoirs(np.eye(2), np.eye(2), np.ones((3, 2)))
    model = QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.5, 0.1, 0.1)
    with pytest.raises(ValueError, match="reservoir"):
        model.energetics(np.linspace(0, 1, 3), reservoir=3)
    with pytest.raises(ValueError, match="times"):
        model.energetics(np.array([0.0, 1.0, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.energetics(np.linspace(0, 1, 3))


def test_float32_is_kept_without_promotion():
    import jax

    f32 = jnp.float32
    args = [f32(x) for x in (2.0, 1.5, 0.1, 0.2, 1.0, 0.5, 0.0, 0.0)]
    with jax.numpy_dtype_promotion("strict"):
        out = QuadraticReservoirs.homogeneous(3, 2, *args).energetics(jnp.linspace(0, 3, 11, dtype=f32))
    assert out.minimal_dissipation.heat.dtype == jnp.float32 and out.k.dtype == jnp.complex64
    ref = QuadraticReservoirs.homogeneous(3, 2, 2.0, 1.5, 0.1, 0.2, 1.0, 0.5).energetics(np.linspace(0, 3, 11))
    np.testing.assert_allclose(out.minimal_dissipation.heat, ref.minimal_dissipation.heat, atol=1e-5)
    np.testing.assert_allclose(out.bare.work, ref.bare.work, atol=1e-5)


def test_batched_times_give_the_same_energetics():
    res = QuadraticReservoirs.from_regime(3, 3, 0.3, 1.0, 2.0, 0.1, 2.0, 0.5, statistics="fermion")
    times = np.linspace(0.0, 3.0, 13)
    one, eight = res.energetics(times, batch_size=1), res.energetics(times, batch_size=8)
    for a, b in zip(jax.tree_util.tree_leaves(one), jax.tree_util.tree_leaves(eight)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="batch_size"):
        res.energetics(times, batch_size=0)


def test_bosonic_coupling_past_positivity_of_the_single_particle_matrix_stays_exact():
    """No stability bound on the coupling (docs/assignment.md §4): with g = 1.5·(1, 0.8) the single-particle
    matrix M has λ_min = −1.13, so H is unbounded below, yet the dynamics is number conserving and every
    N-particle sector has energy ≥ N λ_min. k(t) equals the many-body K_S of the truncated Fock space (one
    system mode, cutoff 3, bath in the vacuum: exact), the energies equal SciPy's e^{−iMt} R(0) e^{iMt},
    and the total energy is conserved to rounding; nothing is refused."""
    h1, h2 = np.array([[1.0]]), np.diag([1.2, 0.1])
    g = 1.5 * np.array([[1.0, 0.8]])
    m = np.block([[h1, g], [g.T, h2]])
    assert np.linalg.eigvalsh(m)[0] < -1.0
    model = QuadraticReservoirs(h1, h2, g, 1.0, 2.0, -1.0, -0.5, statistics="boson")
    cutoff = 3
    full = fock.boson_annihilators(3, cutoff)
    sys_ops, env_ops = fock.boson_annihilators(1, cutoff), fock.boson_annihilators(2, cutoff)
    a, b = full[:1], full[1:]
    h_i = sum(g[0, k] * (a[0].conj().T @ b[k] + b[k].conj().T @ a[0]) for k in range(2))
    vacuum = np.zeros(((cutoff + 1) ** 2,) * 2, complex)
    vacuum[0, 0] = 1.0
    rho_s = np.diag([0.4, 0.3, 0.2, 0.1]).astype(complex)
    times = np.linspace(0.0, 3.0, 7)
    mb = minimal_dissipation(
        GlobalModel(fock.quadratic(h1, sys_ops), h_i, fock.quadratic(h2, env_ops)), rho_s, vacuum, times, order=2
    )
    sp = model.energetics(times, order=2)
    for j in range(len(times)):
        diff = np.asarray(mb.hamiltonian[j]) - fock.quadratic(np.asarray(sp.k[j]), sys_ops)
        diff -= np.trace(diff) / diff.shape[0] * np.eye(diff.shape[0])
        assert np.max(np.abs(diff)) < 1e-9
    r0 = np.zeros((3, 3))
    r0[0, 0] = 1.0 / np.expm1(1.0 * (1.0 + 1.0))
    r0[1:, 1:] = np.diag(1.0 / np.expm1(2.0 * (np.diag(h2) + 0.5)))
    for j, t in enumerate(times):
        u = expm(-1j * m * t)
        r = u @ r0 @ u.conj().T
        ref = [np.trace(h1 @ r[:1, :1]).real, 2 * np.trace(g @ r[1:, :1]).real, np.trace(h2 @ r[1:, 1:]).real]
        np.testing.assert_allclose(sp.energies[:, j], ref, atol=1e-12)
    np.testing.assert_allclose(np.sum(sp.energies, axis=0), np.sum(sp.energies[:, 0]), atol=1e-12)
