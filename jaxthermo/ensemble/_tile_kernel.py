"""The qubit chunk as one GPU kernel: a tile of configurations kept in registers for all N collisions.

XLA runs the engine's collision scan (:func:`~jaxthermo.ensemble._kernel.model_a_chunk`) as three
to five kernels per collision step, each reading and writing the chunk's state and accumulators
from device memory (on an H200 its qubit program reached ≈ 23 % of the copy bandwidth's floor).
Here one Pallas (Triton) program owns ``tile`` configurations for all N collisions: it draws δ_r
(a Gaussian from each configuration's threefry key, :class:`KeyedGaussian`, else it reads the
chunk's draws), applies the fused partial swap (:func:`~jaxthermo.ensemble._fused.qubit_collision`),
evaluates D_α (:mod:`~jaxthermo.ensemble._divergences`, the same closed forms), reduces the per-step
shifted sums over its tile and counts the single-collision work into the histogram (vertical
counters: a slot is added with bit operations, not compared with every slot), all in registers.
It writes per step its tile's sums and, at the end, W_N and Q_N per configuration.

Per-step moments: each tile sums S1_t = Σ w (x − K_t) over its valid configurations, with its own
shift K_t: at r = 1 the collision of ρ0 with δ = 0 (the homogeneous reservoir), afterwards the
tile's mean at r − 1; and M2_t = Σ w (x − m_t)² about its mean at r, m_t = K_t + S1_t/n_t (the tile's
values are in registers: a second pass over them). Summed about K_t, (x − K_t)² lost ε (K_t − m_t)²
per configuration to the cancellation against S1_t²/n_t, all of M2 where the mean moves by more than
ε^{−1/2} spreads in one step (a narrow G: float32 variances of D_α 67 % off at σ = 0.01).
:func:`merge_tiles` merges the tiles about their pooled mean (Chan, Golub & LeVeque, Am. Stat. 37,
242 (1983)) into the packed ``[K, S1, S2]`` of :func:`~jaxthermo.ensemble._statistics.shifted_sums`,
the CPU program's moments to rounding.

Values that are ±∞ in some configurations give the CPU program's statistics: the mean +∞ (NaN for both signs or a NaN), M2
NaN (docs/ensemble.md §2). The shifts stay finite (0 at r = 1 where the homogeneous value is ±∞, the
last finite one after a step whose mean is not), and D_α of a masked or padding configuration is
selected out rather than weighted by 0 (0·∞ = NaN).

Which runs go here (:func:`applies`): a qubit with the partial swap, D_α after every collision, no
sensitivities; everything else keeps XLA's program. On CPU the kernel runs only in Pallas's
interpreter (tests compare it with the CPU program, and lower it for CUDA without a GPU). Tile,
warps and the draws inside the kernel were chosen on an H200 (benchmarks/RESULTS_ensemble.md).
Variants kept for timing on a GPU, each giving the same statistics (module settings, read when a chunk
is traced): ``PIPELINE`` (step r's collision beside step r − 1's sums), ``BRANCH_TAILS = False``,
another ``TILE``, ``REGISTER_LIMIT`` (registers per thread), ``SUMS_FIRST`` (which dtypes trace every row's first
tile sum before the second ones), ``SUBTRACTION_KEPT = False`` (D_1's terms in the CPU program's series form);
and ``_sampling.FLOAT32_TRANSFORM = False``
(float32 δ as float64's erf⁻¹ rounded, on CPU as here: the same statistics to float32 rounding).
"""

from __future__ import annotations

import contextlib
import functools
import re
import types
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._elementary import division_free, fast_normal_applies, standard_normal_row
from .._information import divergences_to_thermal, log_thermal_populations, subtraction_kept
from .._qudit import thermal_populations
from ..inhomogeneous import Gaussian
from . import _sampling
from ._divergences import classical_divergence_columns, classical_divergences_static, qubit_divergence_columns
from ._fused import qubit_collision, qubit_populations, rare_offset, state_to_qubit, use_fused_qubit_path
from ._quantities import QUANTITIES, entropy_flows, quantities, total_entropy_production
from ._sampling import configuration_key, default_draw_dtype
from ._statistics import bin_index

