"""Long runs: statistics merged over many chunks against NumPy float64 two-pass statistics of the same
per-configuration values (docs/ensemble.md §2).

The per-configuration values come from the reference route: every configuration's δ sequence from
the engine's sampler (``fold_in(key(seed), i)``, tested in test_streaming.py) run through
``jaxthermo.trajectory``; NumPy then takes the float64 mean and the two-pass variance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._sampling import sample_chunk
from jaxthermo.ensemble._statistics import Moments, merge, narrow


def _per_configuration(model, rho0, n_steps, n_configs, seed, rdt):
    """(W, Q) per configuration and collision, (n_configs, N), from the reference route."""

    @jax.jit
    def run(idx):
        deltas = sample_chunk(model.distribution, jax.random.key(seed), idx, n_steps, rdt)
        traj = jax.vmap(lambda dl: jt.trajectory(model, rho0, dl, store_states=False))(deltas)
        return traj.work, traj.heat

    w, q = run(jnp.arange(n_configs, dtype=jnp.uint32))
    return np.asarray(w, np.float64), np.asarray(q, np.float64)


def test_many_float32_chunks_merge_without_drift():
    """A float32 mean far from zero (the cumulative heat: mean/spread ≈ 6·10³) merged over 500 chunks.
    Merged at float32, every merge rounded the running mean by up to ½ ulp: 2–5 ulp (up to 1 standard
    error) off after 500 chunks; merged in float64 the engine's float32 mean is the float64 mean of the
    per-configuration values to within 1 ulp (½ ulp of the output's rounding, the rest the two routes'
    rounding of each configuration)."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(1e-4))
    rho0 = jnp.diag(jnp.array([0.05, 0.95])).astype(jnp.complex64)
    n_steps, n_configs = 4, 32000
    res = jt.ensemble(model, rho0, n_steps, n_configs, seed=3, chunk_size=64, alphas=())
    assert res.info["chunk_size"] == 64 and res.mean_cumulative_heat.dtype == np.float32
    _, q = _per_configuration(model, rho0, n_steps, n_configs, 3, jnp.float32)
    cum = np.cumsum(q, axis=1)
    mean, var = cum.mean(axis=0), cum.var(axis=0, ddof=1)
    assert np.all(np.abs(mean) / np.sqrt(var) > 1e3)  # the regime of the defect
    ulp = np.spacing(np.abs(mean).astype(np.float32)).astype(np.float64)
    np.testing.assert_array_less(np.abs(res.mean_cumulative_heat - mean), 1.0 * ulp)
    np.testing.assert_allclose(res.var_cumulative_heat, var, rtol=1e-4)


def test_merge_of_float32_chunks_is_the_float64_two_pass_statistics():
    """1000 float32 chunk moments of data with mean 10³ and spread 10⁻³ (16 ulp), merged pairwise in
    sequence as the engine does: the merged moments equal NumPy's float64 two-pass mean and M2 of all
    values to rounding of the chunks' own float32 moments (old float32 merges: ≈ 10 ulp of the mean
    off, a systematic error of several standard errors)."""
    rng = np.random.default_rng(0)
    data = (1e3 + 1e-3 * rng.standard_normal((1000, 100))).astype(np.float32)
    stats = None
    for chunk in data:
        c = chunk.astype(np.float64)
        part = Moments(np.int32(c.size), np.float32(c.mean()), np.float32(np.sum((c - c.mean()) ** 2)))
        stats = part if stats is None else merge(stats, part)
    values = data.astype(np.float64).ravel()
    mean, m2 = values.mean(), np.sum((values - values.mean()) ** 2)
    ulp = float(np.spacing(np.float32(mean)))
    assert int(stats.n) == values.size
    # each chunk mean carries ≤ ½ ulp of float32 rounding, independent across chunks: their average ≪ 1 ulp
    assert abs(float(stats.mean) - mean) < 0.05 * ulp
    assert abs(float(stats.m2) / m2 - 1) < 1e-3  # the chunk means' float32 rounding (½ ulp ≈ 0.3 of their spread)
    out = narrow(stats, np.float32)
    assert out.mean.dtype == np.float32 and out.m2.dtype == np.float32 and out.n == stats.n


