"""The GPU tile kernel (jaxthermo.ensemble._tile_kernel) on inputs beyond the ordinary ones, in Pallas's
interpreter against the CPU program of the same chunk (jaxthermo.ensemble._kernel.model_a_chunk, two
passes per step) and, for the infinite divergences, against NumPy's float64 mean of the reference
route's per-configuration values (jaxthermo.trajectory, jaxthermo.divergences_to_thermal).

An observable may be ±∞ or NaN in some configurations; the CPU program's means are NumPy's (+∞, or
NaN for both signs or a NaN), the spread NaN (docs/ensemble.md §2). Here D_α is made so in chosen
configurations (both programs evaluate the same closed form). Before, the kernel gave NaN: its shift
of r = 1 (ρ0 after a collision with δ = 0) was +∞ (∞ − ∞ in every deviation), the shift moved to an
infinite tile mean and stayed NaN for every later step, and a masked configuration's ∞ entered the
sums as 0·∞. Its per-tile sums of (x − K_t)² about the previous step's mean lost (K_t − mean)²/spread²
of the digits of M2: float32 variances of D_∞ 67 % off for σ = 0.01. And with a cold τ_S the kernel
took τ_S's support from its populations (D_α of a coherent ρ +∞) where the CPU program, since 48f5e9e,
takes its log-populations (finite, as jaxthermo.divergences_to_thermal).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._elementary import standard_normal_row
from jaxthermo.ensemble import _divergences as divergences
from jaxthermo.ensemble import _tile_kernel as tile_kernel
from jaxthermo.ensemble._sampling import sample_chunk
from jaxthermo.ensemble._statistics import moments_from_shifted_sums
from tests.helpers import assert_same_chunk_statistics, model_a_chunk_run, random_state

ALPHAS = (0.5, 1.0, 2.0, float("inf"))
COHERENT = random_state(2, np.random.default_rng(5))
EXCITED = np.diag([0.0, 1.0]).astype(complex)
PLUS = 0.5 * np.ones((2, 2), complex)  # pure, coherent
COLD = {np.float64: 1000.0, np.float32: 100.0}  # β g0 with e^{−βg0} below the smallest normal number


def _chunk(model, rho0, dtype, alphas, tiled, b=300, n_steps=6, mask=None, coherent=True, seed=2):
    """One chunk of ``b`` configurations (by default the last 37 masked; 300 is no whole number of
    128-configuration tiles: the last tile padded): the CPU program, or the tile kernel in Pallas's
    interpreter."""
    rho0 = jnp.asarray(rho0, jnp.complex128 if dtype == np.float64 else jnp.complex64)
    edges = jnp.linspace(-0.05, 0.05, 33, dtype=dtype)
    mask = jnp.arange(b) < b - 37 if mask is None else jnp.asarray(mask)
    return model_a_chunk_run(
        model, rho0, edges, mask, n_steps=n_steps, alphas=alphas, coherent=coherent, tiled=tiled, seed=seed
    )


def _split(result):
    """The fields' patterns of NaN, +∞ and −∞, and the result with those entries set to 0."""
    patterns, finite = {}, {}
    for name, stat in result.items():
        fields = []
        for field, v in zip(stat._fields, stat):
            if v is not None and np.asarray(v).dtype.kind == "f":
                v = np.asarray(v)
                patterns[name, field] = (np.isnan(v), np.isposinf(v), np.isneginf(v))
                v = np.where(np.isfinite(v), v, 0).astype(v.dtype)
            fields.append(v)
        finite[name] = type(stat)(*fields)
    return patterns, finite


def assert_same_statistics_with_infinities(ref, got, exact, tol):
    """assert_same_chunk_statistics where values may be ±∞ or NaN: NaN, +∞ and −∞ in the same entries,
    the finite entries within ``tol`` of the field's scale in ``exact`` (M2's also within the rounding
    of a spread that is zero)."""
    ref_patterns, ref_finite = _split(ref)
    got_patterns, got_finite = _split(got)
    for key, pattern in ref_patterns.items():
        for kind, a, g in zip(("NaN", "+inf", "-inf"), pattern, got_patterns[key]):
            np.testing.assert_array_equal(g, a, err_msg=f"{key}: {kind}")
    for name, stat in got_finite.items():
        # a quantity equal in every configuration (a cold reservoir's ΔU, D_α at θ = 0): its M2 is rounding
        # in both programs, n (ε |x|)² each; M2's within n (4ε max|mean|)² of each other count as equal
        if type(stat).__name__ == "Moments" and stat.m2 is not None:
            a = ref_finite[name].m2
            mean = np.abs(np.asarray(ref_finite[name].mean))
            with np.errstate(over="ignore"):
                floor = np.max(np.asarray(stat.n)) * (4 * np.finfo(a.dtype).eps * np.max(mean, initial=0.0)) ** 2
            if np.isfinite(floor):
                equal = (np.abs(a) <= floor) & (np.abs(stat.m2 - a) <= floor)
                got_finite[name] = stat._replace(m2=np.where(equal, a, stat.m2))
    assert_same_chunk_statistics(ref_finite, got_finite, _split(exact)[1], tol)


