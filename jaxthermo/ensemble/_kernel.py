"""Model-A chunk kernel: one chunk of configurations → streaming reductions (docs/ensemble.md).

The physics is written for ONE configuration (a collision of one system state with one reservoir
qudit, :func:`jaxthermo.inhomogeneous.collision_step`: closed form or the generic route); the kernel
vmaps it over the configurations of a chunk inside a ``lax.scan`` over collisions and reduces
over the chunk at every step. Nothing of size (configurations × N) leaves the kernel: per step
it returns moments over the chunk, and it accumulates histograms in the scan carry.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from .._information import divergences_to_thermal
from ..inhomogeneous import trajectory
from ._divergences import classical_divergences
from ._layout import layout_of
from ._quantities import QUANTITIES, entropy_flows, quantities, total_entropy_production
from ._sampling import sample_chunk, sample_steps
from ._statistics import (
    Counts,
    Moments,
    chunk_counts,
    chunk_higher_moments,
    chunk_moments,
    column_moments,
    moments_from_shifted_sums,
    shifted_sums,
)
from ._tile_kernel import applies, keyed_draws, qubit_chunk


def model_divergences(model, rho, alphas, coherent: bool):
    """``D_α(ρ‖τ_S)`` for each α, shape (..., n_alpha) (docs/information.md), τ_S of ``g0 s_z`` at β.

    Diagonal states: the classical divergence of the populations; coherent states: the quantum
    divergences (Petz below α = 1, Umegaki at 1, sandwiched above).
    """
    return divergences_to_thermal(rho, model.beta, model.g0, alphas, quantum=coherent)


def scan_thetas(model, dtype):
    """θ for a ``lax.scan`` over collisions: ``(theta, thetas)``. A scalar θ is a loop invariant
    (``thetas`` None: the step closes over ``theta``), a schedule the (N,) scan input ``thetas``.

    As one scan input per step, a constant θ made XLA compute sin θ and cos θ inside every
    per-element loop that recomputes a collision output (a C-library call per element, which also
    kept those loops scalar); as an invariant they are computed once, outside the loop.
    """
    theta = jnp.asarray(model.theta).astype(dtype)
    return theta, (theta if theta.ndim == 1 else None)


def divergence_steps(n_steps: int, every: int):
    """Boolean (N,) over collisions r = 1…N: True where D_α of ρ_{S|r} is evaluated (r ≡ 0 mod
    ``every``, and always r = N)."""
    r = jnp.arange(1, n_steps + 1)
    return (r % every == 0) | (r == n_steps)


def model_a_chunk(
    model,
    rho0,
    seed_key,
    indices,
    mask,
    work_edges,
    collision_edges,
    *,
    n_steps,
    alphas,
    coherent,
    draw_dtype=None,
    histogram_method="scatter",
    divergence_every=1,
    tangents=None,
    stacked=False,
    tile_kernel=None,
):
    """Reductions over one chunk of configurations of model A.

    Args:
      model: :class:`~jaxthermo.InhomogeneousReservoir` with its ``distribution`` (one grid point).
      rho0: initial state (d, d), complex.
      seed_key: ``jax.random.key(seed)``.
      indices: configuration indices (B,) uint32; ``mask`` (B,) marks the valid ones.
      work_edges, collision_edges: histogram edges of W_N and of single-collision W (n_bins + 1,).
      n_steps, alphas, coherent, draw_dtype, histogram_method, divergence_every: static (``draw_dtype``:
        dtype of the δ draws; ``histogram_method``: see :func:`~jaxthermo.ensemble._statistics.chunk_counts`;
        ``divergence_every``: D_α only after the collisions of :func:`divergence_steps`, zeros elsewhere).
      tangents: optional factory ``tangents(model, seed_key, indices, mask, state, layout)`` of a tangent stream
        (``carry0``, ``xs``, ``step``; :func:`~jaxthermo.ensemble._sensitivity.tangent_stream`): the
        collisions then run once, under ``jax.jvp``, and the plain statistics come from the primal
        (D_α then at every step, reported as above).
      stacked: static; the per-step moments of the state, the six energetic quantities and D_α in
        one shifted reduction (:func:`~jaxthermo.ensemble._statistics.shifted_sums`: one kernel per
        step on a GPU instead of two per quantity) rather than two passes per quantity; the same
        statistics to rounding. Not with ``tangents``.
      tile_kernel: static; ``"gpu"`` (or ``"interpret"``, Pallas's interpreter on CPU): chunks that
        :func:`~jaxthermo.ensemble._tile_kernel.applies` to run as one GPU kernel over tiles of
        configurations (:mod:`~jaxthermo.ensemble._tile_kernel`), with ``stacked`` statistics; the
        same statistics to rounding, histograms identical.

    Returns:
      dict of :class:`Moments` (per step, leading axis N), :class:`Counts`, and for the final
      step :class:`HigherMoments` of W_N and Q_N and :class:`Moments` of e^{−βW_N}.
    """
    rdt = jnp.real(rho0).dtype
    layout = layout_of(model, rdt)  # how the chunk's states are carried (._layout)
    finish = partial(
        _chunk_statistics,
        model=model,
        layout=layout,
        mask=mask,
        work_edges=work_edges,
        method=histogram_method,
        alphas=alphas,
    )
    if tile_kernel is not None and tangents is None and applies(model, alphas, coherent, divergence_every, rdt):
        keyed = keyed_draws(model.distribution, seed_key, indices, n_steps, draw_dtype)
        packed, hist, w_acc, q_acc, production = qubit_chunk(
            model,
            rho0,
            keyed or sample_steps(model.distribution, seed_key, indices, n_steps, rdt, draw_dtype),
            mask,
            collision_edges,
            n_steps=n_steps,
            alphas=alphas,
            coherent=coherent,
            interpret=tile_kernel == "interpret",
        )
        return finish({"packed": packed}, w_acc, q_acc, production, hist, True, bool(alphas))
    deltas = sample_steps(model.distribution, seed_key, indices, n_steps, rdt, draw_dtype)  # (N, B)
    theta, thetas = scan_thetas(model, rdt)
    b = indices.shape[0]
    state = layout.carry(jnp.broadcast_to(rho0, (b,) + rho0.shape))

    def raw_divergence(m, st, orders=alphas):
        if coherent:  # the qubit's closed form, else eigenvalues only (._layout, ._divergences)
            return layout.quantum_divergences(m, st, orders)
        return classical_divergences(layout.populations(st), m.beta, m.g0, orders)

    def divergence(st):
        return column_moments(raw_divergence(model, st), mask)

    def physics(m, st, delta, theta):
        """One collision of the whole chunk under model ``m``: (state, Energetics, D_α per configuration)."""
        st, e = layout.collide(m, st, delta, theta)
        return st, e, (raw_divergence(m, st) if alphas else None)

    tan = None if tangents is None else tangents(model, seed_key, indices, mask, state, layout)
    mask_n = jnp.sum(mask.astype(jnp.int32))
    stacked = stacked and tan is None
    stacked_divergence = stacked and bool(alphas) and divergence_every == 1

    def step(carry, x):
        state, w_acc, q_acc, u_acc, f_acc, hist, tcarry = carry
        delta, theta_r, report, tx = x
        th = theta if theta_r is None else theta_r  # (scan_thetas)
        extra = {}
        if tan is None:
            state, e = layout.collide(model, state, delta, th)
        else:
            state, e, div, tcarry, extra = tan.step(physics, state, tcarry, delta, tx)
        w_acc, q_acc, u_acc = w_acc + e.work, q_acc + e.heat, u_acc + e.energy_change
        flows = entropy_flows(model, delta, e.heat)
        f_acc = [a + f for a, f in zip(f_acc, flows)]  # Σ β_r Q_r of the temperature kind
        # in the order of quantities(model)
        values = [e.work, e.heat, e.energy_change, w_acc, q_acc, u_acc] + flows
        if stacked:
            rows = layout.rows(state) + values
            if stacked_divergence:
                div = raw_divergence(model, state)
                rows += [div[:, j] for j in range(len(alphas))]
            stats = {"packed": shifted_sums(rows, mask)}
        else:
            stats = {"state": layout.mean_state(state, mask)}
            stats.update({name: chunk_moments(v, mask) for name, v in zip(quantities(model), values)})
        if alphas and tan is not None:
            m = column_moments(div, mask)
            stats["divergence"] = (
                m if divergence_every == 1 else Moments(m.n, jnp.where(report, m.mean, 0), jnp.where(report, m.m2, 0))
            )
        elif alphas and not stacked_divergence:
            if divergence_every == 1:
                stats["divergence"] = divergence(state)
            else:
                zeros = Moments(mask_n, jnp.zeros((len(alphas),), rdt), jnp.zeros((len(alphas),), rdt))
                stats["divergence"] = jax.lax.cond(report, divergence, lambda st: zeros, state)
        stats.update(extra)
        hist = hist + chunk_counts(e.work, mask, collision_edges, histogram_method)
        return (state, w_acc, q_acc, u_acc, f_acc, hist, tcarry), stats

    hist0 = jnp.zeros(collision_edges.shape[-1] + 1, jnp.int32)
    zeros_b = jnp.zeros((b,), rdt)
    f0 = [zeros_b] * (len(quantities(model)) - len(QUANTITIES))
    carry0 = (state, zeros_b, zeros_b, zeros_b, f0, hist0, None if tan is None else tan.carry0)
    xs = (deltas, thetas, divergence_steps(n_steps, divergence_every), None if tan is None else tan.xs)
    (state, w_acc, q_acc, _, f_acc, hist, tcarry), stats = jax.lax.scan(step, carry0, xs)

    def production_of(m, r0, st, w_n, q_n, flow_n):  # ΔS_1 + … + ΔS_N per configuration from the final state
        d1_initial = model_divergences(m, r0, (1.0,), coherent)[0]
        return total_entropy_production(m, d1_initial, raw_divergence(m, st, (1.0,))[:, 0], w_n, q_n, flow_n)

    flow_n = f_acc[0] if f_acc else None  # Σ β_r Q_r of the temperature kind
    production = production_of(model, rho0, state, w_acc, q_acc, flow_n)
    if tan is not None:
        stats.update(tan.total(production_of, rho0, state, tcarry, w_acc, q_acc, flow_n))
    return finish(stats, w_acc, q_acc, production, hist, stacked, stacked_divergence)


def _chunk_statistics(
    stats,
    w_acc,
    q_acc,
    production,
    hist,
    stacked,
    stacked_divergence,
    *,
    model,
    layout,
    mask,
    work_edges,
    method,
    alphas,
):
    """The chunk's result from the per-step statistics of the collisions (``stats``; with ``stacked``
    the packed shifted sums, rows ordered as the layout's ``rows`` + :func:`quantities` + D_α when
    ``stacked_divergence``), W_N, Q_N and ΔS_1 + … + ΔS_N per configuration and the single-collision work counts."""
    if stacked:
        ns = jnp.broadcast_to(jnp.sum(mask.astype(jnp.int32)), stats["packed"].shape[:1])  # (N,)
        mean, m2 = moments_from_shifted_sums(ns, stats.pop("packed"))
        names = quantities(model)
        k_s = mean.shape[-1] - len(names) - (len(alphas) if stacked_divergence else 0)
        stats["state"] = Moments(ns, layout.from_rows(mean[:, :k_s]), None)
        for j, name in enumerate(names):
            stats[name] = Moments(ns, mean[:, k_s + j], m2[:, k_s + j])
        if stacked_divergence:
            stats["divergence"] = Moments(ns, mean[:, k_s + len(names) :], m2[:, k_s + len(names) :])
    stats["work_histogram"] = Counts(chunk_counts(w_acc, mask, work_edges, method))
    stats["collision_work_histogram"] = Counts(hist)
    # W_N and Q_N up to fourth central moments; e^{−βW_N} (β of the unperturbed reservoir)
    stats["total_work"] = chunk_higher_moments(w_acc, mask)
    stats["total_heat"] = chunk_higher_moments(q_acc, mask)
    stats["total_entropy_production"] = chunk_moments(production, mask)
    # e^{−βW_N} in float64 whatever the run's precision (one exponential per configuration): its
    # square overflowed float32 beyond βW_N < −44 (an infinite standard error; at −88 the mean NaN)
    beta = jnp.asarray(model.beta).astype(jnp.float64)
    stats["exp_minus_beta_work"] = chunk_moments(jnp.exp(-beta * w_acc.astype(jnp.float64)), mask)
    return stats


def pilot_work_ranges(model, rho0, seed_key, indices, *, n_steps, draw_dtype=None, batch=None):
    """(min, max) of W_N and of single-collision W over the pilot configurations ``indices``.

    Uses the reference :func:`jaxthermo.trajectory` route (not the kernel) on the same δ's, ``batch``
    configurations at a time (default: all), so that the pilot's memory, ∝ batch · N, stays that of
    a chunk for long runs (all 512 configurations of N = 10⁵ collisions at once took 1.3 GB).
    """
    rdt = jnp.real(rho0).dtype

    def ranges(idx):
        deltas = sample_chunk(model.distribution, seed_key, idx, n_steps, rdt, draw_dtype)
        work = jax.vmap(lambda dl: trajectory(model, rho0, dl, store_states=False).work)(deltas)
        w_n = jnp.sum(work, axis=-1)
        return jnp.stack([jnp.min(w_n), jnp.max(w_n), jnp.min(work), jnp.max(work)])

    if batch is None or batch >= indices.shape[0]:
        return ranges(indices)
    parts = jax.lax.map(ranges, indices.reshape(-1, batch))
    return jnp.stack([parts[:, 0].min(), parts[:, 1].max(), parts[:, 2].min(), parts[:, 3].max()])
