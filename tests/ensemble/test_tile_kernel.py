"""The GPU tile kernel (jaxthermo.ensemble._tile_kernel), checked on CPU: run by Pallas's interpreter
it gives the CPU program's statistics of the same chunk; its draws are the Gaussian's; its merge of
per-tile sums is exact; and it lowers to a Triton kernel for CUDA (no GPU needed to lower)."""

import importlib.util
import math
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import _elementary
from jaxthermo._elementary import standard_normal_columns, standard_normal_row
from jaxthermo.ensemble import _sampling as sampling
from jaxthermo.ensemble import _tile_kernel as tile_kernel
from jaxthermo.ensemble._kernel import model_a_chunk
from jaxthermo.ensemble._statistics import moments_from_shifted_sums
from tests.helpers import assert_same_chunk_statistics, model_a_chunk_run, random_state

ALPHAS = (0.5, 1.0, 2.0, float("inf"))


def _setup(dtype, coherent, schedule, n_steps, distribution=None, kind="hamiltonian"):
    theta = np.linspace(0.05, 0.4, n_steps) if schedule else 0.3
    model = jt.InhomogeneousReservoir(
        2, 1.0, 1.0, theta, kind=kind, distribution=distribution or jt.Gaussian(0.2 if kind == "hamiltonian" else 0.1)
    )
    rho0 = random_state(2, np.random.default_rng(5))
    if not coherent:
        rho0 = np.diag(np.diag(rho0))
    return model, jnp.asarray(rho0, jnp.complex128 if dtype == jnp.float64 else jnp.complex64)


def _chunk(dtype, coherent, schedule, alphas, tiled, distribution=None, b=1000, n_steps=12, kind="hamiltonian"):
    """One chunk of ``b`` configurations (the last 37 masked): the CPU program, or the tile kernel in
    Pallas's interpreter (b = 1000 is no whole number of 128-configuration tiles: padded)."""
    model, rho0 = _setup(dtype, coherent, schedule, n_steps, distribution, kind)
    edges = jnp.linspace(-0.05, 0.05, 65, dtype=dtype)
    mask = jnp.arange(b) < b - 37
    return model_a_chunk_run(model, rho0, edges, mask, n_steps=n_steps, alphas=alphas, coherent=coherent, tiled=tiled)


@pytest.mark.parametrize(
    "dtype, coherent, schedule, alphas, distribution, kind",
    [
        (jnp.float64, True, False, ALPHAS, None, "hamiltonian"),
        (jnp.float64, False, False, ALPHAS, None, "hamiltonian"),
        (jnp.float64, True, True, (1.0, float("inf")), None, "hamiltonian"),
        (jnp.float64, True, False, (), None, "hamiltonian"),
        (jnp.float64, True, False, (1.0,), jt.Uniform(0.4), "hamiltonian"),  # δ read from the chunk's draws
        (jnp.float32, True, False, (1.0, float("inf")), None, "hamiltonian"),
        (jnp.float32, False, True, ALPHAS, None, "hamiltonian"),
        (jnp.float64, True, False, (1.0, float("inf")), None, "temperature"),  # the entropy flow's row
        (jnp.float32, False, False, (1.0,), None, "temperature"),
    ],
)
def test_tile_kernel_equals_cpu_program(dtype, coherent, schedule, alphas, distribution, kind):
    """Every statistic of the chunk — per-step moments of the state, the six energetic quantities (and the
    temperature kind's entropy flow β_r Q_r) and D_α (Petz, Umegaki, sandwiched; classical for diagonal ρ0), the
    histograms, W_N and Q_N to fourth order — from the tile kernel against the CPU program (two passes, folded
    sums): counts identical; floats within 1e-11 (float64) or 2e-5 (float32, against the float64 scale)."""
    ref = _chunk(dtype, coherent, schedule, alphas, False, distribution, kind=kind)
    got = _chunk(dtype, coherent, schedule, alphas, True, distribution, kind=kind)
    exact = (
        ref if dtype == jnp.float64 else _chunk(jnp.float64, coherent, schedule, alphas, False, distribution, kind=kind)
    )
    assert ("entropy_flow" in ref) == (kind == "temperature")
    assert_same_chunk_statistics(ref, got, exact, 1e-11 if dtype == jnp.float64 else 2e-5)