def _compare(model, rho0, dtype, alphas=ALPHAS, **kw):
    ref = _chunk(model, rho0, dtype, alphas, False, **kw)
    got = _chunk(model, rho0, dtype, alphas, True, **kw)
    exact = ref if dtype == np.float64 else _chunk(model, rho0, np.float64, alphas, False, **kw)
    assert_same_statistics_with_infinities(ref, got, exact, 1e-11 if dtype == np.float64 else 2e-5)
    return ref, got


def _inject(monkeypatch, rules):
    """Make D_α of column j ``value`` where ``lo < p0 < hi``, for each (j, lo, hi, value) of ``rules``, in
    the CPU program and in the kernel alike (both evaluate the qubit closed form
    ``qubit_divergence_columns``): an observable that is ±∞ or NaN in chosen configurations. Only the calls for
    the D_α rows (all of ``ALPHAS``): D_1 of the final states, for the total entropy production, stays finite."""
    original = divergences.qubit_divergence_columns

    def patched(p0, x, y, t0, t1, alphas, **kwargs):
        cols = original(p0, x, y, t0, t1, alphas, **kwargs)
        if tuple(alphas) != tuple(ALPHAS):
            return cols
        for j, lo, hi, value in rules:
            cols[j] = jnp.where((p0 > lo) & (p0 < hi), jnp.asarray(value, p0.dtype), cols[j])
        return cols

    monkeypatch.setattr(divergences, "qubit_divergence_columns", patched)
    monkeypatch.setattr(tile_kernel, "qubit_divergence_columns", patched)


