"""The qubit chunk as one GPU kernel: a tile of configurations kept in registers for all N collisions.

XLA runs the engine's collision scan (:func:`~jaxthermo.ensemble._kernel.model_a_chunk`) as three
to five kernels per collision step, each reading and writing the chunk's state and accumulators
from device memory: on an H200 the qubit stayed at ≈ 23 % of the copy bandwidth's floor
(benchmarks/RESULTS_ensemble.md). Here one Pallas (Triton) program owns ``tile`` configurations:
it reads its δ_r, applies the fused partial swap (:func:`~jaxthermo.ensemble._fused.qubit_collision`),
evaluates D_α (:mod:`~jaxthermo.ensemble._divergences`, the same closed forms), reduces the per-step
shifted sums over its tile and counts the single-collision work into the histogram, all in
registers; nothing of size (configurations) is written until the end (W_N and Q_N per configuration).

Per-step moments: each tile sums ``x − K_t`` and ``(x − K_t)²`` over its valid configurations, with
its own shift K_t: at r = 1 the collision of ρ0 with δ = 0 (the homogeneous reservoir), afterwards
the tile's mean at r − 1. :func:`merge_tiles` moves every tile's sums to tile 0's shift (exact
algebra) and adds them: the packed ``[K, S1, S2]`` of :func:`~jaxthermo.ensemble._statistics.shifted_sums`,
the same moments to rounding (Chan, Golub & LeVeque, Am. Stat. 37, 242 (1983)).

Which runs go here (:func:`applies`): a qubit with the partial swap, D_α after every collision, no
sensitivities; everything else keeps XLA's program. On CPU
the kernel runs only in Pallas's interpreter (tests compare it with the CPU program).
"""

from __future__ import annotations

import types

import jax
import jax.numpy as jnp

from .._information import log_thermal_populations
from .._qudit import thermal_populations
from ._divergences import classical_divergence_columns, classical_divergences_static, qubit_divergence_columns
from ._fused import qubit_collision, use_fused_qubit_path
from ._statistics import bin_index

# configurations per program, warps per program (H200 measurements: benchmarks/RESULTS_ensemble.md)
TILE, NUM_WARPS = 256, 4
# histogram bins are counted in groups of this many (a power of two: Triton's block shapes)
_GROUP = 32


def applies(model, alphas, coherent, divergence_every) -> bool:
    """Whether :func:`qubit_chunk` computes this chunk (else XLA's scan program does)."""
    if not use_fused_qubit_path(model) or divergence_every != 1:
        return False
    if coherent:
        return all(float(a) >= 0 for a in alphas)
    return classical_divergences_static(alphas, jnp.float64)


def _compiler_params(num_warps: int):
    from jax.experimental.pallas import triton as plt

    params = getattr(plt, "CompilerParams", None) or plt.TritonCompilerParams
    return params(num_warps=num_warps, num_stages=1)


def _rows(model, state, energetics, acc, divergence):
    """The k per-step rows in the order of the stacked program: (p0, x, y), W, Q, ΔU, their
    cumulative sums, D_α (``divergence(state)``, a list)."""
    return list(state) + [energetics.work, energetics.heat, energetics.energy_change] + list(acc) + divergence(state)