@pytest.mark.parametrize("planes, n_steps", [(3, 12), (4, 17), (5, 14)])
def test_vertical_counters_count_as_the_cpu_program(monkeypatch, planes, n_steps):
    """The histogram's vertical counters (K bit planes holding the counts of 4
    configurations, moved into the counts every (2^K − 1) // 4 steps: 12 = 12 blocks of 1, 17 = 5
    blocks of 3 and a rest of 2, 14 = 2 blocks of 7) count exactly as the CPU program, masked
    configurations excluded; every other statistic as before."""
    monkeypatch.setattr(tile_kernel, "HISTOGRAM_PLANES_FLOAT64", planes)
    ref = _chunk(jnp.float64, True, False, (1.0, float("inf")), False, n_steps=n_steps)
    got = _chunk(jnp.float64, True, False, (1.0, float("inf")), True, n_steps=n_steps)
    assert int(np.sum(got["collision_work_histogram"].counts)) == (1000 - 37) * n_steps
    assert_same_chunk_statistics(ref, got, ref, 1e-11)


@pytest.mark.parametrize(
    "settings, n_steps",
    [
        ({"PIPELINE": True}, 12),  # float64 counts by comparison
        ({"PIPELINE": True, "HISTOGRAM_PLANES_FLOAT64": 4}, 17),  # blocks of 3 steps from step 1, a rest of 1
        ({"PIPELINE": True, "HISTOGRAM_PLANES_FLOAT64": 3}, 1),  # step 0 alone, before and after the loop
        ({"BRANCH_TAILS": False}, 12),
        ({"TILE": 64, "HISTOGRAM_PLANES_FLOAT64": 3}, 14),  # 2 configurations per counter: blocks of 3, a rest
        ({"REGISTER_LIMIT": 128, "PIPELINE": True}, 12),
        ({"SUMS_FIRST": "float64"}, 12),  # float64's tile sums in float32's default order
        ({"SUBTRACTION_KEPT": False}, 12),  # D_1's terms in the CPU program's series form
    ],
)
def test_kernel_variants_give_the_default_kernels_numbers(monkeypatch, settings, n_steps):
    """The tile kernel's variants kept for timing on a GPU (``bench_ensemble_gpu.py --settings``): the
    loop over collisions software-pipelined (step r's collision beside step r − 1's sums), erf⁻¹'s
    tails evaluated for every draw, tiles of 64 configurations. Each gives the CPU program's
    statistics (counts identical, floats to 1e-11) and, where its tiles are the default's, the
    default kernel's numbers to 1e-14 of each field's scale (the same operations on the same values;
    XLA's CPU program of the interpreter contracts some of them differently: 1 ulp); σ = 0.2 draws
    need the tails about 12 times in 12 000 draws."""
    default = _chunk(jnp.float64, True, False, ALPHAS, True, n_steps=n_steps)
    for name, value in settings.items():
        monkeypatch.setattr(tile_kernel, name, value)
    got = _chunk(jnp.float64, True, False, ALPHAS, True, n_steps=n_steps)
    ref = _chunk(jnp.float64, True, False, ALPHAS, False, n_steps=n_steps)
    assert int(np.sum(got["collision_work_histogram"].counts)) == (1000 - 37) * n_steps
    assert_same_chunk_statistics(ref, got, ref, 1e-11)
    if "TILE" not in settings:
        assert_same_chunk_statistics(default, got, ref, 1e-14)