def _deltas(model, b, n_steps):
    """The δ's (B, N) of the chunk's configurations 0…b − 1 (the engine's sampler, seed 2)."""
    return np.asarray(
        sample_chunk(model.distribution, jax.random.key(2), jnp.arange(b, dtype=jnp.uint32), n_steps, jnp.float64)
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_infinite_and_nan_divergences_give_numpys_means(monkeypatch, dtype):
    """D_α made ±∞ or NaN in chosen configurations (ρ0 with p0 = 0.99, θ = 0 at r = 1, then full
    swaps with δ = ±½): α = ½ +∞ at r = 1 only (every configuration, the shift of r = 1 too), α = 1
    +∞ where δ_r = ½ from r = 2 on, α = 2 +∞ there and −∞ where δ_r = −½, α = ∞ NaN where δ_r = −½.
    The kernel's means are NumPy's of such values (+∞ where some counted value is, NaN for both signs
    or a NaN, else finite), the spreads NaN exactly where the mean is not finite, and every statistic
    as the CPU program's. Before: NaN from r = 1 on for α = ½ (the shift +∞), and for every α after its
    first infinite step (the shift moved to the infinite mean)."""
    b, n_steps = 300, 5
    _inject(
        monkeypatch,
        [
            (0, 0.97, 2.0, np.inf),
            (1, 0.9, 2.0, np.inf),
            (2, 0.9, 2.0, np.inf),
            (2, -1.0, 0.8, -np.inf),
            (3, -1.0, 0.8, np.nan),
        ],
    )
    theta = np.array([0.0] + [np.pi / 2] * (n_steps - 1))
    model = jt.InhomogeneousReservoir(2, 2.0, 1.0, theta, distribution=jt.TwoPoint(0.5))
    rho0 = np.array([[0.99, 0.05], [0.05, 0.01]], complex)
    ref, got = _compare(model, rho0, dtype, b=b, n_steps=n_steps)
    # NumPy: the values of each configuration and step from its δ's, then float64 means
    up = _deltas(model, b, n_steps)[: b - 37] > 0  # (counted configurations, N)
    values = np.zeros(up.shape + (4,))
    values[:, 0, :3] = np.inf
    values[:, 1:, 1] = np.where(up[:, 1:], np.inf, 0.0)
    values[:, 1:, 2] = np.where(up[:, 1:], np.inf, -np.inf)
    values[:, 1:, 3] = np.where(up[:, 1:], 0.0, np.nan)
    with np.errstate(invalid="ignore"):
        want = values.mean(axis=0)
    assert np.isnan(want[1:, 2:]).all() and np.isposinf(want[:, 1]).all()  # both δ's at every step
    mean, m2 = np.asarray(got["divergence"].mean), np.asarray(got["divergence"].m2)
    np.testing.assert_array_equal(np.isnan(mean), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(mean), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(mean), np.isneginf(want))
    np.testing.assert_array_equal(np.isnan(m2), ~np.isfinite(want))


def test_masked_and_padding_configurations_with_infinite_divergences_are_not_counted(monkeypatch):
    """D_α = +∞ where the reservoir's ground population σ(βg0(1 + δ_r)) (the state after a full swap)
    exceeds its value at δ = −0.1: in configurations with some δ_r > −0.1, in the padding of the last
    tile (its 12 configurations draw from zero keys: δ_3 = 0.91) and in the shift of r = 1 (δ = 0).
    Counted only configurations with every δ_r < −0.12: every
    mean and spread finite, as the CPU program's (a masked ∞ entered the kernel's sums as 0·∞ = NaN),
    and the means equal to NumPy's float64 mean of the classical D_α of the counted states' populations
    (τ(δ_r) after a full swap, commuting with τ_S: Petz = sandwiched = classical)."""
    b, n_steps, beta = 500, 3, 2.0
    _inject(monkeypatch, [(j, 1 / (1 + np.exp(-beta * 0.9)), 2.0, np.inf) for j in range(4)])
    model = jt.InhomogeneousReservoir(2, beta, 1.0, np.pi / 2, distribution=jt.Gaussian(0.5))
    deltas = _deltas(model, b, n_steps)
    mask = np.all(deltas < -0.12, axis=1)
    assert 20 <= mask.sum() <= 60 and (deltas > -0.1).any(axis=1).sum() > 400  # +∞ somewhere
    zero = jnp.zeros(1, jnp.uint32)
    assert 0.5 * float(standard_normal_row(zero, zero, jnp.uint32(2))[0]) > -0.1  # the padding's δ_3
    ref, got = _compare(model, COHERENT, np.float64, mask=mask, b=b, n_steps=n_steps)
    mean, m2 = np.asarray(got["divergence"].mean), np.asarray(got["divergence"].m2)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(m2))
    q0 = 1 / (1 + np.exp(-beta * (1 + deltas[mask])))  # (counted configurations, N)
    q, t0 = np.stack([q0, 1 - q0], -1), 1 / (1 + np.exp(-beta))
    t = np.array([t0, 1 - t0])
    want = np.stack(
        [
            np.log(np.sum(q**0.5 * t**0.5, -1)) / -0.5,
            np.sum(q * np.log(q / t), -1),
            np.log(np.sum(q**2 / t, -1)),
            np.log(np.max(q / t, -1)),
        ],
        -1,
    ).mean(axis=0)
    np.testing.assert_allclose(mean, want, rtol=1e-12)


@pytest.mark.parametrize(
    "name, beta, theta, rho0, distribution, dtype",
    [
        ("coherent, cold", "cold", 0.3, COHERENT, jt.Gaussian(0.2), np.float64),
        ("coherent, cold, then full swaps", "cold", [0.3] + [np.pi / 2] * 5, COHERENT, jt.Gaussian(0.2), np.float32),
        ("excited, cold, theta 0", "cold", 0.0, EXCITED, jt.Gaussian(0.2), np.float64),
        ("pure coherent, theta pi/2", 1.0, np.pi / 2, PLUS, jt.Gaussian(0.2), np.float32),
        ("delta = -1 and +1", 2.0, 0.7, COHERENT, jt.TwoPoint(1.0), np.float64),
        ("delta on [-2, 2], g_r < 0", 2.0, 0.7, COHERENT, jt.Uniform(4.0), np.float32),
    ],
)
def test_edge_inputs_give_the_cpu_programs_statistics(name, beta, theta, rho0, distribution, dtype):
    """A cold τ_S (β g0 = 1000, float32 100: e^{−βg0} below the smallest normal number), pure states,
    θ = 0 (nothing moves) and θ = π/2, δ at the distribution's edges (g_r = 0 at δ = −1, g_r < 0
    beyond): every statistic as the CPU program's, ±∞ and NaN in the same places. With a cold τ_S,
    D_α of a coherent ρ or of the excited state is finite through τ_S's log-populations (≈ βg0 p1) in
    both programs (the kernel gave +∞ from the populations, and NaN before ae859ef). Its ΔU and
    cumulative ΔU are the same in almost every configuration and D_α falls by ~10 % per step: the
    kernel's M2 about the previous step's mean was far above the rounding of that spread."""
    beta = COLD[dtype] if beta == "cold" else beta
    theta = np.asarray(theta) if isinstance(theta, list) else theta
    model = jt.InhomogeneousReservoir(2, beta, 1.0, theta, distribution=distribution)
    _compare(model, rho0, dtype)