# configurations and warps per program: the fastest of those measured on an H200 in both float32 and
# float64 (benchmarks/RESULTS_ensemble.md); a tile is a power of two (Triton's block shapes)
TILE, NUM_WARPS = 128, 1
# the single-collision work is counted per program into (32,) groups of histogram slots (a power
# of two: Triton's block shapes; one uint32 word of the vertical counters below; a tuple of groups,
# as Triton concatenates only two arrays)
_GROUP = 32
# Gaussian δ drawn inside the kernel (KeyedGaussian) rather than read from an (N, B) array of draws
KERNEL_DRAWS = True
# erf⁻¹'s tail polynomials of the drawn δ only at steps where one of the tile's draws needs them (a
# branch on the tile's largest w, at 11.6 % of the steps of 128 draws), else for every draw, selected
BRANCH_TAILS = True
# the loop over collisions software-pipelined: step r's collision is computed beside the tile sums of
# step r − 1 (its rows carried one step), two chains independent of each other within one iteration
# for the GPU's scheduler to interleave (the kernel is bound by latency: RESULTS_ensemble.md, session
# 31); the same operations on the same values, the same numbers
PIPELINE = False
# registers per thread the kernel may use at most (ptxas's .maxnreg), None: ptxas's choice (255 for a
# one-warp program, 8 programs per H200 SM; 128: 16). Passed as the Triton module's attribute
# ttg.maxnreg, which Triton's own maxnreg option sets: Pallas has no parameter for it, so the kernel's
# name carries the limit and a wrapper of Pallas's Triton lowering (_install_register_limits) sets it
REGISTER_LIMIT = None
# the dtypes (names joined by "+") whose step sums are traced every row's first sum before any second: the
# rows' shuffle trees then sit side by side in the program and ptxas interleaves them (float32 default, sm_90a:
# one warp's step 6879 → 3543 model cycles, 557.5 → 544.9 instructions per collision; rows one after another,
# each first sum then its second, left it one chain of trees at 255 registers). float64 keeps the row order
# (the other order cost it 35 more spill instructions per step). The same operations on the same values
SUMS_FIRST = "float32"
# D_1's terms in their one-logarithm form (:func:`~jaxthermo._information.subtraction_kept`), exact as Triton
# compiles it; False: the CPU program's series form (float32 model 3.1·10¹⁰ against 5.0·10¹⁰ collisions/s)
SUBTRACTION_KEPT = True
_NAME = "jaxthermo_qubit_tile"
_LIMITED_NAME = re.compile(rf"^{_NAME}_maxnreg(\d+)$")


# how the float32 kernel counts: 0 = at every step each group's (tile, 32) indicators summed over the
# tile (_count; float64's default, below); K > 0 = vertical
# counters: the one-hot words (one uint32 per group) of configurations_per_counter() configurations are added as
# bit-sliced numbers into counters of K bit planes (bit operations only, no comparison with every
# slot), whose counts are moved into the groups every (2^K − 1) // configurations_per_counter() steps. K = 10: the
# fewest instructions per collision of K = 6, 8, 10 compiled for an H100/H200 (sm_90a: 643 against
# 929 with comparisons in float32, 1024 against 1283 in float64, before erf⁻¹'s tails moved to a
# branch; benchmarks/tile_kernel_sass.py, benchmarks/RESULTS_ensemble.md)
HISTOGRAM_PLANES = 10
# float64 counts by comparison (0): its counters' planes of registers pushed the float64 loop to 66
# spill instructions (10 by comparison, though 1172 instructions per collision against 880) and it ran
# 9.7·10⁹ against 1.22·10¹⁰ collisions/s on an H200 (2026-12-04, one run; float32 2.01 against
# 2.06·10¹⁰, no spills either way: it keeps the counters' fewer instructions)
HISTOGRAM_PLANES_FLOAT64 = 0


