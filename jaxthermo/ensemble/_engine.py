"""The ensemble driver: chunks, sharding over devices and hosts, checkpoints, progress (docs/ensemble.md).

Data flow: (seed, i) → δ_N(i) → model-A kernel on a chunk (``lax.scan`` over collisions, vmap
over configurations, reduced over the chunk) → per-device reductions gathered → merged on the
host in a fixed order (:mod:`._statistics`). The configuration axis of a chunk is split over all
devices of a mesh (``jax.make_mesh``) with ``jax.shard_map``; each device derives its own
configuration indices, so no per-configuration data crosses the host boundary. Under
``jax.distributed`` the mesh spans every process's devices and each host computes its share.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from .._config import config
from .._dtypes import as_state, complex_dtype_for, run_dtype_of
from .._qudit import has_coherences
from .._qutip import as_array
from .._runtime import lapack_splits_batches
from .._validation import (
    check_density_matrix,
    check_finite_temperature,
    check_flag,
    check_numeric,
    check_orders,
    check_positive_int,
    check_real_dtype,
)
from ..inhomogeneous._dynamics import _check_trajectory_coupling as check_trajectory_coupling
from ..inhomogeneous._model import ExactUnitary, InhomogeneousReservoir, check_representable, has_closed_form
from ._files import Checkpoint, check_checkpoint_readable, check_writable, expected_stats, run_identity
from ._files import flatten_stats as flatten_stats
from ._files import unflatten_stats as unflatten_stats
from ._kernel import model_a_chunk, pilot_work_ranges
from ._sampling import MAX_CONFIGS, check_seed, default_draw_dtype
from ._sensitivity import DELTAS, delta_chunk, n_tangents, parameter_names, tangent_stream
from ._statistics import folded_sums, merge, narrow, take, uniform_edges, widen
from ._watchdog import ChunkWatch

AXIS = "configs"
PILOT_CONFIGS = 512
_PILOT_PAIRS = 2**20  # (configuration, collision) pairs the pilot evaluates at once, as a CPU chunk
# default chunk: about this many (configuration, collision) pairs per device (CPU, accelerators)
# (CPU: 2²⁰ is the fastest budget in benchmarks/RESULTS_ensemble.md)
_CHUNK_ELEMENTS = {"cpu": 2**20, "accelerator": 2**28}
_ACCELERATOR_CHUNK_CAP = 2**22
# Coherent states of d ≥ 3 with divergences use a batched LAPACK eigendecomposition. With jaxlib
# 0.10.0–0.11.0 (outside the supported range) 4096 matrices per device on 4 CPU devices stall
# despite the XLA flag set at import (docs/xla_cpu_hangs.md), so there batches stay at ≤ 128 per
# device. Qubits use closed forms (no LAPACK) and are never capped.
_CPU_EIGH_PER_DEVICE = 128


def make_mesh(devices=None):
    """A 1-d mesh named ``"configs"`` over ``devices`` (default: every device of every process)."""
    devices = check_devices(devices)
    return jax.make_mesh((len(devices),), (AXIS,), devices=devices)


def check_devices(devices) -> list:
    """``devices`` as a list of distinct JAX devices (None: all of every process; one device: [it]);
    ``TypeError``/``ValueError`` naming ``devices`` for anything else (an empty list, an integer
    index, a device given twice)."""
    if devices is None:
        return jax.devices()
    if isinstance(devices, jax.Device):
        return [devices]
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise TypeError(f"devices={devices!r}: must be a JAX device or a sequence of them (e.g. jax.devices())")
    devices = list(devices)
    if not devices:
        raise ValueError("devices=[]: no device to run on; pass None for all devices")
    bad = [d for d in devices if not isinstance(d, jax.Device)]
    if bad:
        raise TypeError(
            f"devices: {bad[0]!r} is a {type(bad[0]).__name__}, not a JAX device; pass devices from "
            "jax.devices() (e.g. devices=jax.devices()[:2]), not indices"
        )
    if len(set(devices)) < len(devices):
        raise ValueError(f"devices={devices}: a device is listed twice")
    return devices


def check_run_options(checkpoint, progress, callback, coherent) -> None:
    """Early ``TypeError`` naming the option for a ``checkpoint`` that is not a path, a ``progress``
    or ``coherent`` that is not a bool (``coherent="no"`` was truthy: the quantum divergences), or a
    ``callback`` that is not callable (it failed only after the first chunk had been computed)."""
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint={checkpoint!r}: must be a path (str or os.PathLike) or None")
    check_flag(progress, "progress")
    check_flag(coherent, "coherent", none_ok=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r}: must be callable as callback(chunk_index, n_configs_done) or None")


# default per-device chunk sizes are multiples of this: XLA's CPU backend splits large loops over the
# cores, and a loop whose length the split does not divide ran its vectorised arithmetic ×1.3–4
# slower (benchmarks/RESULTS_ensemble.md)
_ALIGN = 64


def _align_down(n: int) -> int:
    return n - n % _ALIGN if n >= _ALIGN else n


def _align_up(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN if n >= _ALIGN else n


def default_chunk_size(
    n_steps: int, n_devices: int, n_grid: int = 1, platform: str = "cpu", memory_bytes: int | None = None
) -> int:
    """Configurations per chunk: about 10⁶ (configuration, collision) pairs per CPU device; per
    accelerator ``memory_bytes // 32`` pairs (a chunk's δ draws and their uniform numbers are held on
    the device, at most 16 bytes per pair: half the memory XLA may use), 2.7·10⁸ where that is
    unknown, at most 2²² configurations; per device a multiple of 64 where it is at least 64.

    The CPU budget and cap avoid a slow chunk size of the XLA CPU program; on a GPU every collision
    step is a sequence of kernel launches whose fixed cost the chunk amortises (an H200 ran the same
    program ×4.2 faster with 2²² configurations per chunk than with 2.7·10⁵;
    benchmarks/RESULTS_ensemble.md). The chunk size changes no result beyond rounding.
    """
    if platform == "cpu":
        budget, cap = _CHUNK_ELEMENTS["cpu"], 65536
    else:
        budget, cap = (memory_bytes // 32 if memory_bytes else _CHUNK_ELEMENTS["accelerator"]), _ACCELERATOR_CHUNK_CAP
    per_device = _align_down(max(1, min(cap, budget // max(1, n_steps * n_grid))))
    return per_device * n_devices


def device_memory_bytes(device) -> int | None:
    """The memory XLA may allocate on ``device`` (``memory_stats()['bytes_limit']``), None if unknown."""
    try:
        return (device.memory_stats() or {}).get("bytes_limit")
    except Exception:
        return None


def host_memory_bytes() -> int | None:
    """The machine's physical memory in bytes (``sysconf``), None if unknown."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


