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
