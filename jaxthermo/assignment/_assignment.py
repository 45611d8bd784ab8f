"""The three energy assignments of model C and the quadrature of the minimal-dissipation heat.

Given the global bookkeeping ``Ũ_X = Tr{H_X ρ}``, ``Q̃_X = ∫Tr{H_X ρ̇}``, ``W̃_X = ∫Tr{Ḣ_X ρ}``
(X = S, I, E), the system's internal energy, heat and work are ([CVS25]; docs/assignment.md)

* interaction:  U = Ũ_S + Ũ_I,   Q = Q̃_S + Q̃_I,   W = W̃_S;
* bare:         U = Ũ_S,         Q = Q̃_S + Q̃_I,   W = W̃_S − ΔŨ_I;
* minimal dissipation ([CB22]): U = Tr{K_S ρ_S}, Q = ∫Tr{K_S ρ̇_S}, W = ΔU − Q  (= ∫Tr{K̇_S ρ_S}).

The bare and the interaction heats coincide (both equal −Q̃_E when Σ_X Q̃_X = 0); the two differ
in the internal energy and the work, by the interaction energy ΔŨ_I. Every assignment is an
:class:`Assignment` in the package's energetics vocabulary (docs/conventions.md): ``work``,
``heat`` (into the system), ``energy_change`` = work + heat, plus the assigned energy U(t).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._deprecation import deprecated_alias
from .._host import check_untraced
from .._quadrature import composite_gauss_legendre, cumulative_error_estimate, cumulative_integral
from .._validation import (
    check_finite,
    check_numeric,
    check_positive_int,
    check_real_scalar,
    check_time_grid,
    should_validate,
)


class Assignment(NamedTuple):
    """One assignment's work W(t), heat Q(t) into the system and energy change ΔU(t) since t_0,
    and the assigned internal energy U(t); each (..., T).

    The first three fields are the energetics vocabulary of every model (docs/conventions.md);
    ``energy_change = U(t) − U(t_0) = work + heat`` (first law of the assignment).
    """

    work: jnp.ndarray
    heat: jnp.ndarray
    energy_change: jnp.ndarray
    energy: jnp.ndarray


def assignment_from_energy(energy, heat, work) -> Assignment:
    """An :class:`Assignment` from U(t), Q(t), W(t) (time on the last axis): ΔU = U − U(t_0)."""
    return Assignment(work, heat, energy - energy[..., :1], energy)


def _energy_series(u_s, u_i, q_s, q_i, w_s):
    """The five series as arrays of one shape (..., T): ``ValueError`` naming them and their shapes unless each
    has the time axis last with the same T ≥ 1 and the leading (batch) axes broadcast. Mismatched lengths used
    to fail inside JAX ("sub got incompatible shapes for broadcasting: (3,), (4,)"), a scalar with
    "'float' object is not subscriptable", and a batch of u_s against unbatched others returned fields of
    different shapes (energy (2, T), work (T,))."""
    named = dict(u_s=u_s, u_i=u_i, q_s=q_s, q_i=q_i, w_s=w_s)
    shapes = {k: tuple(np.shape(v)) for k, v in named.items()}
    listed = ", ".join(f"{k} {v}" for k, v in shapes.items())
    for k, shape in shapes.items():
        if len(shape) == 0 or shape[-1] == 0:
            raise ValueError(
                f"{k} must be a series with time on its last axis, (..., T) with T >= 1; got shapes {listed}"
            )
    if len({shape[-1] for shape in shapes.values()}) > 1:
        raise ValueError(f"u_s, u_i, q_s, q_i, w_s must share the time axis (the last, length T); got shapes {listed}")
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError:
        raise ValueError(
            f"u_s, u_i, q_s, q_i, w_s: leading (batch) axes do not broadcast; got shapes {listed}"
        ) from None
    return [jnp.broadcast_to(jnp.asarray(v), shape) for v in named.values()]


def _check_series_values(**series) -> None:
    """The public assignments' inputs: numbers (``TypeError`` naming the series: None or a string was reported as a
    series of shape ()) and, where concrete, finite (``ValueError`` naming it: a NaN Ũ_S gave NaN energies, heats
    or works without a word); traced series pass. The library's own series (``energy_assignment``,
    ``quadratic_energetics``) go through the unchecked :func:`_interaction_assignment` and :func:`_bare_assignment`."""
    for name, value in series.items():
        check_numeric(value, name)
    for name, value in series.items():
        if should_validate(value):
            check_finite(value, name)


def interaction_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """Interaction assignment: U = Ũ_S + Ũ_I, Q = Q̃_S + Q̃_I, W = W̃_S (time on the last axis)."""
    _check_series_values(u_s=u_s, u_i=u_i, q_s=q_s, q_i=q_i, w_s=w_s)
    return _interaction_assignment(u_s, u_i, q_s, q_i, w_s)


def _interaction_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """:func:`interaction_assignment` without the value checks (shapes are checked)."""
    u_s, u_i, q_s, q_i, w_s = _energy_series(u_s, u_i, q_s, q_i, w_s)
    return assignment_from_energy(u_s + u_i, q_s + q_i, w_s)


def bare_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """Bare assignment: U = Ũ_S, Q = Q̃_S + Q̃_I, W = W̃_S − ΔŨ_I (time on the last axis)."""
    _check_series_values(u_s=u_s, u_i=u_i, q_s=q_s, q_i=q_i, w_s=w_s)
    return _bare_assignment(u_s, u_i, q_s, q_i, w_s)


def _bare_assignment(u_s, u_i, q_s, q_i, w_s) -> Assignment:
    """:func:`bare_assignment` without the value checks (shapes are checked)."""
    u_s, u_i, q_s, q_i, w_s = _energy_series(u_s, u_i, q_s, q_i, w_s)
    return assignment_from_energy(u_s, q_s + q_i, w_s - (u_i - u_i[..., :1]))


gauss_legendre_nodes = deprecated_alias(
    composite_gauss_legendre,
    "jaxthermo.assignment.gauss_legendre_nodes",
    "jaxthermo._quadrature.composite_gauss_legendre",
)


def minimal_dissipation_assignment(energy, heat_rate_nodes, weights, singular_grid, singular_nodes):
    """Minimal-dissipation U, Q, W with the times where K_S is undefined made explicit.

    Args:
      energy: (T,) ``Tr{K_S ρ_S}`` on the grid.
      heat_rate_nodes: (T−1, order) ``Tr{K_S ρ̇_S}`` at the Gauss nodes.
      weights: (T−1, order) quadrature weights.
      singular_grid: (T,) True where the dynamical map is (nearly) non-invertible on the grid.
      singular_nodes: (T−1, order) the same at the nodes.

    Returns:
      :class:`Assignment`; U and ΔU are NaN at singular grid times, Q and W are NaN from the first
      interval containing a singular time onwards (the integral through a divergence of K_S is
      not defined). The caller reports these times; nothing here is silent.
    """
    bad_interval = jnp.any(singular_nodes, axis=-1) | singular_grid[:-1] | singular_grid[1:]
    heat = cumulative_integral(jnp.where(singular_nodes, 0.0, heat_rate_nodes), weights)
    broken = jnp.concatenate([jnp.zeros((1,), bool), jnp.cumsum(bad_interval) > 0])
    broken = broken | singular_grid
    energy = jnp.where(singular_grid, jnp.nan, energy)
    heat = jnp.where(broken, jnp.nan, heat)
    energy_change = energy - energy[0]
    work = jnp.where(broken, jnp.nan, energy_change - heat)
    return Assignment(work, heat, energy_change, energy)


def quadrature_error(heat, heat_rate_nodes, weights, heat_rate_check, weights_check):
    """The embedded error estimate of Q^md (and W^md = ΔU^md − Q^md), (T,) (docs/assignment.md §6).

    ``Σ_intervals |G_n − G_{n+1}|`` up to each grid time, between the composite Gauss–Legendre rule of
    the result (``order`` = n nodes, ``heat_rate_nodes``/``weights``) and that of n + 1 nodes on the same
    grid (``heat_rate_check``/``weights_check``); NaN where ``heat`` is NaN (singular from there on).
    """
    error = cumulative_error_estimate(heat_rate_nodes, weights, heat_rate_check, weights_check)
    return jnp.where(jnp.isnan(heat), jnp.nan, error.astype(heat.dtype))


def check_quadrature_tol(quadrature_tol, estimate_error: bool = True, *, name: str = "quadrature_tol"):
    """``quadrature_tol``: None (no check) or a finite number > 0 (``ValueError`` naming it otherwise);
    ``estimate_error`` a bool, True where ``quadrature_tol`` is set (the tolerance needs the estimate).
    ``name`` is the tolerance's parameter name in the messages (``integration_tol`` of ``energy_assignment``)."""
    if not isinstance(estimate_error, (bool, np.bool_)):
        raise ValueError(f"estimate_error must be True or False; got {estimate_error!r}")
    if quadrature_tol is not None:
        check_real_scalar(quadrature_tol, name, positive=True)
        if not estimate_error:
            raise ValueError(f"{name} needs the error estimate: estimate_error=False skips it")
    return quadrature_tol