def configurations_per_counter(tile=None, num_warps=None) -> int:
    """Configurations added into one vertical counter: a thread's share of the tile (4 for 128 × 1 warp)."""
    return max(1, (tile or TILE) // (32 * (num_warps or NUM_WARPS)))


def histogram_planes(dtype) -> int:
    """The bit planes of the vertical counters for a kernel of real ``dtype`` (0: comparisons)."""
    return HISTOGRAM_PLANES if jnp.dtype(dtype) == jnp.float32 else HISTOGRAM_PLANES_FLOAT64


def _count(groups, idx):
    """Add the slots ``idx`` (tile,) int32 (−1: not counted) to the per-group counts ``groups``."""
    return tuple(
        c
        + jnp.sum(idx[:, None] == (g * _GROUP + jnp.arange(_GROUP, dtype=jnp.int32))[None, :], axis=0, dtype=jnp.int32)
        for g, c in enumerate(groups)
    )


def _bit_sum(words):
    """The bitwise sum of a list of uint32 words as bit planes, least significant first (full adders)."""
    planes = []
    while words:
        if len(words) == 1:
            planes.append(words[0])
            break
        carries, level = [], list(words)
        while len(level) > 1:  # add the words of this bit weight pairwise, keep the carries
            a, b = level.pop(), level.pop()
            level.insert(0, a ^ b)
            carries.append(a & b)
        planes.append(level[0])
        words = carries
    return planes


def _full_add(terms):
    """Sum bit and carry of one to three uint32 words of the same weight (bitwise): (sum, carry or None)."""
    if len(terms) == 1:
        return terms[0], None
    if len(terms) == 2:
        return terms[0] ^ terms[1], terms[0] & terms[1]
    a, b, c = terms
    half = a ^ b
    return half ^ c, (a & b) | (c & half)


def _count_planes(planes, idx, per_counter):
    """Add the slots ``idx`` (tile,) int32 (−1: not counted) to the vertical counters ``planes`` (per
    group, K bit planes (tile // per_counter,) uint32, least significant first): the one-hot words
    of each counter's ``per_counter`` configurations, summed as bit planes, added plane by plane with carries."""
    word = (idx >> 5).reshape(-1, per_counter)  # the group; −1 stays −1
    one = jnp.left_shift(jnp.full(word.shape, 1, jnp.uint32), (idx & 31).astype(jnp.uint32).reshape(word.shape))
    column = jax.lax.broadcasted_iota(jnp.int32, word.shape, 1)
    out = []
    for g, bits in enumerate(planes):
        hot = jnp.where(word == g, one, jnp.zeros_like(one))
        per_config = [  # the counter's configurations one by one (Triton lowers no slices)
            jnp.sum(jnp.where(column == j, hot, jnp.zeros_like(hot)), axis=1, dtype=jnp.uint32)
            for j in range(per_counter)
        ]
        addend, carry, new = _bit_sum(per_config), None, []
        for k, b in enumerate(bits):
            terms = [t for t in (b, addend[k] if k < len(addend) else None, carry) if t is not None]
            bit, carry = _full_add(terms)
            new.append(bit)
        out.append(tuple(new))
    return tuple(out)


def _flush_planes(groups, planes):
    """Add the counts held in the vertical counters ``planes`` to the per-group counts ``groups``."""
    shifts = jnp.arange(_GROUP, dtype=jnp.uint32)[None, :]
    out = []
    for c, bits in zip(groups, planes):
        for k, b in enumerate(bits):
            c = c + jnp.sum(((b[:, None] >> shifts) & 1).astype(jnp.int32), axis=0, dtype=jnp.int32) * (1 << k)
        out.append(c)
    return tuple(out)


class KeyedGaussian(NamedTuple):
    """δ of a Gaussian G drawn inside the kernel as it goes (no (N, B) array of draws in memory):
    the threefry key data ``k1, k2`` (B,) uint32 of each configuration and σ (float64), the same
    numbers as :meth:`~jaxthermo.Gaussian.sample_columns` (:func:`~jaxthermo._elementary.standard_normal_row`)."""

    k1: object
    k2: object
    sigma: object


def keyed_draws(distribution, seed_key, indices, n_steps: int, draw_dtype):
    """A :class:`KeyedGaussian` for the chunk's configurations ``indices`` where the kernel can draw
    their δ itself (a :class:`~jaxthermo.Gaussian` drawn in float64 from threefry keys), else None."""
    keys = jax.vmap(lambda i: configuration_key(seed_key, i))(indices)
    if (
        not KERNEL_DRAWS
        or type(distribution) is not Gaussian
        or not fast_normal_applies(keys, (n_steps,), draw_dtype or default_draw_dtype())
    ):
        return None
    data = jax.random.key_data(keys)
    return KeyedGaussian(data[:, 0], data[:, 1], jnp.asarray(distribution.sigma).astype(jnp.float64))


@functools.cache
def available() -> bool:
    """Whether this jax has Pallas's Triton backend, for which the kernel is written (deprecated in jax
    0.11.2, to be removed: without it every chunk keeps XLA's program, the same statistics)."""
    try:
        from jax.experimental.pallas import triton  # noqa: F401
    except ImportError:
        return False
    return True


def applies(model, alphas, coherent, divergence_every, dtype) -> bool:
    """Whether :func:`qubit_chunk` computes this chunk of real dtype ``dtype`` (else XLA's scan
    program does): the partial swap of a qubit, D_α after every collision, α's with closed forms,
    and a jax with Pallas's Triton backend (:func:`available`)."""
    if not available() or not use_fused_qubit_path(model) or divergence_every != 1:
        return False
    if coherent:
        return all(float(a) >= 0 for a in alphas)
    return classical_divergences_static(alphas, dtype)


def _install_register_limits() -> bool:
    """Wrap Pallas's Triton lowering so that a module named ``jaxthermo_qubit_tile_maxnreg<N>`` gets the
    attribute ``ttg.maxnreg = N`` (other modules unchanged), unless the current lowering already does
    (called at each trace: another wrapper may have been installed or removed since). False, with a
    warning, where this jax lowers differently: the kernel then runs with ptxas's choice of registers."""
    try:
        from jax._src.lib.mlir import ir
        from jax._src.pallas.triton import pallas_call_registration as registration

        lower = registration.lowering.lower_jaxpr_to_triton_module
    except (ImportError, AttributeError) as exc:
        warnings.warn(f"REGISTER_LIMIT: this jax's Pallas lowering has changed ({exc!r}); no limit", stacklevel=3)
        return False
    if getattr(lower, "sets_register_limits", False):
        return True

    def lower_with_limit(*args, **kwargs):
        result = lower(*args, **kwargs)
        op = result.module.operation
        match = _LIMITED_NAME.match(ir.StringAttr(op.attributes["sym_name"]).value)
        if match:
            with op.context:
                op.attributes["ttg.maxnreg"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(32), int(match[1]))
        return result

    lower_with_limit.sets_register_limits = True
    registration.lowering.lower_jaxpr_to_triton_module = lower_with_limit
    return True


def _compiler_params(num_warps: int):
    from jax.experimental.pallas import triton as plt

    params = getattr(plt, "CompilerParams", None) or plt.TritonCompilerParams
    return params(num_warps=num_warps, num_stages=1)


def _rows(state, energetics, acc, divergence, flow):
    """The k per-step rows in the order of the stacked program: (u, x, y) (u = p0 − a, ._fused), W, Q, ΔU, their
    cumulative sums, the entropy flow (``flow``: [β_r Q_r] for the temperature kind, else []), D_α
    (``divergence(state)``, a list)."""
    rows = list(state) + [energetics.work, energetics.heat, energetics.energy_change] + list(acc)
    return rows + flow + divergence(state)


def qubit_chunk(
    model,
    rho0,
    draws,
    mask,
    collision_edges,
    *,
    n_steps,
    alphas,
    coherent,
    tile=None,
    num_warps=None,
    interpret=False,
):
    """One chunk of qubit configurations through the tile kernel.

    Args:
      model: qubit :class:`~jaxthermo.InhomogeneousReservoir` with the partial swap (one grid point).
      rho0: (2, 2) initial state; ``draws``: the chunk's δ's, (N, B) in the run's dtype, or a
        :class:`KeyedGaussian` (B,) from which the kernel draws them (either padded to a whole
        number of tiles where B is not one: a copy); ``mask`` (B,) marks the configurations that count.
      collision_edges: (n_bins + 1,) edges of the single-collision work histogram.
      n_steps, alphas, coherent: static, as :func:`~jaxthermo.ensemble._kernel.model_a_chunk`.
      tile, num_warps: configurations and warps per program (static; default the module's ``TILE``
        and ``NUM_WARPS``); ``interpret``: Pallas's interpreter (CPU).

    Returns:
      ``(packed, counts, w_n, q_n, production)``: ``packed`` (N, 3k) as
      :func:`~jaxthermo.ensemble._statistics.shifted_sums` per step, ``counts`` (n_bins + 2,) int32 of the
      single-collision work, W_N, Q_N and ΔS_1 + … + ΔS_N (B,) (from each configuration's final state, written once
      at the end, and for the temperature kind its Σ β_r Q_r, accumulated in the kernel:
      :func:`~jaxthermo.ensemble._quantities.total_entropy_production`).
    """
    from jax.experimental import pallas as pl

    tile, num_warps = tile or TILE, num_warps or NUM_WARPS
    if REGISTER_LIMIT is not None and not interpret:
        _install_register_limits()
    keyed = isinstance(draws, KeyedGaussian)
    b = draws.k1.shape[0] if keyed else draws.shape[1]
    dt = jnp.real(jnp.asarray(rho0)).dtype
    planes, per_counter = histogram_planes(dt), configurations_per_counter(tile, num_warps)
    if 0 < planes and 2**planes - 1 < per_counter:
        raise ValueError(f"histogram planes {planes}: counters of {per_counter} configurations need more planes")
    batch = -(-b // tile) * tile
    pad = lambda a: jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, batch - b)])
    if batch != b:
        draws = KeyedGaussian(pad(draws.k1), pad(draws.k2), draws.sigma) if keyed else pad(draws)
        mask = pad(mask)
    n_tiles = batch // tile
    n_bins = collision_edges.shape[-1] - 1
    n_groups = -(-(n_bins + 2) // _GROUP)
    if keyed:
        draws = KeyedGaussian(draws.k1, draws.k2, draws.sigma.reshape(1))
    kind = model.kind
    theta = jnp.asarray(model.theta).astype(dt)
    schedule = theta.ndim == 1
    beta, g0 = (jnp.asarray(v).astype(dt) for v in (model.beta, model.g0))
    t_pop, log_t = thermal_populations(2, beta, g0), log_thermal_populations(2, beta, g0)  # τ_S for D_α
    offset = rare_offset(model, dt)  # the state carried as (u, x, y), u = p0 − offset (._fused)
    u0, x0, y0 = (v.astype(dt) for v in state_to_qubit(jnp.asarray(rho0), offset))
    params = jnp.stack(
        [
            beta,
            g0,
            t_pop[0],
            t_pop[1],
            log_t[0],
            log_t[1],
            collision_edges[0].astype(dt),
            collision_edges[-1].astype(dt),
            u0,
            x0,
            y0,
            offset,
            theta[0] if schedule else theta,
            jnp.zeros((), dt),  # δ of the homogeneous reservoir (a kernel input: Triton lowers no negated literal)
        ]
    )
    thetas = theta if schedule else theta[None]
    k = 3 + len(quantities(model)) + len(alphas)  # (u, x, y), W, Q, ΔU, their sums [, β_r Q_r], D_α
    n_flows = len(quantities(model)) - len(QUANTITIES)  # the temperature kind's β_r Q_r, accumulated too
    k_div = k - len(alphas)  # the first D_α row
    weights = mask.astype(dt)

    def kernel(*refs):
        t = pl.program_id(0)
        (theta_ref, par_ref, edges_ref, mask_ref, sums_ref, ends_ref, hist_ref), draw_refs = refs[-7:], refs[:-7]
        if keyed:  # δ_r = σ √2 erf⁻¹(u_r), u_r from the threefry hash of counter r
            k1, k2, sigma = draw_refs[0][pl.ds(t * tile, tile)], draw_refs[1][pl.ds(t * tile, tile)], draw_refs[2][0]
            # the transform's dtype: float32 as the CPU program's (_sampling.transforms_in_float32: ≈ 60 float64
            # instructions per draw fewer than float64's erf⁻¹ rounded)
            arith = dt if _sampling.transforms_in_float32(dt) else jnp.float64
            sigma = sigma.astype(arith)
            draw = lambda r: (sigma * standard_normal_row(k1, k2, r.astype(jnp.uint32), BRANCH_TAILS, arith)).astype(dt)
        else:
            draw = lambda r: draw_refs[0][r, pl.ds(t * tile, tile)]
        beta, g0, t0, t1, log_t0, log_t1, lo, hi, u, x, y, offset, theta0, delta0 = (par_ref[j] for j in range(14))
        m = types.SimpleNamespace(kind=kind, beta=beta, g0=g0)
        w = mask_ref[pl.ds(t * tile, tile)]  # 0/1 weights
        valid = w > 0
        inv_n = 1.0 / jnp.maximum(jnp.sum(w), 1.0)  # the shifts move by S1 / n_t: one division per tile

        def divergence(st):
            return _divergence_columns(st, offset, (t0, t1), (log_t0, log_t1), alphas, coherent) if alphas else []

        # shift of r = 1: ρ0 after a collision with δ = 0 (scalars); 0 where that is ±∞ or NaN (∞ − ∞ in
        # every deviation)
        st1, e1 = qubit_collision(m, (u, x, y), delta0, theta0, offset)
        shift0 = tuple(
            jnp.where(jnp.isfinite(v), v, jnp.zeros_like(v))
            for v in _rows(st1, e1, (e1.work, e1.heat, e1.energy_change), divergence, entropy_flows(m, delta0, e1.heat))
        )
        zeros = jnp.zeros((tile,), dt)
        state0 = (zeros + u, zeros + x, zeros + y)

        def collide(r, state, acc, flow_acc, hist, count):
            """Collision r: the tile's rows (_rows), the temperature kind's Σ β_r Q_r (``flow_acc``: a tuple of one
            row, empty for the Hamiltonian kind) and its work counted into ``hist``."""
            delta = draw(r)
            th = theta_ref[r] if schedule else theta0
            state, e = qubit_collision(m, state, delta, th, offset)
            acc = (acc[0] + e.work, acc[1] + e.heat, acc[2] + e.energy_change)
            flow = entropy_flows(m, delta, e.heat)
            flow_acc = tuple(a + f for a, f in zip(flow_acc, flow))
            idx = jnp.where(valid, bin_index(e.work, lo, hi, n_bins, edges_ref), -1)
            return tuple(_rows(state, e, acc, divergence, flow)), flow_acc, count(hist, idx)

        sums_first = jnp.dtype(dt).name in SUMS_FIRST.split("+")

        def reduce(r, rows, shift):
            """The tile's sums of step r's ``rows`` about the shifts ``shift`` (written), the next shifts."""
            new_shift = []
            # D_α (rows k_div…) may be ±∞ or NaN in some configurations: a masked configuration's is
            # selected out (0·∞ = NaN); the other rows are finite, weighted
            deviation = lambda j, row, kj: (
                jnp.where(valid, row - kj, jnp.zeros_like(row)) if j >= k_div else w * (row - kj)
            )
            if sums_first:
                wdevs = [deviation(j, row, kj) for j, (row, kj) in enumerate(zip(rows, shift))]
                firsts = [jnp.sum(wdev) for wdev in wdevs]
            for j, (row, kj) in enumerate(zip(rows, shift)):
                wdev = wdevs[j] if sums_first else deviation(j, row, kj)
                s1 = firsts[j] if sums_first else jnp.sum(wdev)
                mean_dev = s1 * inv_n  # the tile's mean − K_t
                # M2 about the tile's mean (Σ w (x − K_t)² lost (K_t − mean)² / spread² digits to cancellation)
                cdev = wdev - w * mean_dev if j >= 3 else None  # the state's mean only
                s2 = jnp.sum(cdev * cdev) if j >= 3 else 0.0 * s1
                sums_ref[t, j, r] = kj
                sums_ref[t, k + j, r] = s1
                sums_ref[t, 2 * k + j, r] = s2
                shifted = kj + mean_dev
                # a step whose mean is ±∞ or NaN keeps the last finite shift
                new_shift.append(jnp.where(jnp.isfinite(shifted), shifted, kj) if j >= k_div else shifted)
            return tuple(new_shift)

        count = functools.partial(_count_planes, per_counter=per_counter) if planes else _count
        state_and_acc = lambda rows: (rows[:3], rows[6:9])  # (u, x, y) and the cumulative W, Q, ΔU

        def body(r, carry):
            """Step r: its collision, then its sums (carry: state, acc, Σ β_r Q_r, shifts, counts)."""
            state, acc, flow_acc, shift, hist = carry
            rows, flow_acc, hist = collide(r, state, acc, flow_acc, hist, count)
            return *state_and_acc(rows), flow_acc, reduce(r, rows, shift), hist

        def pipelined_body(r, carry):
            """Step r − 1's sums beside step r's collision (carry: step r − 1's rows, Σ β_r Q_r, shifts, counts)."""
            rows, flow_acc, shift, hist = carry
            shift = reduce(r - 1, rows, shift)
            rows, flow_acc, hist = collide(r, *state_and_acc(rows), flow_acc, hist, count)
            return rows, flow_acc, shift, hist

        zero_counts = tuple(jnp.zeros((_GROUP,), jnp.int32) for _ in range(n_groups))
        flow0 = (zeros,) * n_flows
        if PIPELINE:  # step 0's collision before the loop (counted by comparison), its last sums after it
            rows, flow_acc, hist = collide(jnp.int32(0), state0, (zeros, zeros, zeros), flow0, zero_counts, _count)
            carry0, first, step = (rows, flow_acc, shift0, hist), 1, pipelined_body
        else:
            carry0, first, step = (state0, (zeros, zeros, zeros), flow0, shift0, zero_counts), 0, body
        if not planes:
            carry = jax.lax.fori_loop(first, n_steps, step, carry0)
        else:  # blocks of (2^K − 1) // per_counter steps on the vertical counters, each block's counts then added
            block = (2**planes - 1) // per_counter

            def run_block(carry, start, length):
                groups, shape = carry[-1], (tile // per_counter,)
                counters = tuple(tuple(jnp.zeros(shape, jnp.uint32) for _ in range(planes)) for _ in groups)
                inner = lambda i, c: step(start + i, c)
                carry = jax.lax.fori_loop(0, length, inner, carry[:-1] + (counters,))
                return carry[:-1] + (_flush_planes(groups, carry[-1]),)

            n_full, rest = divmod(n_steps - first, block)
            carry = jax.lax.fori_loop(0, n_full, lambda j, c: run_block(c, first + j * block, block), carry0)
            carry = run_block(carry, first + n_full * block, rest) if rest else carry
        if PIPELINE:
            rows, flow_acc, shift, hist = carry
            reduce(n_steps - 1, rows, shift)
            state, acc = state_and_acc(rows)
        else:
            state, acc, flow_acc, _, hist = carry
        # W_N, Q_N, the final state (u, x, y) and Σ β_r Q_r per configuration: once, at the end
        for j, row in enumerate((acc[0], acc[1]) + tuple(state) + tuple(flow_acc)):
            ends_ref[j, pl.ds(t * tile, tile)] = row
        for g, c in enumerate(hist):
            hist_ref[t, pl.ds(g * _GROUP, _GROUP)] = c

    out_shape = (
        jax.ShapeDtypeStruct((n_tiles, 3 * k, n_steps), dt),
        jax.ShapeDtypeStruct((5 + n_flows, batch), dt),
        jax.ShapeDtypeStruct((n_tiles, n_groups * _GROUP), jnp.int32),
    )
    # the float64 logarithms of erf⁻¹ and D_α without divisions, D_1's terms with one logarithm each: fewer
    # instructions, and the float32 loop's schedule (benchmarks/RESULTS_ensemble.md, session 47)
    with division_free(), subtraction_kept() if SUBTRACTION_KEPT else contextlib.nullcontext():
        sums, ends, hist = pl.pallas_call(
            kernel,
            out_shape=out_shape,
            grid=(n_tiles,),
            interpret=interpret,
            compiler_params=None if interpret else _compiler_params(num_warps),
            name=_NAME if REGISTER_LIMIT is None else f"{_NAME}_maxnreg{int(REGISTER_LIMIT)}",
        )(*(draws if keyed else (draws,)), thetas, params, collision_edges.astype(dt), weights)
    n_tile = jnp.sum(weights.reshape(n_tiles, tile), axis=1)
    packed = merge_tiles(sums, n_tile, central=True)
    counts = jnp.sum(hist, axis=0, dtype=jnp.int32)[: n_bins + 2]
    w_n, q_n, u_n, x_n, y_n = ends[:5, :b]
    with division_free(), subtraction_kept() if SUBTRACTION_KEPT else contextlib.nullcontext():  # as D_α's rows
        (d1_final,) = _divergence_columns((u_n, x_n, y_n), offset, t_pop, log_t, (1.0,), coherent)
        d1_initial = divergences_to_thermal(jnp.asarray(rho0), beta, g0, (1.0,), quantum=coherent)[0]
    production = total_entropy_production(model, d1_initial, d1_final, w_n, q_n, ends[5, :b] if n_flows else None)
    return packed, counts, w_n, q_n, production


def _divergence_columns(state, offset, t_pop, log_t, alphas, coherent) -> list:
    """D_α(ρ‖τ_S) of qubit states carried as (u, x, y) (._fused), one column per α: the closed forms of
    :mod:`~jaxthermo.ensemble._divergences` from τ_S's populations ``t_pop`` and their logarithms ``log_t``."""
    p0, p1 = qubit_populations(state[0], offset)  # the rare one to its own precision
    if coherent:  # full support
        return qubit_divergence_columns(p0, state[1], state[2], t_pop[0], t_pop[1], alphas, log_t=tuple(log_t), p1=p1)
    return classical_divergence_columns([p0, p1], list(log_t), alphas)


def merge_tiles(sums, n_tile, central: bool = False):
    """Per-tile sums ``sums`` (n_tiles, 3k, N) = [K_t, S1_t, S2_t] of ``n_tile`` (n_tiles,) configurations,
    S1_t = Σ w (x − K_t) and S2_t = Σ w (x − K_t)² (``central``: S2_t = Σ w (x − m_t)² about the tile's
    mean m_t = K_t + S1_t/n_t, as the kernel writes them) → (N, 3k) packed sums about the pooled mean K:
    each tile's M2_t (S2_t, or S2_t − S1_t²/n_t) and mean moved there, S1 = Σ_t S1_t + n_t (K_t − K) (≈ 0)
    and S2 = Σ_t M2_t + n_t (m_t − K)² (Chan, Golub & LeVeque's pairwise update: no cancellation of
    n (K_t − K)² against the spread); tiles with no configuration add nothing. A tile whose S1_t is
    ±∞ or NaN makes S1 so (the mean ±∞ or NaN, M2 NaN), K stays finite."""
    k = sums.shape[1] // 3
    shift_t, s1_t, s2_t = sums[:, :k], sums[:, k : 2 * k], sums[:, 2 * k :]
    n = n_tile[:, None, None].astype(sums.dtype)
    has = n > 0
    d_t = s1_t / jnp.maximum(n, 1)  # m_t − K_t
    m2_t = s2_t if central else s2_t - s1_t * d_t
    base = shift_t[0]
    off_t = jnp.where(has, (shift_t - base) + d_t, 0)  # m_t − K_0
    pooled = base + jnp.sum(n * off_t, axis=0) / jnp.maximum(jnp.sum(n, axis=0), 1)
    shift = jnp.where(jnp.isfinite(pooled), pooled, base)
    s1 = jnp.sum(jnp.where(has, s1_t + n * (shift_t - shift), 0), axis=0)
    e_t = (shift_t - shift) + d_t  # m_t − K
    s2 = jnp.sum(jnp.where(has, m2_t + n * e_t * e_t, 0), axis=0)
    return jnp.concatenate([shift, s1, s2]).T
