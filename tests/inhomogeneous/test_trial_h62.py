"""Model A's work/heat statistics and second laws against independent routes (helper-62, session 25).

References: 420-digit decimal finite differences of q_j(δ), the two-point measurement scheme and the
full density matrix in NumPy, SciPy quadrature of the quadratic densities, and the ensemble's histograms
recounted from trajectories run one by one.
"""

from decimal import Decimal, localcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxthermo as jt
from jaxthermo.ensemble._sampling import sample_deltas
from jaxthermo.inhomogeneous import population_derivatives
from tests.helpers import numpy_swap


def _decimal_derivatives(d, x):
    """q_j'(0), q_j''(0) of q_j(δ) ∝ exp(−x(1 + δ) m_j) by central differences (h = 1e-20) in 420-digit
    decimals (the second difference is ~q''·h², down to 1e-341 at x = 1e-100)."""
    with localcontext() as ctx:
        ctx.prec = 420
        x, h = Decimal(x), Decimal("1e-20")
        m = [Decimal(j) - Decimal(d - 1) / 2 for j in range(d)]

        def q(delta):
            w = [(-x * (1 + delta) * mj).exp() for mj in m]
            z = sum(w)
            return [wj / z for wj in w]

        lo, mid, hi = q(-h), q(Decimal(0)), q(h)
        first = [float((b - a) / (2 * h)) for a, b in zip(lo, hi)]
        second = [float((b - 2 * c + a) / (h * h)) for a, c, b in zip(lo, mid, hi)]
    return np.array(first), np.array(second)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("x", [1e-12, 1e-9, 1e-3, 1.0, 40.0])
def test_population_derivatives_keep_their_digits_for_a_hot_reservoir(d, x):
    # forward-mode autodiff lost ε/βg0: the qubit q''(0) was 5e-4 off at βg0 = 1e-12 (and q'(0) of d = 3 3.6e-4)
    model = jt.InhomogeneousReservoir(d=d, beta=x, g0=1.0, theta=0.3)
    dq, ddq = population_derivatives(model)
    ref1, ref2 = _decimal_derivatives(d, x)
    np.testing.assert_allclose(np.asarray(dq), ref1, rtol=1e-13, atol=0)
    np.testing.assert_allclose(np.asarray(ddq), ref2, rtol=1e-13, atol=0)


def test_small_delta_energy_change_from_a_thermal_start_at_tiny_beta_g0():
    # from τ_S only the ½ q''(0) σ² term is left: ΔŪ = g0 s² Σ_j m_j ½ q_j''(0) σ²
    x, sigma2, theta = 1e-12, 0.01, 0.3
    model = jt.InhomogeneousReservoir(d=2, beta=x, g0=1.0, theta=theta)
    _, ref2 = _decimal_derivatives(2, x)
    expected = np.sin(theta) ** 2 * np.sum((np.arange(2) - 0.5) * 0.5 * ref2 * sigma2)
    got = jt.inhomogeneous.small_delta_mean_energy_change(model, jt.thermal_state(2, x, 1.0), sigma2)
    np.testing.assert_allclose(float(got), expected, rtol=1e-12)


def test_heat_support_of_the_temperature_kind_for_a_hot_reservoir():
    rho = np.diag([0.75, 0.25])
    # βg0 = 1e-100: A = −½ q0''(0) ≈ (βg0)³/16 is representable, the vertex C − B²/(4A) ≈ C − 1/(4βg0)
    model = jt.InhomogeneousReservoir(d=2, beta=1e-100, g0=1.0, theta=0.3, kind="temperature")
    ref1, ref2 = _decimal_derivatives(2, 1e-100)
    a, b, c = -0.5 * ref2[0], -ref1[0], 0.75 - 0.5
    support = jt.heat_support(model, rho)
    np.testing.assert_allclose(float(support.lower), c - b * b / (4 * a), rtol=1e-12)
    assert float(support.upper) == np.inf
    # βg0 = 1e-200: A underflows to 0, the map is linear, its support the whole line (was (−inf, NaN))
    model = model.replace(beta=1e-200)
    support = jt.heat_support(model, rho)
    assert (float(support.lower), float(support.upper)) == (-np.inf, np.inf)


