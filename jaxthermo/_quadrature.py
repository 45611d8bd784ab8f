"""Gauss quadrature rules used across the package (ensemble averages over G: docs/inhomogeneous.md §3).

Every ensemble average by quadrature and every time integral goes through these rules: plain and
split Gauss–Legendre, probabilists' Gauss–Hermite, and composite Gauss–Legendre on a time grid with
an embedded error estimate (the Gauss–Legendre rule of one more node on the same intervals).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def gauss_legendre(n: int, a: float = -1.0, b: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Gauss–Legendre nodes and weights on [a, b] (exact for degree 2n − 1)."""
    x, w = np.polynomial.legendre.leggauss(n)
    half = 0.5 * (b - a)
    return a + half * (x + 1.0), half * w


def split_gauss_legendre(n: int, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre on [−half, 0] ∪ [0, half], ``n`` nodes per side, for integrands with a kink at 0."""
    x, w = gauss_legendre(n, 0.0, half)
    return np.concatenate([-x[::-1], x]), np.concatenate([w[::-1], w])


def gauss_hermite_normal(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with ``Σ w_i f(x_i) ≈ E[f(ε)]``, ε ~ N(0, 1) (probabilists' Hermite).

    NumPy's rule up to n = 300; its weights overflow beyond (NaN from n ≈ 400), where SciPy's
    asymptotic rule takes over."""
    if n <= 300:
        x, w = np.polynomial.hermite_e.hermegauss(n)
    else:
        from scipy.special import roots_hermitenorm

        x, w = roots_hermitenorm(n)
    return x, w / np.sqrt(2 * np.pi)


def stepped_gauss_legendre(lo, hi, center, reach, n_panels: int, n_outer: int, per_panel: int = 24):
    """Gauss–Legendre nodes and weights on [lo, hi] for an integrand that turns over within ``reach``
    of ``center`` (a smoothed step) and is smooth on the scale of [lo, hi] elsewhere.

    ``n_panels`` equal panels of ``per_panel`` nodes on [center − reach, center + reach] ∩ [lo, hi],
    ``n_outer`` nodes on each remaining side. The ends of the three pieces may be traced (a piece
    outside [lo, hi] has zero length and weight); the node count is static.
    """
    a = jnp.clip(center - reach, lo, hi)
    b = jnp.clip(center + reach, lo, hi)
    x_o, w_o = np.polynomial.legendre.leggauss(n_outer)
    x_p, w_p = np.polynomial.legendre.leggauss(per_panel)

    def mapped(x, w, left, right):
        half = 0.5 * (right - left)
        return left + half * (x + 1.0), half * w

    dtype = jnp.result_type(a, b, float)
    x_o, w_o, x_p, w_p = (jnp.asarray(v, dtype) for v in (x_o, w_o, x_p, w_p))
    edges = a + (b - a) * jnp.arange(n_panels + 1, dtype=dtype) / n_panels
    panels = mapped(x_p[None, :], w_p[None, :], edges[:-1, None], edges[1:, None])
    pieces = [mapped(x_o, w_o, jnp.asarray(lo, dtype), a), panels, mapped(x_o, w_o, b, jnp.asarray(hi, dtype))]
    return jnp.concatenate([x.ravel() for x, _ in pieces]), jnp.concatenate([w.ravel() for _, w in pieces])


def composite_gauss_legendre(times, order: int = 4):
    """Composite Gauss–Legendre nodes and weights on the intervals of a time grid.

    Exact for polynomials of degree ``2·order − 1`` on each interval, so the cumulative integral
    of a smooth integrand converges as ``h^{2·order}`` in the interval length h.

    Args:
      times: (T,) non-decreasing grid (any spacing).
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
    """``∫_{t_0}^{t_j}`` at every grid point from integrand values at the nodes.

    Args:
      values, weights: (T−1, order) from :func:`composite_gauss_legendre`.

    Returns:
      (T,), starting at 0.

    Any other shapes are refused (``ValueError`` naming them): 1-d inputs were taken as one interval.
    """
    shape, w_shape = np.shape(values), np.shape(weights)
    if len(shape) != 2:
        raise ValueError(f"values must be (T-1, order), one row of node values per interval; got shape {shape}")
    if w_shape != shape:
        raise ValueError(f"weights has shape {w_shape} but values has {shape}: both are (T-1, order)")
    per_interval = jnp.sum(values * weights, axis=-1)
    return jnp.concatenate([jnp.zeros((1,), per_interval.dtype), jnp.cumsum(per_interval)])


def cumulative_error_estimate(values, weights, values_check, weights_check):
    """Estimated error of :func:`cumulative_integral` at every grid point, from a second, more accurate rule.

    Per interval, the composite Gauss–Legendre rules of n and n + 1 nodes (both from
    :func:`composite_gauss_legendre` on the same grid; their nodes interlace) differ by ``|G_n − G_{n+1}|``;
    for an integrand resolved by the grid G_{n+1} is O(h²) more accurate than G_n, so the difference is
    the error of G_n itself (neither a bound nor pessimistic by a power of h). Where the grid does not
    resolve the integrand (a peak narrower than an interval) the two rules sample it at different points
    and typically disagree by the size of the missed contribution, but a peak that falls between the
    nodes of both is missed by both (docs/assignment.md §6). The per-interval differences are summed in
    absolute value (errors of different intervals are not allowed to cancel). A non-finite value at a
    node of either rule makes its interval's estimate ``inf``.

    Args:
      values, weights: (T−1, n) integrand and weights of the rule whose error is estimated.
      values_check, weights_check: (T−1, n + 1) the same for the rule of one more node.

    Returns:
      (T,), starting at 0, non-decreasing.
    """
    diff = jnp.abs(jnp.sum(values * weights, axis=-1) - jnp.sum(values_check * weights_check, axis=-1))
    diff = jnp.where(jnp.isfinite(diff), diff, jnp.inf)
    return jnp.concatenate([jnp.zeros((1,), diff.dtype), jnp.cumsum(diff)])