_OUTPUT_BYTES: dict = {}


def check_memory(
    run_chunk,
    stacked,
    rho0,
    seed_key,
    n_steps,
    chunk_size,
    width,
    draw_dtype,
    rdt,
    bins,
    memory,
    edge_copies=1,
    host=True,
    draws=True,
):
    """``ValueError`` naming ``n_steps`` (or the histogram bins, where they are most of it) when a lower bound
    on the run's memory exceeds ``memory`` (the host's on CPU, a device's on accelerators; on accelerators
    the host's too, with ``draws=False``: it receives every chunk's statistics): the per-collision
    statistics of one chunk's output (from its shapes), the chunk's δ draws and the pilot's (``draws``),
    and per bin the edges (``edge_copies``: the host's and each CPU device's) and, on the host, the merged
    int64 counts.
    N = 2³² collisions killed the process with SIGFPE, N = 10⁸ failed in XLA after the pilot's compile
    (1.6 TB); ``work_bins=10**9`` passed with 16 GB of counts on a 23 GB host and the edges then exhausted
    its memory (the process was killed)."""
    if memory is None:
        return
    i64 = jax.ShapeDtypeStruct((), jnp.int64)
    grid = jax.tree.leaves(stacked)[0].shape[0]
    key = (run_chunk, grid, bins, str(rdt), jax.tree.structure(stacked), str(jax.tree.map(np.shape, rho0)))
    if key not in _OUTPUT_BYTES:  # traced once per compiled chunk: a call's overhead stays < 1 ms
        edges = [jax.ShapeDtypeStruct((grid, b + 1), rdt) for b in bins]
        out = jax.eval_shape(run_chunk, stacked, rho0, seed_key, i64, i64, *edges)
        sizes = [
            (jax.tree_util.keystr(p), x.size * x.dtype.itemsize) for p, x in jax.tree_util.tree_leaves_with_path(out)
        ]
        _OUTPUT_BYTES[key] = (sum(b for _, b in sizes), sum(b for p, b in sizes if "histogram" in p))
    output, histogram_output = _OUTPUT_BYTES[key]
    draw_bytes = (chunk_size * width + pilot_batch(n_steps, grid) * grid) * n_steps * np.dtype(draw_dtype).itemsize
    histograms = sum(b + 2 for b in bins) * grid * (edge_copies * np.dtype(rdt).itemsize + (8 if host else 0))
    need = output + (draw_bytes if draws else 0) + histograms
    where = "" if draws or not host else " on the host"
    if need > memory:
        if 2 * (histograms + histogram_output) > need:
            raise ValueError(
                f"work_bins={bins[0]}, collision_work_bins={bins[1]}: the histograms need at least "
                f"{(histograms + histogram_output) / 2**30:.3g} GiB (the run {need / 2**30:.3g} GiB) but "
                f"{memory / 2**30:.3g} GiB is available{where}; use fewer bins"
            )
        raise ValueError(
            f"n_steps={n_steps}: the run needs at least {need / 2**30:.3g} GiB{where} ({need / n_steps:.0f} bytes "
            f"per collision: per-collision statistics{' and δ draws' if draws else ''}) but "
            f"{memory / 2**30:.3g} GiB is available; run fewer collisions"
        )