def test_quadratic_support_of_degenerate_maps():
    from jaxthermo.inhomogeneous._statistics import Quadratic, quadratic_support

    lo, hi = quadratic_support(Quadratic(jnp.float64(0.0), jnp.float64(1e-170), jnp.float64(0.3)))
    assert (float(lo), float(hi)) == (-np.inf, np.inf)
    lo, hi = quadratic_support(Quadratic(jnp.float64(0.0), jnp.float64(0.0), jnp.float64(0.3)))
    assert (float(lo), float(hi)) == (0.3, 0.3)
    lo, hi = quadratic_support(Quadratic(jnp.float64(-2.0), jnp.float64(1.0), jnp.float64(0.3)))
    assert (float(lo), float(hi)) == (-np.inf, 0.3 + 1 / 8)


def test_meaningless_inputs_raise_naming_the_parameter():
    model = jt.InhomogeneousReservoir(d=2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05))
    rho = np.diag([0.75, 0.25])
    with pytest.raises(ValueError, match="states"):  # was "axis -2 is out of bounds"
        jt.free_energy_changes(model, rho, [1.0, 2.0])
    for f in (jt.free_energies, jt.inhomogeneous.divergences_to_thermal):  # (1, 2) orders were broadcast
        with pytest.raises(ValueError, match="alphas"):
            f(model, rho, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="c="):  # "truth value of an array is ambiguous"
        jt.collision_number_scaling(model, rho, [10], c=np.array([0.5, 0.2]))
    with pytest.raises(TypeError, match="c must"):  # "ufunc 'isfinite' not supported"
        jt.collision_number_scaling(model, rho, [10], c="0.5")
    with pytest.raises(ValueError, match="xi="):
        jt.collision_number_scaling(model, rho, [10], c=0.5, xi=np.inf)
    with pytest.raises(ValueError, match="n_values"):  # "only 0-dimensional arrays can be converted"
        jt.collision_number_scaling(model, rho, [[1, 2]], c=0.5)
    # still accepted: a NumPy scalar c and a single N
    res = jt.collision_number_scaling(model, rho, 10, c=np.float64(0.5))
    assert res.accumulated_work.shape == (1,)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
@pytest.mark.parametrize("theta", [0.3, np.pi / 2])
def test_sampled_energetics_equal_the_two_point_measurement_mean(kind, theta):
    # diagonal ρ: the TPM work Σ_if p_i |<f|U|i>|² (E_f − E_i) equals Tr[(X' − X)(H_S + H_r)] of the samples
    d, beta, g0 = 3, 0.7, 1.3
    model = jt.InhomogeneousReservoir(d=d, beta=beta, g0=g0, theta=theta, kind=kind, distribution=jt.Gaussian(0.3))
    p = np.array([0.5, 0.3, 0.2])
    samples = jt.single_collision_samples(model, np.diag(p), jax.random.key(0), 4)
    sz = np.diag(np.arange(d) - (d - 1) / 2)
    u = np.cos(theta) * np.eye(d * d) + 1j * np.sin(theta) * numpy_swap(d)
    for i, delta in enumerate(np.asarray(samples.deltas)):
        g_r = g0 * (1 + delta) if kind == "hamiltonian" else g0
        b_r = beta if kind == "hamiltonian" else beta * (1 + delta)
        w = np.exp(-b_r * g_r * np.diag(sz))
        p_in = np.kron(p, w / w.sum())
        e_s, e_r = np.kron(g0 * np.diag(sz), np.ones(d)), np.kron(np.ones(d), g_r * np.diag(sz))
        trans = np.abs(u) ** 2 * p_in[None, :]  # P(i → f) p_i
        work = np.sum(trans * ((e_s + e_r)[:, None] - (e_s + e_r)[None, :]))
        heat = -np.sum(trans * (e_r[:, None] - e_r[None, :]))
        np.testing.assert_allclose(float(samples.energetics.work[i]), work, atol=1e-15)
        np.testing.assert_allclose(float(samples.energetics.heat[i]), heat, atol=1e-15)


@pytest.mark.parametrize("kind", ["hamiltonian", "temperature"])
def test_quadratic_densities_are_normalised_with_the_quadratic_mean(kind):
    # ∫ G_Y = 1 and ∫ y G_Y = A σ² + C (E over the Gaussian of Aδ² + Bδ + C), by adaptive quadrature
    sigma, p0 = 0.03, 0.6
    model = jt.InhomogeneousReservoir(d=2, beta=1.0, g0=1.0, theta=0.4, kind=kind, distribution=jt.Gaussian(sigma))
    rho = np.diag([p0, 1 - p0])
    from jaxthermo.inhomogeneous._statistics import quadratic_coefficients

    for quantity in ["work", "heat"] if kind == "hamiltonian" else ["heat"]:
        density = jt.work_density if quantity == "work" else jt.heat_density
        a, b, c = (float(v) for v in quadratic_coefficients(model, rho, quantity))
        ends = sorted(a * t * t + b * t + c for t in (-12 * sigma, 12 * sigma))
        vertex = c - b * b / (4 * a)
        lo = max(ends[0], vertex) if a > 0 else ends[0]
        hi = min(ends[1], vertex) if a < 0 else ends[1]
        g = lambda y: float(density(model, rho, np.array(y)))
        norm = integrate.quad(g, lo, hi, limit=400, epsabs=1e-13)[0]
        first = integrate.quad(lambda y: y * g(y), lo, hi, limit=400, epsabs=1e-15)[0]
        np.testing.assert_allclose(norm, 1.0, atol=1e-8)
        np.testing.assert_allclose(first, a * sigma**2 + c, rtol=1e-7)