def qubit_chunk(
    model, rho0, deltas, mask, collision_edges, *, alphas, coherent, tile=None, num_warps=None, interpret=False
):
    """One chunk of qubit configurations through the tile kernel.

    Args:
      model: qubit :class:`~jaxthermo.InhomogeneousReservoir` with the partial swap (one grid point).
      rho0: (2, 2) initial state; ``deltas`` (N, B) the chunk's δ's in the run's dtype (padded
        to a whole number of tiles where B is not one: a copy); ``mask`` (B,) marks the
        configurations that count.
      collision_edges: (n_bins + 1,) edges of the single-collision work histogram.
      alphas, coherent: static, as :func:`~jaxthermo.ensemble._kernel.model_a_chunk`.
      tile, num_warps: configurations and warps per program (static; default the module's ``TILE``
        and ``NUM_WARPS``); ``interpret``: Pallas's interpreter (CPU).

    Returns:
      ``(packed, counts, w_n, q_n)``: ``packed`` (N, 3k) as :func:`~jaxthermo.ensemble._statistics.shifted_sums`
      per step, ``counts`` (n_bins + 2,) int32 of the single-collision work, W_N and Q_N (B,).
    """
    from jax.experimental import pallas as pl

    tile, num_warps = tile or TILE, num_warps or NUM_WARPS
    n_steps, b = deltas.shape
    dt = deltas.dtype
    batch = -(-b // tile) * tile
    if batch != b:
        deltas = jnp.pad(deltas, ((0, 0), (0, batch - b)))
        mask = jnp.pad(mask, (0, batch - b))
    n_tiles = batch // tile
    n_bins = collision_edges.shape[-1] - 1
    n_groups = -(-(n_bins + 2) // _GROUP)
    kind = model.kind
    theta = jnp.asarray(model.theta).astype(dt)
    schedule = theta.ndim == 1
    beta, g0 = (jnp.asarray(v).astype(dt) for v in (model.beta, model.g0))
    t_pop, log_t = thermal_populations(2, beta, g0), log_thermal_populations(2, beta, g0)  # τ_S for D_α
    rho0 = jnp.asarray(rho0)
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
            jnp.real(rho0[0, 0]).astype(dt),
            jnp.real(rho0[0, 1]).astype(dt),
            jnp.imag(rho0[0, 1]).astype(dt),
            theta[0] if schedule else theta,
            jnp.zeros((), dt),  # δ of the homogeneous reservoir (a kernel input: Triton lowers no negated literal)
        ]
    )
    thetas = theta if schedule else theta[None]
    k = 3 + 6 + len(alphas)
    weights = mask.astype(dt)

    def kernel(delta_ref, theta_ref, par_ref, mask_ref, sums_ref, w_ref, q_ref, hist_ref):
        t = pl.program_id(0)
        beta, g0, t0, t1, log_t0, log_t1, lo, hi, p0, x, y, theta0, delta0 = (par_ref[j] for j in range(13))
        m = types.SimpleNamespace(kind=kind, beta=beta, g0=g0)
        w = mask_ref[pl.ds(t * tile, tile)]  # 0/1 weights
        valid = w > 0
        n_t = jnp.maximum(jnp.sum(w), 1.0)

        def divergence(st):
            if not alphas:
                return []
            if coherent:
                return qubit_divergence_columns(*st, t0, t1, alphas)
            return classical_divergence_columns([st[0], 1.0 - st[0]], [log_t0, log_t1], alphas)

        # shift of r = 1: ρ0 after a collision with δ = 0 (scalars)
        st1, e1 = qubit_collision(m, (p0, x, y), delta0, theta0)
        shift0 = tuple(_rows(m, st1, e1, (e1.work, e1.heat, e1.energy_change), divergence))
        zeros = jnp.zeros((tile,), dt)
        state0 = (zeros + p0, zeros + x, zeros + y)

        def body(r, carry):
            state, acc, shift, hist = carry
            delta = delta_ref[r, pl.ds(t * tile, tile)]
            th = theta_ref[r] if schedule else theta0
            state, e = qubit_collision(m, state, delta, th)
            acc = (acc[0] + e.work, acc[1] + e.heat, acc[2] + e.energy_change)
            new_shift = []
            for j, (row, kj) in enumerate(zip(_rows(m, state, e, acc, divergence), shift)):
                dev = row - kj
                wdev = w * dev
                s1, s2 = jnp.sum(wdev), jnp.sum(wdev * dev)
                sums_ref[t, j, r] = kj
                sums_ref[t, k + j, r] = s1
                sums_ref[t, 2 * k + j, r] = s2
                new_shift.append(kj + s1 / n_t)
            idx = jnp.where(valid, bin_index(e.work, lo, hi, n_bins), -1)
            hist = tuple(
                h
                + jnp.sum(
                    idx[:, None] == (g * _GROUP + jnp.arange(_GROUP, dtype=jnp.int32))[None, :], axis=0, dtype=jnp.int32
                )
                for g, h in enumerate(hist)
            )
            return state, acc, tuple(new_shift), hist

        hist0 = tuple(jnp.zeros((_GROUP,), jnp.int32) for _ in range(n_groups))
        _, acc, _, hist = jax.lax.fori_loop(0, n_steps, body, (state0, (zeros, zeros, zeros), shift0, hist0))
        w_ref[pl.ds(t * tile, tile)] = acc[0]
        q_ref[pl.ds(t * tile, tile)] = acc[1]
        for g, h in enumerate(hist):
            hist_ref[t, pl.ds(g * _GROUP, _GROUP)] = h

    out_shape = (
        jax.ShapeDtypeStruct((n_tiles, 3 * k, n_steps), dt),
        jax.ShapeDtypeStruct((batch,), dt),
        jax.ShapeDtypeStruct((batch,), dt),
        jax.ShapeDtypeStruct((n_tiles, n_groups * _GROUP), jnp.int32),
    )
    sums, w_n, q_n, hist = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(n_tiles,),
        interpret=interpret,
        compiler_params=None if interpret else _compiler_params(num_warps),
        name="jaxthermo_qubit_tile",
    )(deltas, thetas, params, weights)
    n_tile = jnp.sum(weights.reshape(n_tiles, tile), axis=1)
    packed = merge_tiles(sums, n_tile)
    counts = jnp.sum(hist, axis=0, dtype=jnp.int32)[: n_bins + 2]
    return packed, counts, w_n[:b], q_n[:b]


def merge_tiles(sums, n_tile):
    """Per-tile shifted sums ``sums`` (n_tiles, 3k, N) = [K_t, S1_t, S2_t] of ``n_tile`` (n_tiles,)
    configurations → (N, 3k) packed sums about tile 0's shift K: with D = K_t − K,
    S1 = Σ_t S1_t + n_t D and S2 = Σ_t S2_t + 2 D S1_t + n_t D² (tiles with no configuration add nothing)."""
    k = sums.shape[1] // 3
    shift_t, s1_t, s2_t = sums[:, :k], sums[:, k : 2 * k], sums[:, 2 * k :]
    shift = shift_t[0]
    n = n_tile[:, None, None]
    dk = jnp.where(n > 0, shift_t - shift, 0)
    s1 = jnp.sum(jnp.where(n > 0, s1_t + n * dk, 0), axis=0)
    s2 = jnp.sum(jnp.where(n > 0, s2_t + 2 * dk * s1_t + n * dk * dk, 0), axis=0)
    return jnp.concatenate([shift, s1, s2]).T