def balanced_per_device(n_configs: int, per_device: int, n_devices: int) -> int:
    """Even chunks: as many chunks as ``per_device`` needs for ``n_configs``, each the least multiple of a
    step that covers them (step: 64 for one chunk; for several ``per_device // 64`` rounded down to a
    multiple of 64, at least 64; no rounding below 64 configurations per device); e.g. 5·10⁴
    configurations in chunks of 20 970 computed 62 910, even chunks 50 688.

    No longer the engine's default chunking (benchmarks use it to size a chunk): its chunk size depended
    on n_configs, so every size of a study over n_configs compiled its own chunk program (≈ 2 s each
    for the qubit default call, against ≈ 0.03 s to run one default chunk); a run of several chunks now
    runs them all at the default size (:func:`run_grid`, docs/ensemble.md §1)."""
    n_chunks = -(-n_configs // (per_device * n_devices))
    need = -(-n_configs // (n_chunks * n_devices))
    if need < _ALIGN:  # a small run: no padding
        return need
    step = _ALIGN if n_chunks == 1 else max(_ALIGN, _align_down(per_device // 64))
    return min(per_device, -(-need // step) * step)


# a one-chunk run's configurations per device are the least power of this ratio that holds them
_SHAPE_RATIO = 4


def shared_per_device(need: int, per_device: int) -> int:
    """Configurations per device of a run that fits in one default chunk: the least power of 4 that is
    at least ``need`` (1, 4, 16, 64, 256, …; multiples of 64 from 64 on), at most ``per_device``.

    Runs of different sizes then share their compiled chunk program: a convergence study over
    n_configs = 100, 200, 400, … compiled a new program for every size (≈ 3.5 s each for the qubit
    default call on 2 cores, against ≈ 0.1 s for the whole default chunk), now one per power of 4. The
    padding (at most ×4 the configurations, never more than one default chunk) is computed and masked
    out of every statistic; the chunk size changes no result beyond rounding (docs/ensemble.md §1).
    (The same rounding shares :func:`jaxthermo.ensemble_mean`'s programs.)
    """
    size = 1
    while size < need:
        size *= _SHAPE_RATIO
    return min(size, per_device)


# the default stride of the divergences for coherent states of d ≥ 3 (eigenvalues per configuration
# and α: ._small_eigvalsh for 3 ≤ d ≤ 8, LAPACK above)
_GENERIC_COHERENT_STRIDE = 20


def resolve_divergence_every(divergence_every, model, coherent, n_steps):
    """The stride of D_α over collisions: the user's value, or by default 1 (every step) where a
    closed form exists (qubits, diagonal states of any d) and min(20, N) for coherent states of
    d ≥ 3, whose eigenvalues per configuration would otherwise take most of the run time (the
    measurements behind the choice: benchmarks/RESULTS_ensemble.md). A stride k ≥ N reports r = N only, as
    k = N does: it is taken as N, so that the two are one run (a checkpoint of k = 50 at N = 5 refused the
    resume with k = 5 as "a different run")."""
    if divergence_every is None:
        return 1 if (not coherent or model.d == 2) else min(_GENERIC_COHERENT_STRIDE, int(n_steps))
    return min(check_positive_int(divergence_every, "divergence_every"), int(n_steps))


def stack_models(models, dtype):
    """Stack models with identical static fields into one with a leading grid axis; real leaves
    are cast to ``dtype`` (so a float32 run has no float64 parameter)."""

    def leaf(*xs):
        arrs = [np.asarray(x) for x in xs]
        if all(np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer) for a in arrs):
            return jnp.stack([jnp.asarray(a, dtype) for a in arrs])
        return jnp.stack([jnp.asarray(a) for a in arrs])

    return jax.tree.map(leaf, *models)


def _gather_to_host(tree):
    """Host NumPy copy of per-device outputs sharded along their first axis (every process gets
    every device's entry; across processes through ``process_allgather``)."""

    def get(x):
        if x is None:
            return None
        if x.is_fully_addressable:
            return np.asarray(x)
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(get, tree, is_leaf=lambda x: x is None)


def _leaf_bytes(tree):
    h = hashlib.sha256()
    leaves, treedef = jax.tree.flatten(tree)
    h.update(str(treedef).encode())
    for leaf in leaves:
        arr = np.asarray(leaf)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes())
    return h.hexdigest()


# configuration i's δ come from fold_in(key(seed), i) with JAX's threefry and its partitionable counter
# layout (JAX's defaults), whatever jax_default_prng_impl and jax_threefry_partitionable say: with
# "rbg"/"unsafe_rbg" keys the draws of a vmapped chunk depended on the chunk's size and the device count
# (mean W_N of 37 configurations 0.00255, 0.00202, 0.00228 for chunks of 1, 5, 64), and a checkpoint
# resumed under the other counter layout continued with another random stream (docs/ensemble.md §1)
PRNG_IMPL = "threefry2x32"


def seed_key_of(seed):
    """The run's key ``jax.random.key(seed)`` of JAX's default implementation, threefry2x32, whatever
    ``jax_default_prng_impl`` is (run the draws under ``jax.threefry_partitionable(True)``). An integer seed
    in [−2⁶³, 2⁶³) gives the key data (high, low 32 bits of its 64-bit two's complement), as
    ``jax.random.key`` does with x64 on, also with x64 off, where ``jax.random.key`` kept the low 32 bits
    only: seeds 0 and 2³², −1 and 2³² − 1, 5 and 2⁴⁰ + 5 ran the same configurations."""
    if isinstance(seed, jax.Array):  # a traced seed (ensemble_mean's program)
        if seed.dtype.itemsize < 8 and jnp.issubdtype(seed.dtype, jnp.signedinteger):  # x64 off: sign-extended
            hi = jnp.where(seed < 0, jnp.uint32(0xFFFFFFFF), jnp.uint32(0))
            return jax.random.wrap_key_data(jnp.stack([hi, seed.astype(jnp.uint32)]), impl=PRNG_IMPL)
        return jax.random.key(seed, impl=PRNG_IMPL)
    bits = int(seed) % 2**64
    return jax.random.wrap_key_data(np.array([bits >> 32, bits & 0xFFFFFFFF], np.uint32), impl=PRNG_IMPL)


def check_model(model, caller: str = "the ensemble", need_distribution: bool = True) -> None:
    """A model A (with its law G(δ) unless ``need_distribution`` is False): a model B or C was told to set
    ``model.distribution`` (``jt.ensemble``, ``ensemble_mean``) or failed with an AttributeError (``jt.sweep``,
    ``frozen_ensemble_mean``)."""
    if not isinstance(model, InhomogeneousReservoir):
        raise TypeError(
            f"model: {caller} runs model A, a jt.InhomogeneousReservoir with a distribution; got {type(model).__name__}"
        )
    if need_distribution and getattr(model, "distribution", None) is None:
        raise ValueError(f"model.distribution: {caller} needs the law G(δ), e.g. distribution=Gaussian(0.05)")


def _check_inputs(model, rho0, n_steps, n_configs):
    check_model(model, "the ensemble engine")
    check_density_matrix(rho0, "rho0", dim=model.d)
    if np.shape(rho0) != (model.d, model.d):  # one initial state: the configurations are the ensemble
        raise ValueError(
            f"rho0 must be one state of shape ({model.d}, {model.d}); got {np.shape(rho0)}: run one ensemble per state"
        )
    check_positive_int(n_steps, "n_steps")
    check_positive_int(n_configs, "n_configs")
    if n_configs > MAX_CONFIGS:
        raise ValueError(f"n_configs={n_configs}: at most 2**32 configurations per seed")
    theta = np.asarray(model.theta)
    if theta.ndim > 1 or (theta.ndim == 1 and theta.shape[-1] != n_steps):
        raise ValueError(f"theta must be a scalar or a schedule of shape ({n_steps},); got {theta.shape}")
    _probe_user_coupling(model, theta)


# a user's coupling is probed at up to this many angles of the schedule × (δ = 0 and this many draws of the law)
_PROBE_ANGLES = 16
_PROBE_DRAWS = 16


def _probe_user_coupling(model, theta) -> None:
    """A user's :class:`~jaxthermo.Coupling`: its U at up to 16 angles of the schedule and 17 δ (0 and 16 draws
    of the law, key 0; float32) must be unitary, else ``ValueError`` naming ``<Coupling>.unitary`` (a coupling returning
    2U ran without a word: mean heat −7.7 after 5 collisions for −0.0075). The built-in couplings are skipped.
    A probe, not a proof: the run's own δ are drawn inside the compiled program."""
    if has_closed_form(model.coupling) or type(model.coupling) is ExactUnitary:
        return
    angles = np.unique(np.ravel(theta))
    angles = angles[np.linspace(0, angles.size - 1, min(angles.size, _PROBE_ANGLES)).astype(int)]
    rdt = np.dtype(np.float32)  # float32's tolerance (~5e-5): a user's U in either precision passes, 2U does not
    draws = np.asarray(model.distribution.sample(jax.random.key(0), (_PROBE_DRAWS,), rdt))
    deltas = np.concatenate([np.zeros(1, rdt), draws])
    thetas, deltas = (np.ravel(a).astype(rdt) for a in np.meshgrid(angles, deltas))
    check_trajectory_coupling(model, jnp.asarray(deltas), jnp.asarray(thetas), "a probe of the run's collisions")


def check_grid_inputs(models, rho0, n_steps, n_configs):
    """Check every model of a grid with ρ0, N and the number of configurations (ValueError naming the
    field); returns ρ0 as an array (a QuTiP Qobj converted). ``rho0``: one state (d, d) for every point,
    or one per point (grid, d, d) of a grid of several points (``jt.ensemble`` refuses a stack of states).
    A sweep checks all its grid points before it runs any (:func:`jaxthermo.sweep`)."""
    rho0 = as_array(rho0, "rho0")
    per_point = len(models) > 1 and np.ndim(rho0) == 3 and len(rho0) == len(models)
    for g, m in enumerate(models):
        _check_inputs(m, rho0[g] if per_point else rho0, n_steps, n_configs)
    return rho0


def _edges_from_range(lo, hi, n_bins, dtype, bins_name="n_bins"):
    lo, hi = float(lo), float(hi)
    span = hi - lo
    pad = 0.05 * span if span > 0 else max(1e-12, 1e-6 * abs(lo))
    return uniform_edges(lo - pad, hi + pad, n_bins, dtype, bins_name=bins_name)


def run_grid(
    models,
    rho0,
    n_steps,
    n_configs,
    seed=0,
    *,
    alphas=(1.0, float("inf")),
    work_bins=64,
    collision_work_bins=64,
    work_range=None,
    collision_work_range=None,
    chunk_size=None,
    devices=None,
    dtype=None,
    coherent=None,
    draw_dtype=None,
    checkpoint=None,
    progress=False,
    callback=None,
    divergence_every=None,
    wrt=(),
    rho0_tangents=None,
    verify_checkpoint=False,
):
    """Run the chunked, sharded ensemble for a list of models (a grid) at once.

    All models share static fields (d, kind, coupling type, distribution type) and ``n_steps``;
    they are stacked along a leading grid axis and vmapped, so the grid is one computation.
    Returns ``(stats, info)``: merged reductions with a leading grid axis, and run metadata.
    ``rho0``: one initial state (d, d), or one per grid point (grid, d, d) (a sweep over β from each
    point's thermal state: one batch all the same). ``wrt``: parameter names whose tangents are streamed
    too (:mod:`._sensitivity`); ``rho0_tangents`` (grid, P, d, d): ∂ρ0 of each grid point along them,
    where ρ0 moves with the parameters (:func:`~._sensitivity.initial_state`), else None (ρ0 held fixed).
    ``verify_checkpoint=True``: only compare ``checkpoint`` with this run (``CheckpointMismatch`` naming what
    differs) and return None, running nothing beyond the pilot that sets the histogram edges.
    """
    models = list(models)
    rho0 = check_grid_inputs(models, rho0, n_steps, n_configs)
    check_run_options(checkpoint, progress, callback, coherent)
    if checkpoint is not None and jax.process_index() == 0:
        check_writable(checkpoint, "checkpoint")  # before any computation
    if checkpoint is not None:  # a damaged file, named before the pilot run that sets the histogram edges
        _load_on_process_zero(partial(check_checkpoint_readable, os.fspath(checkpoint)))
    n_steps, n_configs = int(n_steps), int(n_configs)
    seed = check_seed(seed)
    check_real_dtype(dtype, "dtype")
    check_real_dtype(draw_dtype, "draw_dtype")
    rdt = jnp.dtype(dtype or run_dtype_of(rho0))
    for m in models:  # in the run's precision and N: a float32 run of Gaussian(1e39) was NaN throughout
        check_representable(m, rdt, n_steps)
    draw_dtype = jnp.dtype(draw_dtype or default_draw_dtype())
    rho0 = as_state(np.asarray(rho0), complex_dtype_for(rdt))
    if rho0_tangents is not None:  # (grid, P, d, d), in the run's precision
        rho0_tangents = jnp.asarray(np.asarray(rho0_tangents), complex_dtype_for(rdt))
        if rho0_tangents.shape != (len(models), n_tangents(models[0], wrt)) + rho0.shape[-2:]:
            raise ValueError(f"rho0_tangents: shape {rho0_tangents.shape}, not (grid, parameters, d, d)")
    if coherent is None:  # quantum divergences where any point's ρ0 has coherences (equal to the classical elsewhere)
        coherent = any(has_coherences(r) for r in np.asarray(rho0).reshape((-1,) + rho0.shape[-2:]))
    coherent = bool(coherent)
    if np.ndim(alphas) > 1:  # [[1, 2], [3, 0.5]] ran as four orders, flattened
        raise ValueError(f"alphas: a Rényi order or a 1-d sequence of them; got shape {np.shape(alphas)}")
    alphas = check_orders(alphas)
    if coherent and any(a < 0 for a in alphas):  # was a traceback from inside the traced chunk
        raise ValueError(
            f"alphas={alphas}: rho0 has coherences, and the quantum (Petz) Rényi divergence is implemented "
            "for alpha >= 0; negative orders apply to a diagonal rho0 only"
        )
    if alphas and DELTAS in tuple(wrt or ()):  # dsens_free_energy = ∂D_α/∂δ / β
        for m in models:
            check_finite_temperature(m.beta, "model.beta")
    divergence_every = resolve_divergence_every(divergence_every, models[0], coherent, n_steps)
    mesh = make_mesh(devices)
    n_dev = mesh.devices.size
    grid = len(models)
    platform = mesh.devices.flat[0].platform
    wrt = tuple(wrt or ())
    balance = chunk_size is None
    # with wrt, the chunk holds the δ tangents too: one budget per tangent
    width = 1 + (n_tangents(models[0], wrt) + (DELTAS in wrt) if wrt else 0)
    memory = host_memory_bytes() if platform == "cpu" else device_memory_bytes(mesh.devices.flat[0])
    if chunk_size is None:
        chunk_size = default_chunk_size(n_steps, n_dev, grid * width, platform, memory)
    else:
        chunk_size = check_positive_int(chunk_size, "chunk_size")
    per_device = -(-chunk_size // n_dev)
    if lapack_splits_batches and coherent and alphas and models[0].d > 2 and platform == "cpu" and n_dev > 1:
        per_device = min(per_device, _CPU_EIGH_PER_DEVICE)
    if not balance:  # never pad beyond n_configs (but to a multiple of 64 per device: see _ALIGN)
        per_device = _align_up(min(per_device, -(-n_configs // n_dev)))
    elif n_configs <= per_device * n_dev:  # one chunk: the least power of 4 per device that holds it
        per_device = shared_per_device(-(-n_configs // n_dev), per_device)
    # more: every chunk of the default size, the last one's padding masked, so that runs of any size share
    # one chunk program (docs/ensemble.md §1)
    chunk_size = per_device * n_dev
    if not jax.config.jax_enable_x64 and -(-n_configs // chunk_size) * chunk_size >= 2**31:
        # int32 indices: n ≥ 2³¹ failed after the pilot; a last chunk reaching 2³¹ wrapped its padding to
        # negative indices, below n_configs, counted as configurations
        raise ValueError(
            f"n_configs={n_configs}: with jax_enable_x64 off the configuration indices are int32, so a run "
            f"in chunks of {chunk_size} holds fewer than {2**31 // chunk_size * chunk_size}; turn x64 on "
            "(importing jaxthermo does) or split the run over seeds"
        )
    stacked = stack_models(models, rdt)
    seed_key = seed_key_of(seed)
    run_chunk = _compiled_chunk(
        mesh, per_device, n_steps, alphas, coherent, draw_dtype, wrt, divergence_every, rho0_tangents is not None
    )
    # the chunk program's initial state: ρ0, with ∂ρ0 of every grid point where it moves with the parameters
    initial = rho0 if rho0_tangents is None else (rho0, rho0_tangents)
    bins = (check_positive_int(work_bins, "work_bins"), check_positive_int(collision_work_bins, "collision_work_bins"))

    # inputs were checked above; the kernels' δ come from a validated law: no run-time checks inside
    with jax.default_matmul_precision("highest"), config.override(validate="eager"), jax.threefry_partitionable(True):
        # in the kernels' context: the shapes' trace is the one the chunk's call reuses
        on_cpu = platform == "cpu"  # CPU devices share the host's memory: the edges once per device, and the host's
        args = (run_chunk, stacked, initial, seed_key, n_steps, chunk_size, grid * width, draw_dtype, rdt, bins)
        check_memory(*args, memory, edge_copies=n_dev + 1 if on_cpu else 1, host=on_cpu)
        if platform != "cpu":  # every chunk's statistics come to the host and are merged there
            check_memory(*args, host_memory_bytes(), draws=False)
        work_edges, collision_edges = _histogram_edges(
            stacked,
            rho0,
            seed_key,
            n_steps,
            n_configs,
            work_bins,
            collision_work_bins,
            work_range,
            collision_work_range,
            rdt,
            draw_dtype,
        )
        # the run's identity, without its chunking: configuration i is the same for any chunk size
        # and device count (docs/ensemble.md §1), so a checkpoint resumes with other chunks or devices
        run_id = (stacked, rho0, work_edges, collision_edges, n_steps, n_configs, int(seed))
        statistics = (alphas, coherent, str(rdt), str(draw_dtype), divergence_every) + ((wrt,) if wrt else ())
        if rho0_tangents is not None:  # other sensitivities than a run at fixed ρ0
            statistics += (rho0_tangents,)
        # nor the number of configurations: configurations 0…n−1 of a run are those of a longer run (the
        # pilot's edges, from configurations 0…511, are part of the fingerprint), so a checkpoint extends
        fingerprint = _leaf_bytes(run_id[:5] + run_id[6:] + statistics)
        edges = (jnp.asarray(work_edges, rdt), jnp.asarray(collision_edges, rdt))
        with contextlib.ExitStack() as files:
            ckpt, start, stats = None, 0, None
            if checkpoint is not None:  # locked for the whole run; verified against the chunk's output shapes
                ckpt = files.enter_context(
                    Checkpoint(
                        checkpoint,
                        fingerprint,
                        n_configs,
                        chunk_size,
                        legacy_fingerprint=_leaf_bytes(run_id + (chunk_size,) + statistics),
                        sized_fingerprint=_leaf_bytes(run_id + statistics),
                        identity=run_identity(  # what differs, named, when another run's file is found
                            model=stacked,
                            rho0=rho0,
                            work_edges=work_edges,
                            collision_work_edges=collision_edges,
                            n_steps=n_steps,
                            seed=int(seed),
                            alphas=alphas,
                            coherent=coherent,
                            dtype=str(rdt),
                            draw_dtype=str(draw_dtype),
                            divergence_every=divergence_every,
                            wrt=wrt,
                            # the derivatives include ρ0's change (the values are in the fingerprint)
                            **({} if rho0_tangents is None else {"rho0_tangents": "included"}),
                        ),
                        writer=jax.process_index() == 0,
                    )
                )
                i64 = jax.ShapeDtypeStruct((), jnp.int64)
                start, stats = _load_on_process_zero(
                    lambda: ckpt.load(
                        lambda: expected_stats(jax.eval_shape(run_chunk, stacked, initial, seed_key, i64, i64, *edges))
                    )
                )
            if verify_checkpoint:
                return None
            # configurations start… run in chunks numbered from the chunks they count as (rounded up)
            done = -(-start // chunk_size)
            n_left = -(-(n_configs - start) // chunk_size)
            bar = _progress_bar(progress, n_configs, start)
            start_time = time.perf_counter()
            pending = None
            watch = ChunkWatch(done + n_left)

            def collect(pc, out, stats):  # chunk pc merged into stats (float64 accumulators on the host)
                with watch.chunk(pc, first=pc == done):
                    per_dev = _gather_to_host(out)
                for k in range(n_dev):
                    part = take(per_dev, k)
                    stats = widen(part) if stats is None else merge(stats, part)
                finished = min(n_configs, start + (pc - done + 1) * chunk_size)
                if ckpt is not None:
                    ckpt.save(finished, stats)
                return stats, finished

            for j in range(n_left + 1):
                nxt = None
                if j < n_left:  # dispatch chunk j before collecting chunk j − 1 (asynchronous)
                    try:
                        nxt = (
                            done + j,
                            run_chunk(
                                stacked,
                                initial,
                                seed_key,
                                jnp.asarray(start + j * chunk_size, jnp.int64),
                                jnp.asarray(n_configs, jnp.int64),
                                *edges,
                            ),
                        )
                    except Exception:  # e.g. out of device memory at dispatch: chunk j − 1 is still saved
                        if pending is not None and ckpt is not None:
                            with contextlib.suppress(Exception):
                                collect(*pending, stats)
                        raise
                if pending is not None:
                    pc, out = pending
                    stats, finished = collect(pc, out, stats)
                    if bar is not None:
                        bar.update(finished - bar.n)
                    if callback is not None:
                        callback(pc, finished)
                pending = nxt
        if bar is not None:
            bar.close()
    jar = stats.pop("exp_minus_beta_work")  # float64 until the result: its squares overflow float32
    stats = narrow(stats, rdt)  # the run's precision (merged in float64)
    stats["exp_minus_beta_work"] = jar
    info = dict(
        n_steps=n_steps,
        n_configs=n_configs,
        seed=int(seed),
        alphas=np.asarray(alphas),
        chunk_size=chunk_size,
        n_devices=n_dev,
        n_processes=jax.process_count(),
        dtype=str(rdt),
        draw_dtype=str(draw_dtype),
        coherent=coherent,
        work_edges=work_edges,
        collision_work_edges=collision_edges,
        rho0=np.asarray(rho0),
        elapsed_s=time.perf_counter() - start_time,
        chunks_resumed=done,  # in this run's chunk size
        configs_resumed=int(start),  # the configurations the checkpoint held, whatever its chunk size
        divergence_every=divergence_every,
    )
    if rho0_tangents is not None:
        info["rho0_tangents"] = np.asarray(rho0_tangents)
    return stats, info


def _load_on_process_zero(load):
    """``load()`` (configurations done, stats) of the checkpoint, read by process 0 and sent to every other
    process of a ``jax.distributed`` run (``broadcast_one_to_all``). Each process read its own file: hosts
    without a shared filesystem (or one that showed an older file) resumed from different configurations,
    so that the processes ran different chunks under one program and merged a mixture, or waited for each
    other forever. An error of process 0 (a damaged file, another run's) is raised on every process."""
    if jax.process_count() == 1:
        return load()
    import io

    from jax.experimental import multihost_utils

    data, error = b"", None
    if jax.process_index() == 0:
        try:
            start, stats = load()
        except Exception as exc:  # raised below, after the others were told
            error = exc
        else:
            if stats is not None:
                buf = io.BytesIO()
                np.savez(buf, __start__=np.int64(start), **flatten_stats(stats))
                data = buf.getvalue()
    size = int(multihost_utils.broadcast_one_to_all(np.int64(-1 if error is not None else len(data))))
    if error is not None:
        raise error
    if size == -1:
        raise RuntimeError("the checkpoint was refused by process 0 of this jax.distributed run (see its error)")
    if size == 0:
        return 0, None
    payload = np.frombuffer(data, np.uint8) if jax.process_index() == 0 else np.zeros(size, np.uint8)
    payload = np.asarray(multihost_utils.broadcast_one_to_all(payload), np.uint8)
    with np.load(io.BytesIO(payload.tobytes()), allow_pickle=False) as z:
        flat = {k: z[k] for k in z.files}
    return int(flat.pop("__start__")), unflatten_stats(flat)


def _histogram_edges(
    stacked, rho0, seed_key, n_steps, n_configs, work_bins, collision_bins, work_range, collision_range, rdt, draw_dtype
):
    """Fixed edges per grid point, from user ranges or from a pilot of configurations 0…511."""
    grid = jax.tree.leaves(stacked)[0].shape[0]
    work_bins = check_positive_int(work_bins, "work_bins")
    collision_bins = check_positive_int(collision_bins, "collision_work_bins")
    work_range = _checked_range(work_range, "work_range", rdt)
    collision_range = _checked_range(collision_range, "collision_work_range", rdt)
    ranges = None
    if work_range is None or collision_range is None:
        # always 512 indices (one compiled pilot for every n_configs): those ≥ n_configs repeat
        # configuration 0, which leaves the minima and maxima of configurations 0…min(n, 512)−1 as they are
        pilot = jnp.arange(PILOT_CONFIGS, dtype=jnp.uint32)
        pilot = jnp.where(pilot < n_configs, pilot, 0).astype(jnp.uint32)
        fn = _compiled_pilot(n_steps, draw_dtype, grid, per_point=rho0.ndim == 3)
        ranges = np.asarray(fn(stacked, rho0, seed_key, pilot), dtype=np.float64)
    npdt = np.dtype(str(rdt))

    def edges(user, cols, n_bins, names):
        if user is not None:
            return np.stack([uniform_edges(*user, n_bins, npdt, bins_name=names[0], range_name=names[1])] * grid)
        return np.stack(
            [_edges_from_range(ranges[g, cols[0]], ranges[g, cols[1]], n_bins, npdt, names[0]) for g in range(grid)]
        )

    return (
        edges(work_range, (0, 1), work_bins, ("work_bins", "work_range")),
        edges(collision_range, (2, 3), collision_bins, ("collision_work_bins", "collision_work_range")),
    )


def _checked_range(user, name, dtype=np.float64):
    """A histogram range ``(lo, hi)`` of finite reals with hi > lo whose edges the run's ``dtype`` holds
    (|lo|, |hi| and hi − lo at most its largest number), or None (from the pilot). A float32 run with
    work_range=(0, 1e300) had edges [0, inf, inf, …] (19 of 20 W_N counted in a bin of infinite width), one
    with (−3e38, 3e38) finite edges but every W_N of about 0 counted in bin 0 of 64 (hi − lo overflowed in
    the bin index), float64 (−1e308, 1e308) the same with NaN edges."""
    if user is None:
        return None
    check_numeric(user, name)
    values = np.asarray(user, float)
    if values.shape != (2,) or not np.all(np.isfinite(values)) or not values[1] > values[0]:
        raise ValueError(f"{name} must be (lo, hi) with finite lo < hi; got {user}")
    lo, hi = float(values[0]), float(values[1])
    largest = float(np.finfo(np.dtype(str(dtype))).max)
    if max(abs(lo), abs(hi), hi - lo) > largest:  # hi − lo = inf in float64 too
        raise ValueError(
            f"{name}=({lo:.3g}, {hi:.3g}): the histogram's edges overflow {np.dtype(str(dtype)).name} "
            f"(|lo|, |hi| and hi - lo at most {largest:.3g}); give a narrower range"
        )
    return lo, hi


_COMPILED: dict = {}


def pilot_batch(n_steps: int, grid: int) -> int:
    """Pilot configurations evaluated at once: all 512 up to 2²⁰ (configuration, collision) pairs
    over the grid, else the largest power of 2 within that budget (at least 1)."""
    batch = PILOT_CONFIGS
    while batch > 1 and batch * n_steps * grid > _PILOT_PAIRS:
        batch //= 2
    return batch


def _compiled_pilot(n_steps, draw_dtype, grid=1, per_point=False):
    """The pilot of :func:`_histogram_edges`, vmapped over the grid (``per_point``: ρ0 too)."""
    batch = pilot_batch(n_steps, grid)
    key = ("pilot", n_steps, draw_dtype, batch, per_point)
    if key not in _COMPILED:
        kernel = partial(pilot_work_ranges, n_steps=n_steps, draw_dtype=draw_dtype, batch=batch)
        _COMPILED[key] = jax.jit(jax.vmap(kernel, (0, 0 if per_point else None, None, None)))
    return _COMPILED[key]


# benchmarks set this False to measure XLA's scan program on GPUs beside the tile kernel (._tile_kernel)
_TILE_KERNEL = True

# tests set this to run the accelerators' chunk program (plain sums, one shifted reduction per step,
# comparison histograms) on CPU devices, where CI can check it against the CPU program
_GPU_PROGRAM_ON_CPU = False


def _compiled_chunk(
    mesh, per_device, n_steps, alphas, coherent, draw_dtype, wrt=(), divergence_every=1, moving_rho0=False
):
    """The jitted, sharded chunk function (cached per mesh and static arguments); ``moving_rho0``: its
    initial-state argument is (ρ0, ∂ρ0 per grid point) (``run_grid``'s ``rho0_tangents``); ρ0 (d, d), or
    (grid, d, d) one per grid point (traced per shape)."""
    key = (
        tuple(d.id for d in mesh.devices.flat),
        per_device,
        n_steps,
        alphas,
        coherent,
        draw_dtype,
        wrt,
        divergence_every,
        moving_rho0,
        _GPU_PROGRAM_ON_CPU,
        _TILE_KERNEL,
    )
    if key in _COMPILED:
        return _COMPILED[key]
    on_cpu = mesh.devices.flat[0].platform == "cpu" and not _GPU_PROGRAM_ON_CPU
    histogram_method = "scatter" if on_cpu else "compare"
    # qubit chunks as one Pallas kernel on GPUs (._tile_kernel); its interpreter for the GPU program on CPU
    platform = mesh.devices.flat[0].platform
    tile_kernel = {"gpu": "gpu", "cpu": "interpret"}.get(platform) if _TILE_KERNEL and not on_cpu else None

    def local(models, initial, seed_key, start, n_total, work_edges, collision_edges):
        rho0, rho0_tangents = initial if moving_rho0 else (initial, None)
        dev = jax.lax.axis_index(AXIS)
        idx = start + dev.astype(jnp.int64) * per_device + jnp.arange(per_device, dtype=jnp.int64)
        mask = idx < n_total
        kernel = partial(
            model_a_chunk,
            n_steps=n_steps,
            alphas=alphas,
            coherent=coherent,
            draw_dtype=draw_dtype,
            histogram_method=histogram_method,
            divergence_every=divergence_every,
            stacked=not on_cpu,  # one shifted reduction per step (GPU: ×1.45 faster than two passes)
            tile_kernel=tile_kernel,
        )
        stream = partial(
            tangent_stream, names=parameter_names(wrt), n_steps=n_steps, alphas=alphas, draw_dtype=draw_dtype
        )

        def point(model, drho0, rho0, seed_key, indices, mask, work_edges, collision_edges):  # one grid point
            k = kernel
            if parameter_names(wrt):  # one pass: the plain statistics from the primal of the tangent scan
                k = partial(k, tangents=partial(stream, rho0_tangent=drho0))
            if DELTAS in wrt:
                k = partial(
                    _with_sensitivities,
                    k,
                    partial(delta_chunk, n_steps=n_steps, alphas=alphas, coherent=coherent, draw_dtype=draw_dtype),
                )
            return k(model, rho0, seed_key, indices, mask, work_edges, collision_edges)

        idx32 = idx.astype(jnp.uint32)
        with folded_sums(on_cpu):  # traced here: folded sums on CPU, one reduction per sum elsewhere
            if work_edges.shape[0] == 1:  # one grid point: no vmap over a size-1 axis (XLA copies for it)
                first = lambda tree: jax.tree.map(lambda x: x[0], tree)
                out = point(
                    first(models),
                    first(rho0_tangents),
                    rho0[0] if rho0.ndim == 3 else rho0,
                    seed_key,
                    idx32,
                    mask,
                    first(work_edges),
                    first(collision_edges),
                )
                out = jax.tree.map(lambda x: x[None], out)
            else:
                out = jax.vmap(point, (0, 0, 0 if rho0.ndim == 3 else None, None, None, None, 0, 0))(
                    models, rho0_tangents, rho0, seed_key, idx32, mask, work_edges, collision_edges
                )
        return jax.tree.map(lambda x: x[None], out)  # (1, ...) per device → (n_devices, ...) sharded

    # No collective inside the program: each device returns its own reductions and the host
    # gathers them (a cross-device rendezvous inside asynchronously dispatched chunks can
    # deadlock the CPU client's thread pool).
    fn = jax.jit(
        jax.shard_map(local, mesh=mesh, in_specs=P(), out_specs=P(AXIS), check_vma=False),
        out_shardings=NamedSharding(mesh, P(AXIS)),
    )
    _COMPILED[key] = fn
    return fn


def _with_sensitivities(kernel, sensitivity, model, rho0, seed_key, indices, mask, work_edges, collision_edges):
    """The chunk kernel's reductions plus the reverse-mode δ gradients (``"deltas"`` in ``wrt``)."""
    out = kernel(model, rho0, seed_key, indices, mask, work_edges, collision_edges)
    out.update(sensitivity(model, rho0, seed_key, indices, mask, work_edges, collision_edges))
    return out


def _progress_bar(progress, total, initial):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="config", desc="ensemble", unit_scale=True)