def heat_rule_points(times, order: int, estimate_error: bool):
    """The composite Gauss–Legendre rule of ``order`` nodes on ``times`` and, with ``estimate_error``, that of
    ``order + 1`` nodes (the embedded check, docs/assignment.md §6; ``None`` without): ``(nodes, weights,
    check, points)`` with ``points`` every node of both, flat, to evaluate in one pass."""
    nodes, weights = composite_gauss_legendre(times, order)
    check = composite_gauss_legendre(times, order + 1) if estimate_error else None
    points = nodes.reshape(-1) if check is None else jnp.concatenate([nodes.reshape(-1), check[0].reshape(-1)])
    return nodes, weights, check, points


def heat_error(heat, heat_rate, weights, check, rate_at_check):
    """:func:`quadrature_error` from the check rule's integrand values ``rate_at_check`` (flat), or NaN at every
    time where the estimate was skipped (``check`` is None: not known, not zero)."""
    if check is None:
        return jnp.full(heat.shape, jnp.nan, heat.dtype)
    return quadrature_error(heat, heat_rate, weights, rate_at_check.reshape(check[0].shape), check[1])


def warn_quadrature_error(
    error,
    times,
    quadrature_tol,
    *,
    what: str = "the minimal-dissipation heat's quadrature error estimate",
    name: str = "quadrature_tol",
    remedy: str = "refine the time grid there (refine_times) or raise order",
    values=None,
) -> None:
    """``RuntimeWarning`` (outside jit) when the estimated error ``error`` (T,) exceeds ``quadrature_tol``.

    Names the largest estimate, where it is reached, and the intervals where the estimate grows most, to
    refine (``refine_times``); NaN estimates (after a singular time, already reported) are ignored. The
    defaults word it for Q^md; ``what``, ``name`` (the tolerance's parameter) and ``remedy`` word it for
    another estimate (the RK4 error of a driven ``energy_assignment``, docs/assignment.md §7).

    Without ``quadrature_tol``, ``values`` (the result the estimate is for, Q^md) set one: a tenth of its
    largest magnitude plus √ε. An estimate above it means the result has no reliable digit, which is never
    silent (ΔU^md was in the scale too, and a |ΔU^md| = 9.2 let Q^md = 4.1 with an estimate of 0.65, truly 0.28
    off, through without a word): a singular point of Φ_t between samples where det Φ_t keeps its sign (two
    singular values vanishing together) gave Q^md(3) = −36.9, −8.9, 21.7, −21.0 on 7 to 6001 grid points, with
    ``singular`` all False and no word (docs/assignment.md §3)."""
    implicit = quadrature_tol is None
    if implicit:
        if values is None or not should_validate(values):
            return
        mags = np.abs(np.asarray(jax.lax.stop_gradient(values), dtype=float))
        mags = mags[np.isfinite(mags)]
        scale = float(np.max(mags)) if mags.size else 0.0
        quadrature_tol = 0.1 * scale + float(np.sqrt(np.finfo(np.asarray(error).dtype).eps))
    error, times = jax.lax.stop_gradient((error, times))
    if not all(should_validate(x) for x in (error, times, quadrature_tol)):
        return
    err = np.asarray(error, dtype=float)
    finite = np.where(np.isnan(err), -np.inf, err)
    worst = float(np.max(finite)) if finite.size else -np.inf
    if not worst > float(quadrature_tol):
        return
    if implicit:
        name = "10 % of the result's largest magnitude"
        what = f"{what} is comparable to the result itself (no reliable digit): it"
        remedy = (
            "a singular point of the map between samples (where det keeps its sign) or a peak the grid does not "
            f"resolve; {remedy}"
        )
    t = np.asarray(times, dtype=float)
    with np.errstate(invalid="ignore"):  # inf − inf after an interval with an infinite estimate
        per_interval = np.diff(np.where(np.isnan(err), 0.0, err))
    per_interval = np.where(np.isnan(per_interval), -np.inf, per_interval)
    top = np.argsort(per_interval)[::-1][:3]
    where = ", ".join(f"[{t[i]:.6g}, {t[i + 1]:.6g}] ({per_interval[i]:.2g})" for i in top if per_interval[i] > 0)
    warnings.warn(
        f"{what} reaches {worst:.3g} (> {name} = {float(quadrature_tol):g}); largest contributions from the "
        f"intervals {where}: {remedy}",
        RuntimeWarning,
        stacklevel=3,
    )