def test_float32_transform_setting_gives_the_cpu_programs_statistics(monkeypatch):
    """``FLOAT32_TRANSFORM`` off (the float32 kernel's δ as float64's erf⁻¹ rounded, ½ ulp from the float64
    draw, where the CPU program and the default kernel transform the same uniforms in float32, within 5 ulp):
    every statistic of a coherent float32 chunk with D_α as the CPU program's, as the default float32 kernel's
    (counts identical, floats to 2e-5 of the float64 scale), and a float64 chunk unchanged by the setting (its
    draws stay float64: the same numbers)."""
    ref = _chunk(jnp.float32, True, False, ALPHAS, False)
    exact = _chunk(jnp.float64, True, False, ALPHAS, False)
    default64 = _chunk(jnp.float64, True, False, ALPHAS, True)
    monkeypatch.setattr(sampling, "FLOAT32_TRANSFORM", False)
    got = _chunk(jnp.float32, True, False, ALPHAS, True)
    assert_same_chunk_statistics(ref, got, exact, 2e-5)
    assert_same_chunk_statistics(default64, _chunk(jnp.float64, True, False, ALPHAS, True), exact, 0.0)


def test_kernel_draws_are_the_gaussian_draws():
    """``standard_normal_row`` for counter r equals row r of ``standard_normal_columns`` (the draws
    of Gaussian.sample_columns) for the same keys; ``keyed_draws`` applies to a Gaussian drawn in
    float64 only (a uniform G and float32 draws read the chunk's draws)."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(9), i))(jnp.arange(300, dtype=jnp.uint32))
    cols = standard_normal_columns(keys, 17, jnp.float64)
    data = jax.random.key_data(keys)
    for r in (0, 1, 8, 16):
        row = jax.jit(standard_normal_row)(data[:, 0], data[:, 1], jnp.uint32(r))
        np.testing.assert_allclose(row, cols[r], rtol=1e-15, atol=1e-15)
    idx = jnp.arange(8, dtype=jnp.uint32)
    key = jax.random.key(1)
    keyed = tile_kernel.keyed_draws(jt.Gaussian(0.3), key, idx, 5, jnp.float64)
    assert keyed is not None and float(keyed.sigma) == 0.3
    assert tile_kernel.keyed_draws(jt.Uniform(0.3), key, idx, 5, jnp.float64) is None
    assert tile_kernel.keyed_draws(jt.Gaussian(0.3), key, idx, 5, jnp.float32) is None


def test_merge_tiles_is_exact():
    """Tiles with their own shifts (far from the data: 10³ against a spread of 1) and counts, one
    empty: merged to tile 0's shift, mean and M2 equal exact sums (math.fsum) of all valid data."""
    rng = np.random.default_rng(4)
    n_tile = np.array([128, 77, 0, 128])
    data = [1e3 + rng.normal(size=(n, 2, 3)) for n in n_tile]  # (configurations, k rows, N steps)
    shifts = [np.full((2, 3), 1e3 + s) for s in (0.3, -2.0, 5.0, 1.1)]
    sums = np.stack(
        [np.concatenate([k, (x - k).sum(0), ((x - k) ** 2).sum(0)]) for x, k in zip(data, shifts)]
    )  # (n_tiles, 3k, N)
    packed = tile_kernel.merge_tiles(jnp.asarray(sums), jnp.asarray(n_tile, jnp.float64))
    mean, m2 = moments_from_shifted_sums(jnp.full((3,), n_tile.sum()), packed)
    every = np.concatenate(data)
    for j in range(2):
        for r in range(3):
            x = every[:, j, r]
            exact_mean = math.fsum(x) / len(x)
            exact_m2 = math.fsum((v - exact_mean) ** 2 for v in x)
            assert abs(float(mean[r, j]) - exact_mean) <= 1e-12 * abs(exact_mean)
            assert abs(float(m2[r, j]) - exact_m2) <= 1e-10 * exact_m2