def test_ensemble_histograms_recount_the_trajectories():
    # every W_N and single-collision W of the run, recomputed with trajectory() from the same draws
    dist = jt.Gaussian(0.2)
    model = jt.InhomogeneousReservoir(d=3, beta=1.0, g0=1.0, theta=0.4, distribution=dist)
    rho0, n_steps, n_configs = np.diag([0.5, 0.3, 0.2]), 5, 64
    res = jt.ensemble(
        model, rho0, n_steps, n_configs, seed=3, work_bins=7, collision_work_bins=5, collision_work_range=(-2e-3, 2e-3)
    )
    key = jax.random.key(3)
    works = np.stack(
        [
            np.asarray(jt.trajectory(model, rho0, sample_deltas(dist, key, i, n_steps, jnp.float64)).work)
            for i in range(n_configs)
        ]
    )
    for hist, values in ((res.work_histogram, works.sum(axis=1)), (res.collision_work_histogram, works.ravel())):
        edges = np.asarray(hist.edges)
        counts = [np.sum((values >= lo) & (values < hi)) for lo, hi in zip(edges[:-1], edges[1:])]
        np.testing.assert_array_equal(hist.counts, counts)
        assert (hist.underflow, hist.overflow) == (np.sum(values < edges[0]), np.sum(values >= edges[-1]))
        assert hist.total == values.size
    np.testing.assert_allclose(res.mean_cumulative_work[-1], works.sum(axis=1).mean(), rtol=1e-12)


@pytest.mark.parametrize("law", [jt.Gaussian(0.1), jt.Uniform(0.2)])
@pytest.mark.parametrize("dtype", [jnp.complex128, jnp.int32])
def test_draws_of_a_non_real_dtype_are_refused(law, dtype):
    # Gaussian(0.1).sample(key, (3,), complex128) drew complex δ (TwoPoint and Empirical refused it)
    with pytest.raises(ValueError, match="dtype="):  # JAX's own message named no parameter
        law.sample(jax.random.key(0), (3,), dtype)
    draws = law.sample(jax.random.key(0), (4000,), jnp.float64)
    assert draws.dtype == jnp.float64 and abs(float(jnp.var(draws)) - float(law.variance)) < 0.1 * float(law.variance)


def _decimal_free_energy(p, x, alpha):
    """βF_α(p‖τ_S) = D_α(p‖τ_S) − log Z_S (g0 = 1, x = βg0) in 120-digit decimals, [ATO19] eq. (32)."""
    with localcontext() as ctx:
        ctx.prec = 120
        d = len(p)
        w = [(-x * (Decimal(j) - Decimal(d - 1) / 2)).exp() for j in range(d)]
        z = sum(w)
        q = [wj / z for wj in w]
        if alpha == np.inf:
            div = max(pj / qj for pj, qj in zip(p, q)).ln()
        elif alpha == 1:
            div = sum(pj * (pj / qj).ln() for pj, qj in zip(p, q))
        else:
            a = Decimal(alpha)
            div = (1 if a > 0 else -1) * sum(pj**a * qj ** (1 - a) for pj, qj in zip(p, q)).ln() / (a - 1)
        return div - z.ln()