def test_classical_divergences_of_a_cold_diagonal_state():
    """The classical branch (diagonal ρ0) with a cold τ_S and a warm reservoir: finite through τ_S's
    log-populations, as the CPU program's."""
    model = jt.InhomogeneousReservoir(2, COLD[np.float64], 1.0, 0.5, distribution=jt.Gaussian(0.3))
    _compare(model, np.diag(np.diag(COHERENT)), np.float64, coherent=False)


@pytest.mark.parametrize("dtype, sigma, tol", [(np.float32, 0.01, 5e-3), (np.float64, 1e-4, 1e-6)])
def test_variances_when_the_mean_moves_by_more_than_the_spread(dtype, sigma, tol):
    """A narrow G: the tile's mean of D_α moves between steps by ~10³ (float64: 10⁵) of its spread.
    Each per-step variance of D_α (every α, every step) within ``tol`` of the float64 CPU program's,
    relatively: the float32 values' own rounding, ε|D| against spreads ≥ 10⁻⁵, moves a squared
    deviation by ≲ 10⁻², the sum of 475 of them by ≲ 5·10⁻³ (the CPU program's float32 error is
    5·10⁻⁴ here). Before, the kernel summed (x − K_t)² about the previous step's mean and lost
    ε (K_t − mean)²/spread²: 67 % of D_∞'s variance at r = 2 in float32, 4·10⁻⁷ in float64."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(sigma))
    kw = dict(b=512, n_steps=6)
    exact = _chunk(model, COHERENT, np.float64, ALPHAS, False, **kw)["divergence"]
    got = _chunk(model, COHERENT, dtype, ALPHAS, True, **kw)["divergence"]
    rel = np.abs(np.asarray(got.m2, np.float64) - np.asarray(exact.m2)) / np.asarray(exact.m2)
    assert np.max(rel) <= tol, np.max(rel)


def test_merge_of_central_tile_sums():
    """merge_tiles(central=True): per-tile M2 about each tile's own mean (shifts far from the data and
    from each other, one tile empty) merged about the pooled mean: mean and M2 equal exact sums
    (math.fsum) of all valid data; a tile with a +∞ value makes the mean +∞ and M2 NaN, a tile with
    +∞ and −∞ the mean NaN; the shift stays finite."""
    rng = np.random.default_rng(7)
    n_tile = np.array([128, 77, 0, 128])
    data = [1e3 + 1e-3 * rng.normal(size=(n, 1, 2)) for n in n_tile]  # (configurations, k rows, N steps)
    shifts = [np.full((1, 2), 1e3 + s) for s in (0.3, -2.0, 5.0, 1.1)]

    def sums(data):
        out = []
        for x, k in zip(data, shifts):
            s1 = (x - k).sum(0)
            m = k + s1 / max(len(x), 1)
            out.append(np.concatenate([k, s1, ((x - m) ** 2).sum(0)]))
        return np.stack(out)

    def merged(data):
        with np.errstate(invalid="ignore"):
            packed = tile_kernel.merge_tiles(jnp.asarray(sums(data)), jnp.asarray(n_tile, jnp.float64), central=True)
        assert np.all(np.isfinite(np.asarray(packed)[:, 0]))
        return moments_from_shifted_sums(jnp.full((2,), n_tile.sum()), packed)

    mean, m2 = merged(data)
    every = np.concatenate(data)[:, 0]
    for r in range(2):
        x = every[:, r]
        exact_mean = math.fsum(x) / len(x)
        exact_m2 = math.fsum((v - exact_mean) ** 2 for v in x)
        assert abs(float(mean[r, 0]) - exact_mean) <= 1e-15 * abs(exact_mean)
        assert abs(float(m2[r, 0]) - exact_m2) <= 1e-9 * exact_m2
    data[1] = data[1].copy()
    data[1][3, 0, 0] = np.inf
    data[3] = data[3].copy()
    data[3][5, 0, 1], data[3][6, 0, 1] = np.inf, -np.inf
    mean, m2 = merged(data)
    assert np.isposinf(mean[0, 0]) and np.isnan(m2[0, 0]) and np.isnan(mean[1, 0]) and np.isnan(m2[1, 0])