@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, -(2**63) - 1])
def test_a_seed_outside_64_bits_is_refused_naming_it(seed):
    """jax.random.key takes a 64-bit signed seed; beyond it the engine and the objective raised an
    OverflowError about a C long from inside JAX."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, 2.0, 1.0)
    with pytest.raises(ValueError, match="seed"):
        jt.ensemble(model, rho0, 2, 3, seed=seed, alphas=())
    with pytest.raises(ValueError, match="seed"):
        jt.ensemble_mean(model, rho0, 2, 3, seed=seed)


@pytest.mark.parametrize("seed", [2**63 - 1, -(2**63)])
def test_seeds_at_the_64_bit_boundaries_run_their_own_configurations(seed):
    """The extreme seeds run, each with the configurations of ``fold_in(key(seed), i)``: the engine's
    mean work equals the reference route's over the same draws."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, 2.0, 1.0)
    res = jt.ensemble(model, rho0, 3, 5, seed=seed, alphas=())
    w, _ = _per_configuration(model, rho0, 3, 5, seed, jnp.float64)
    np.testing.assert_allclose(res.mean_work, w.mean(axis=0), rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(jt.ensemble_mean(model, rho0, 3, 5, seed=seed), w.sum(axis=1).mean(), rtol=1e-12)


def test_frozen_ensemble_mean_refuses_more_configurations_than_32_bit_indices():
    """Configuration indices are 32-bit: n_configs > 2³² would repeat configurations (i and i + 2³²)."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(0.1))
    with pytest.raises(ValueError, match="n_configs"):
        jt.frozen_ensemble_mean(model, jt.thermal_state(2, 2.0, 1.0), jax.random.key(0), 2**32 + 1, 2, lambda t: t.work)


def test_one_configuration_has_no_variance_and_two_have_numpys(tmp_path):
    """n = 1: the unbiased variance is undefined, so every variance and standard error is NaN (it was
    the rounding of (x − x)², ≈ 10⁻³⁹: standard errors of ≈ 10⁻²⁰ claiming an exact mean), as the
    k-statistics already were; the file round trip keeps them. n = 2: NumPy's var(ddof=1) of the two
    configurations of the reference route."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.5, distribution=jt.Gaussian(0.1))
    rho0 = jt.thermal_state(2, 2.0, 1.0)
    one = jt.ensemble(model, rho0, 3, 1, alphas=(1.0,), wrt=("theta",))
    for name in ("work", "heat", "energy_change", "cumulative_work", "cumulative_heat", "cumulative_energy_change"):
        assert np.all(np.isnan(getattr(one, f"var_{name}"))) and np.all(np.isnan(one.standard_error(name))), name
        sens = getattr(one.sensitivity["theta"], f"var_{name}", None)
        assert sens is None or np.all(np.isnan(sens)), name
    assert np.all(np.isnan(one.var_divergence[1:])) and np.all(one.var_divergence[0] == 0)  # ρ0 is exact
    assert np.isnan(one.stderr_exp_minus_beta_work) and np.all(np.isnan(one.work_cumulants))
    loaded = jt.load_result(jt.save_result(tmp_path / "one", one))
    np.testing.assert_array_equal(loaded.var_work, one.var_work)
    assert np.isnan(jt.ensemble_mean(model, rho0, 3, 1, stderr=True).stderr)

    two = jt.ensemble(model, rho0, 3, 2, alphas=())
    w, q = _per_configuration(model, rho0, 3, 2, 0, jnp.float64)
    np.testing.assert_allclose(two.var_work, w.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(two.var_cumulative_heat, np.cumsum(q, 1).var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(two.standard_error("work"), w.std(axis=0, ddof=1) / np.sqrt(2), rtol=1e-12)


def test_single_collision_work_histogram_against_the_analytic_distribution():
    """N = 1, 10⁵ configurations at small σ, where G_W is the law of y = Aδ² + Bδ + C, y = W/(g0 sin²θ)
    (docs/inhomogeneous.md): each bin's count against n·(F(b) − F(a)) with the closed-form distribution
    function F(y) = Φ(δ₊/σ) − Φ(δ₋/σ) (δ± the roots of Aδ² + Bδ + C = y), and the underflow and overflow
    against the analytic mass below the first and above the last edge (the pilot's edges leave ≈ 0.1 %
    outside: counted, not lost). ``work_density`` integrates to the same bin masses (one bin by quad)."""
    from scipy import integrate, stats

    from jaxthermo.inhomogeneous import quadratic_coefficients

    theta, sigma, n = 0.6, 0.02, 100_000
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, distribution=jt.Gaussian(sigma))
    rho0 = jt.thermal_state(2, 0.3, 1.0)
    h = jt.ensemble(model, rho0, 1, n, seed=5, alphas=(), collision_work_bins=30).collision_work_histogram
    assert h.total == n
    a, b, c = (float(v) for v in quadratic_coefficients(model, rho0, "work"))
    assert a > 0

    def cdf(y):
        disc = b * b + 4 * a * (y - c)
        if disc <= 0:
            return 0.0
        lo, hi = (-b - np.sqrt(disc)) / (2 * a), (-b + np.sqrt(disc)) / (2 * a)
        return stats.norm.cdf(hi / sigma) - stats.norm.cdf(lo / sigma)

    y_edges = np.asarray(h.edges, np.float64) / np.sin(theta) ** 2
    f = np.array([cdf(y) for y in y_edges])
    expected = n * np.concatenate([[f[0]], np.diff(f), [1 - f[-1]]])
    observed = np.concatenate([[h.underflow], h.counts, [h.overflow]])
    assert h.underflow > 0 and h.overflow > 0  # the regime: values outside the edges exist
    z = (observed - expected) / np.sqrt(expected)
    assert np.max(np.abs(z)) < 4.5, z
    assert np.sum(z**2) < len(z) + 5 * np.sqrt(2 * len(z))
    k = int(np.argmax(np.diff(f)))  # the densest bin: work_density integrates to its mass
    density = lambda y: float(jt.work_density(model, rho0, jnp.asarray(y)))
    lower = max(y_edges[k], -(b * b) / (4 * a) + c)
    np.testing.assert_allclose(integrate.quad(density, lower, y_edges[k + 1])[0], f[k + 1] - f[k], rtol=1e-6)