def local_minimum_times(times, values) -> np.ndarray:
    """The grid times where ``values`` (T,) has an interior local minimum (``v_i < v_{i−1}``, ``v_i ≤ v_{i+1}``).

    Applied to σ_min(G(t)) (quadratic reservoirs) or σ_min/σ_max(Φ_t) (a :class:`GlobalModel`) it lists the
    near-peaks of K_S on the grid: a sharp but finite peak falls between samples and is flagged by nothing
    else; the true minimum lies within one grid spacing of the listed time (docs/assignment.md §3, §5)."""
    v = np.asarray(values)
    inner = np.flatnonzero((v[1:-1] < v[:-2]) & (v[1:-1] <= v[2:])) + 1
    return np.asarray(times)[inner]


def refine_times(times, centers, half_width, points: int = 201):
    """The grid ``times`` with ``points`` extra equally spaced times in ``[c − w, c + w]`` per centre.

    Use it around the minimal-dissipation peaks (``peak_times`` of a coarse pass of
    ``QuadraticEnergetics`` or ``MinimalDissipation``), where K_S varies on a time scale much shorter than the rest of the dynamics.

    Args:
      times: (T,) non-decreasing grid.
      centers: (P,) times to refine around.
      half_width: half-width of each refined window, a finite number > 0.
      points: extra times per window, an integer >= 2 (the window's two ends at least).

    Returns:
      sorted unique NumPy array, clipped to ``[times[0], times[-1]]``.

    A NaN or infinite ``half_width`` or centre is refused (``ValueError`` naming it; its window would be
    dropped by the clipping, leaving the grid unrefined). So are ``half_width`` ≤ 0 and ``points`` = 1 (not a
    window), and a centre whose window
    ``[c − w, c + w]`` misses ``[times[0], times[-1]]`` (``ValueError`` naming ``centers``: nothing to refine there).
    """
    check_untraced(
        "refine_times",
        "it returns a NumPy grid of data-dependent length. Refine outside jax.jit and pass the grid in",
        times=times,
        centers=centers,
        half_width=half_width,
    )
    points = check_positive_int(points, "points")
    if points < 2:
        raise ValueError(f"points={points!r}: a window needs at least its two ends, points >= 2")
    check_time_grid(times)
    check_real_scalar(half_width, "half_width", positive=True)
    check_numeric(centers, "centers")
    check_finite(np.asarray(centers, dtype=float), "centers")
    times = np.asarray(times, dtype=float)
    centers = np.atleast_1d(np.asarray(centers, dtype=float))
    outside = centers[(centers + half_width < times[0]) | (centers - half_width > times[-1])]
    if outside.size:  # the clipping dropped the whole window: the grid came back unrefined without a word
        raise ValueError(
            f"centers: the window [c - {half_width}, c + {half_width}] of c = {outside[:3].tolist()} lies outside "
            f"the grid's range [{times[0]}, {times[-1]}]"
        )
    extra = [np.linspace(c - half_width, c + half_width, points) for c in centers]
    grid = np.concatenate([times, *extra]) if extra else times
    grid = grid[(grid >= times[0]) & (grid <= times[-1])]
    return np.unique(grid)