@pytest.mark.parametrize(
    "dtype, coherent, keyed, planes, settings",
    [
        (jnp.float64, True, True, tile_kernel.HISTOGRAM_PLANES_FLOAT64, {}),
        (jnp.float64, False, True, tile_kernel.HISTOGRAM_PLANES_FLOAT64, {}),
        (jnp.float64, True, True, 10, {}),
        (jnp.float32, True, True, tile_kernel.HISTOGRAM_PLANES, {}),
        (jnp.float32, False, False, 0, {}),
        (jnp.float32, True, True, 6, {}),
        (jnp.float32, True, True, tile_kernel.HISTOGRAM_PLANES, {"PIPELINE": True}),
        (jnp.float32, True, True, tile_kernel.HISTOGRAM_PLANES, {"FLOAT32_TRANSFORM": False}),
        (jnp.float32, True, True, tile_kernel.HISTOGRAM_PLANES, {"SUMS_FIRST": "none"}),
        (jnp.float64, True, True, tile_kernel.HISTOGRAM_PLANES_FLOAT64, {"SUMS_FIRST": "float64"}),
        (jnp.float64, True, True, 0, {"PIPELINE": True, "BRANCH_TAILS": False, "TILE": 64}),
    ],
)
def test_tile_kernel_lowers_to_triton_for_cuda(monkeypatch, dtype, coherent, keyed, planes, settings):
    """The kernel lowers (for the CUDA platform, on this CPU machine) to one Triton custom call:
    every operation it uses has a Triton lowering (a select between two Python-float constants, for
    one, had none: _elementary keeps its constants typed; slices have none), with the histogram's
    vertical counters (300 steps: blocks and a rest) or its comparisons (0 planes; float64's default),
    in the variants timed on a GPU (the loop software-pipelined, erf⁻¹'s tails unbranched, 64-configuration
    tiles), for α = ½, 1, 2, ∞ (Petz/sandwiched or classical). A float64 kernel's Triton module holds no float32
    value: |α| of a weakly typed α was lowered in float32 beside float64 operands (``arith.maxnumf`` of
    f64 and f32), a module Triton refuses, so on a GPU the classical α ∉ {1, ∞} failed."""
    monkeypatch.setattr(tile_kernel, "HISTOGRAM_PLANES" if dtype == jnp.float32 else "HISTOGRAM_PLANES_FLOAT64", planes)
    for name, value in settings.items():  # the kernel's settings, and the draws' (_sampling)
        monkeypatch.setattr(sampling if hasattr(sampling, name) else tile_kernel, name, value)
    text, (module,) = _lowered(dtype, coherent, keyed)
    assert text.count("xla.gpu.triton") == 1
    if dtype == jnp.float64:
        assert "f32" not in module, [line for line in module.splitlines() if "f32" in line][:3]


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_temperature_kind_lowers_to_triton_for_cuda(dtype):
    """The temperature kind's kernel, with its entropy-flow row β(1 + δ_r) Q_r, lowers to one Triton kernel for
    CUDA, float64 without a float32 value."""
    text, (module,) = _lowered(dtype, True, True, kind="temperature")
    assert text.count("xla.gpu.triton") == 1
    if dtype == jnp.float64:
        assert "f32" not in module, [line for line in module.splitlines() if "f32" in line][:3]


