"""The three energy assignments of SPEC §5 and the quadrature of the minimal-dissipation heat.

Given the global bookkeeping ``Ũ_X = Tr{H_X ρ}``, ``Q̃_X = ∫Tr{H_X ρ̇}``, ``W̃_X = ∫Tr{Ḣ_X ρ}``
(X = S, I, E), the system's internal energy, heat and work are

* interaction:  U = Ũ_S + Ũ_I,   Q = Q̃_S + Q̃_I,   W = W̃_S;
* bare:         U = Ũ_S,         Q = Q̃_S + Q̃_I,   W = W̃_S − ΔŨ_I;
* minimal dissipation: U = Tr{K_S ρ_S}, Q = ∫Tr{K_S ρ̇_S}, W = ΔU − Q  (= ∫Tr{K̇_S ρ_S}).

The bare and the interaction heats coincide (both equal −Q̃_E when Σ_X Q̃_X = 0); the two differ
in the internal energy and the work, by the interaction energy ΔŨ_I.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np


class Assignment(NamedTuple):
    """One assignment's internal energy U(t), heat Q(t) and work W(t) since t_0, each (..., T).

    ``U(t) − U(t_0) = Q(t) + W(t)`` (first law of the assignment).
    """

    energy: jnp.ndarray
    heat: jnp.ndarray
    work: jnp.ndarray


def interaction_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """Interaction assignment: U = Ũ_S + Ũ_I, Q = Q̃_S + Q̃_I, W = W̃_S (time on the last axis)."""
    return Assignment(u_s + u_i, q_s + q_i, w_s)


def bare_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """Bare assignment: U = Ũ_S, Q = Q̃_S + Q̃_I, W = W̃_S − ΔŨ_I (time on the last axis)."""
    return Assignment(u_s, q_s + q_i, w_s - (u_i - u_i[..., :1]))


def gauss_legendre_nodes(times, order: int = 4):
    """Composite Gauss–Legendre nodes and weights on the intervals of a time grid.

    Exact for polynomials of degree ``2·order − 1`` on each interval, so the cumulative integral
    of a smooth integrand converges as ``h^{2·order}`` in the interval length h.

    Args:
      times: (T,) increasing grid (any spacing).
      order: nodes per interval.

    Returns:
      ``(nodes, weights)``, each (T−1, order).
    """
    x, w = np.polynomial.legendre.leggauss(order)
    times = jnp.asarray(times)
    a, b = times[:-1, None], times[1:, None]
    half = 0.5 * (b - a)
    nodes = a + half * (jnp.asarray(x, times.dtype) + 1.0)
    return nodes, half * jnp.asarray(w, times.dtype)


def cumulative_integral(values, weights):
    """``∫_{t_0}^{t_j}`` at every grid point from integrand values at the Gauss nodes.

    Args:
      values, weights: (T−1, order) from :func:`gauss_legendre_nodes`.

    Returns:
      (T,), starting at 0.
    """
    per_interval = jnp.sum(values * weights, axis=-1)
    return jnp.concatenate([jnp.zeros((1,), per_interval.dtype), jnp.cumsum(per_interval)])


def minimal_dissipation_assignment(energy, heat_rate_nodes, weights, singular_grid, singular_nodes):
    """Minimal-dissipation U, Q, W with the times where K_S is undefined made explicit.

    Args:
      energy: (T,) ``Tr{K_S ρ_S}`` on the grid.
      heat_rate_nodes: (T−1, order) ``Tr{K_S ρ̇_S}`` at the Gauss nodes.
      weights: (T−1, order) quadrature weights.
      singular_grid: (T,) True where the dynamical map is (nearly) non-invertible on the grid.
      singular_nodes: (T−1, order) the same at the nodes.

    Returns:
      :class:`Assignment`; U is NaN at singular grid times, Q and W are NaN from the first
      interval containing a singular time onwards (the integral through a divergence of K_S is
      not defined). The caller reports these times; nothing here is silent.
    """
    bad_interval = jnp.any(singular_nodes, axis=-1) | singular_grid[:-1] | singular_grid[1:]
    heat = cumulative_integral(jnp.where(singular_nodes, 0.0, heat_rate_nodes), weights)
    broken = jnp.concatenate([jnp.zeros((1,), bool), jnp.cumsum(bad_interval) > 0])
    broken = broken | singular_grid
    energy = jnp.where(singular_grid, jnp.nan, energy)
    heat = jnp.where(broken, jnp.nan, heat)
    work = jnp.where(broken, jnp.nan, energy - energy[0] - heat)
    return Assignment(energy, heat, work)


def refine_times(times, centers, half_width, points: int = 201):
    """The grid ``times`` with ``points`` extra equally spaced times in ``[c − w, c + w]`` per centre.

    Use it around the minimal-dissipation peaks (e.g. ``QuadraticEnergetics.peak_times`` of a
    coarse pass), where K_S varies on a time scale much shorter than the rest of the dynamics.

    Args:
      times: (T,) increasing grid.
      centers: (P,) times to refine around.
      half_width: half-width of each refined window (scalar).
      points: extra times per window.

    Returns:
      sorted unique NumPy array, clipped to ``[times[0], times[-1]]``.
    """
    times = np.asarray(times, dtype=float)
    extra = [np.linspace(c - half_width, c + half_width, points) for c in np.atleast_1d(np.asarray(centers, dtype=float))]
    grid = np.concatenate([times, *extra]) if extra else times
    grid = grid[(grid >= times[0]) & (grid <= times[-1])]
    return np.unique(grid)