@pytest.mark.parametrize(("d", "x", "delta"), [(2, 40.0, 0.3), (5, 40.0, -0.3), (5, 5.0, 1.5)])
def test_second_laws_of_a_full_swap_into_a_cold_system(d, x, delta):
    # at θ = π/2 the system leaves with ≈ τ(δ), whose populations q_j(δ) ≪ ε p_j: as p + s²(q − p) they were lost
    # (0 or rounding noise), so ΔF_{−2} was +inf and ΔF_∞ −3.67 for −1.87 (d = 5, βg0 = 40, δ = −0.3)
    theta = np.pi / 2
    model = jt.InhomogeneousReservoir(d=d, beta=x, g0=1.0, theta=theta)
    p = np.linspace(1.0, 3.0, d)
    p /= p.sum()
    alphas = [-2.0, 0.5, 1.0, 2.0, 7.0, np.inf]
    got = jt.collision_second_laws(model, np.diag(p), delta, alphas)
    with localcontext() as ctx:
        ctx.prec = 120
        xd, c2, s2 = Decimal(x), Decimal(np.cos(theta)) ** 2, Decimal(np.sin(theta)) ** 2
        w = [(-xd * (1 + Decimal(delta)) * j).exp() for j in range(d)]
        q = [wj / sum(w) for wj in w]
        before = [Decimal(v) for v in p]
        after = [c2 * pj + s2 * qj for pj, qj in zip(before, q)]  # ρ' = c²ρ + s²τ(δ) ([ATO19] eq. (8))
        expected = [float(_decimal_free_energy(after, xd, a) - _decimal_free_energy(before, xd, a)) for a in alphas]
    np.testing.assert_allclose(np.asarray(got.free_energy_change) * x, expected, rtol=1e-12)


def test_monte_carlo_means_against_the_quadrature_with_a_tolerance_that_catches_the_misprints():
    # 2·10⁵ exact collisions (fixed seed): their mean W and Q within 4 standard errors of mean_work/mean_heat,
    # while the misprinted forms ([ATO19] eq. (19)'s minus sign on W̄, eq. (26) without the ½ on q'') are ≥ 10 away
    model = jt.InhomogeneousReservoir(d=3, beta=1.0, g0=1.0, theta=0.6, distribution=jt.Gaussian(0.15))
    rho = np.diag([0.5, 0.3, 0.2])
    e = jt.single_collision_samples(model, rho, jax.random.key(7), 200_000).energetics
    for samples, exact in ((e.work, jt.mean_work(model, rho)), (e.heat, jt.mean_heat(model, rho))):
        samples = np.asarray(samples)
        stderr = samples.std(ddof=1) / np.sqrt(samples.size)
        assert abs(samples.mean() - float(exact)) < 4 * stderr
    work = np.asarray(e.work)
    stderr = work.std(ddof=1) / np.sqrt(work.size)
    assert abs(work.mean() + float(jt.mean_work(model, rho))) > 10 * stderr  # −W̄
    dq, ddq = population_derivatives(model)
    m, s2 = np.arange(3) - 1.0, np.sin(0.6) ** 2
    heat = np.asarray(e.heat)
    misprint = float(jt.inhomogeneous.small_delta_mean_heat(model, rho, 0.15**2)) + s2 * np.sum(m * 0.5 * ddq) * 0.15**2
    assert abs(heat.mean() - misprint) > 10 * heat.std(ddof=1) / np.sqrt(heat.size)


@pytest.mark.parametrize(("theta", "rtol"), [(0.3, 2e-3), (0.05, 0.1)])
def test_float32_free_energy_changes_of_a_weak_collision(theta, rtol):
    # ΔF_α = ΔD_α/β: as F_α(ρ') − F_α(ρ) each F_α ≈ −0.8 carried ε|F_α|, ΔF_1 1.6 % off at θ = 0.3 and 100 % at
    # θ = 0.05 (ΔF ~ 10⁻⁷). Reference: 120-digit F_α of the float32 states the call itself holds
    x, delta, alphas = 1.0, np.float32(0.1), [0.5, 1.0, 2.0, np.inf]
    model = jt.InhomogeneousReservoir(d=2, beta=x, g0=1.0, theta=theta)
    rho = np.diag([0.75, 0.25]).astype(np.float32)
    got = jt.collision_second_laws(model, rho, delta, alphas)
    after = np.real(np.diagonal(np.asarray(jt.inhomogeneous.collide(model, rho, delta)[0])))
    before = [Decimal(float(v)) for v in np.diagonal(rho)]
    after = [Decimal(float(v)) for v in after]
    expected = [
        float(_decimal_free_energy(after, Decimal(x), a) - _decimal_free_energy(before, Decimal(x), a)) for a in alphas
    ]
    np.testing.assert_allclose(np.asarray(got.free_energy_change, np.float64) * x, expected, rtol=rtol)
    states = np.stack([rho, np.diag(np.asarray([float(v) for v in after], np.float32))])
    changes = jt.free_energy_changes(model, states, alphas)
    np.testing.assert_allclose(np.asarray(changes[0], np.float64) * x, expected, rtol=rtol)