def _hooks():
    """benchmarks/pallas_triton_hooks.py (the GPU benchmarks' hooks into Pallas's Triton lowering)."""
    path = Path(__file__).parents[2] / "benchmarks" / "pallas_triton_hooks.py"
    spec = importlib.util.spec_from_file_location("pallas_triton_hooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lowered(dtype, coherent, keyed, n_steps=300, b=1024, kind="hamiltonian"):
    """The tile kernel's chunk lowered for CUDA: the StableHLO text and the Triton modules' texts."""
    model, rho0 = _setup(dtype, coherent, False, n_steps, kind=kind)
    idx = jnp.arange(b, dtype=jnp.uint32)
    if keyed:
        draws = tile_kernel.keyed_draws(model.distribution, jax.random.key(0), idx, n_steps, jnp.float64)
    else:
        draws = jnp.zeros((n_steps, b), dtype)
    edges = jnp.linspace(-0.05, 0.05, 65, dtype=dtype)
    fn = partial(tile_kernel.qubit_chunk, n_steps=n_steps, alphas=ALPHAS, coherent=coherent)
    with _hooks().captured_modules() as modules:
        lowered = jax.jit(fn).trace(model, rho0, draws, idx < b - 5, edges).lower(lowering_platforms=("cuda",))
    return lowered.as_text(), modules


def test_sums_first_orders_the_float32_programs_sums_only(monkeypatch):
    """``SUMS_FIRST`` (default "float32") traces every row's first tile sum before the second sums: the float32
    kernel's Triton module holds its reductions in another order than with the setting off (the statistics are the
    same: test_tile_kernel_equals_cpu_program for the default, test_kernel_variants_give_the_default_kernels_numbers
    for float64 in that order), the float64 module none but the default's."""
    reductions = lambda module: [line.strip()[:40] for line in module.splitlines() if "tt.reduce" in line]
    default = {dt: _lowered(dt, True, True, n_steps=20, b=256)[1][0] for dt in (jnp.float32, jnp.float64)}
    monkeypatch.setattr(tile_kernel, "SUMS_FIRST", "none")
    row_order = {dt: _lowered(dt, True, True, n_steps=20, b=256)[1][0] for dt in (jnp.float32, jnp.float64)}
    assert default[jnp.float64] == row_order[jnp.float64]
    assert default[jnp.float32] != row_order[jnp.float32]
    assert len(reductions(default[jnp.float32])) == len(reductions(row_order[jnp.float32])) > 0


def test_register_limit_reaches_the_triton_module(monkeypatch):
    """``REGISTER_LIMIT`` gives the kernel's Triton module the attribute Triton's ``maxnreg`` option sets
    (``ttg.maxnreg``; ptxas's ``.maxnreg``) in the module XLA receives (the custom call's serialised
    module changes); without it, or for another module, no attribute. The statistics are unchanged
    (interpreter, where registers do not exist: test_kernel_variants_give_the_default_kernels_numbers)."""
    plain_text, (plain,) = _lowered(jnp.float32, True, True, n_steps=20, b=256)
    monkeypatch.setattr(tile_kernel, "REGISTER_LIMIT", 128)
    text, (limited,) = _lowered(jnp.float32, True, True, n_steps=20, b=256)
    assert "ttg.maxnreg = 128 : i32" in limited.splitlines()[0], limited.splitlines()[0]
    assert "maxnreg" not in plain
    assert text != plain_text
    from jax.experimental import pallas as pl

    def other(x_ref, o_ref):
        o_ref[...] = x_ref[...] + 1.0

    with _hooks().captured_modules() as modules:
        shape = jax.ShapeDtypeStruct((128,), jnp.float32)
        params = tile_kernel._compiler_params(1)  # Triton's backend
        call = pl.pallas_call(other, out_shape=shape, name="jaxthermo_qubit_tile_x", compiler_params=params)
        jax.jit(call).trace(jnp.zeros(128, jnp.float32)).lower(lowering_platforms=("cuda",))
    assert "maxnreg" not in modules[0]


@pytest.mark.parametrize("tiled", [True, False])
def test_kernel_logarithms_are_traced_without_divisions(monkeypatch, tiled):
    """The tile kernel traces its float64 logarithms (erf⁻¹'s w, D_α's) inside ``division_free``
    (fewer GPU instructions: benchmarks/RESULTS_ensemble.md); the CPU program keeps the division."""
    seen = []
    reduce64 = _elementary._reduce64  # every float64 logarithm's reduction (log, log_positive, xlogx_gap, erf⁻¹)

    def spy(x):
        seen.append(_elementary._DIVISION_FREE.get())
        return reduce64(x)

    monkeypatch.setattr(_elementary, "_reduce64", spy)
    model, rho0 = _setup(jnp.float64, True, False, 3)
    idx = jnp.arange(256, dtype=jnp.uint32)
    edges = jnp.linspace(-0.05, 0.05, 65)
    kernel = partial(
        model_a_chunk, n_steps=3, alphas=(1.0, float("inf")), coherent=True, stacked=tiled,
        tile_kernel="interpret" if tiled else None,
    )  # fmt: skip
    jax.make_jaxpr(kernel)(model, rho0, jax.random.key(2), idx, idx < 250, edges, edges)
    assert len(seen) >= 4  # the draw's and D_α's three (at least)
    assert all(seen) if tiled else not any(seen)


def test_which_chunks_the_tile_kernel_computes(monkeypatch):
    """The partial swap of a qubit with D_α at every collision; not the exact unitary, other d, a
    stride of the divergences, a negative α, or a classical α inside the α → 1 window of float32;
    none where jax has no Pallas Triton backend (deprecated in jax 0.11.2): XLA's program then."""
    q = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)
    assert tile_kernel.applies(q, ALPHAS, True, 1, jnp.float32)
    assert tile_kernel.applies(q, (), False, 1, jnp.float64)
    assert not tile_kernel.applies(
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, coupling=jt.ExactUnitary()), (1.0,), True, 1, jnp.float64
    )
    assert not tile_kernel.applies(jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.3), (1.0,), True, 1, jnp.float64)
    assert not tile_kernel.applies(q, (1.0,), True, 5, jnp.float64)
    assert not tile_kernel.applies(q, (-1.0,), True, 1, jnp.float64)
    assert tile_kernel.applies(q, (1.0 + 1e-4,), False, 1, jnp.float64)
    assert not tile_kernel.applies(q, (1.0 + 1e-4,), False, 1, jnp.float32)
    assert tile_kernel.available()
    monkeypatch.setattr(tile_kernel, "available", lambda: False)
    assert not tile_kernel.applies(q, ALPHAS, True, 1, jnp.float32)


def test_sweep_through_the_tile_kernel(monkeypatch):
    """A sweep vmaps the chunk over its grid points (θ, σ and β here, so the kernel's draws differ per
    point, and ρ0 too: a function of β, one coherent ρ0 per point): with the accelerators' program forced
    onto the CPU devices (the tile kernel in Pallas's interpreter) every point equals the CPU program's to
    1e-11 of each field's scale, histograms identical; and the vmapped kernel (ρ0 per point) lowers to one
    Triton call for CUDA."""
    import dataclasses

    from jaxthermo.ensemble import _engine as engine
    from jaxthermo.ensemble._engine import stack_models

    model, fixed = _setup(jnp.float64, True, False, 10)
    rho0 = lambda m: (1 - 0.2 * m.beta) * fixed + 0.2 * m.beta * jt.thermal_state(2, m.beta, m.g0)
    grid = {"theta": [0.1, 0.3], "sigma": [0.1, 0.2], "beta": [0.5, 2.0]}
    ref = jt.sweep(model, rho0, 10, 700, grid=grid, seed=5, chunk_size=512)
    monkeypatch.setattr(engine, "_GPU_PROGRAM_ON_CPU", True)
    got = jt.sweep(model, rho0, 10, 700, grid=grid, seed=5, chunk_size=512)
    for a, b in zip(ref.results, got.results, strict=True):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if hasattr(x, "counts"):
                np.testing.assert_array_equal(x.counts, y.counts, err_msg=f.name)
            elif isinstance(x, np.ndarray) and x.dtype.kind in "fc" and x.size:
                ok = np.isfinite(x)
                np.testing.assert_array_equal(ok, np.isfinite(y), err_msg=f.name)
                scale = max(float(np.max(np.abs(x[ok]), initial=0.0)), 1e-300)
                assert np.max(np.abs(x[ok] - y[ok]), initial=0.0) <= 1e-11 * scale, f.name

    assert not np.allclose(got.results[0].mean_state[0], got.results[1].mean_state[0])  # ρ0 differs by β
    models = [dataclasses.replace(model, theta=th, beta=b) for th, b in ((0.1, 0.5), (0.3, 2.0))]
    idx = jnp.arange(256, dtype=jnp.uint32)
    draws = tile_kernel.keyed_draws(model.distribution, jax.random.key(0), idx, 10, jnp.float64)
    edges = jnp.stack([jnp.linspace(-0.05, 0.05, 65)] * 2)
    fn = jax.vmap(
        lambda m, r, e: tile_kernel.qubit_chunk(m, r, draws, idx < 250, e, n_steps=10, alphas=(1.0,), coherent=True)
    )
    states = jnp.stack([rho0(m) for m in models])
    text = jax.jit(fn).trace(stack_models(models, jnp.float64), states, edges)
    text = text.lower(lowering_platforms=("cuda",)).as_text()
    assert text.count("xla.gpu.triton") == 1
