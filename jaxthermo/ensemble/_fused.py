"""Fused partial-swap collisions in real arithmetic (the ensemble's fast paths, docs/ensemble.md §2): qubits
as three numbers (here), qudits of d ≥ 3 as the d² real rows of ρ (:func:`qudit_collision`).

A qubit state is carried as three real numbers, ``u = ρ_00 − a`` and ``ρ_01 = x + i y``, with a
per-model offset ``a`` (:func:`rare_offset`): ``a = 0`` carries ``u = p0``, ``a = 1`` carries
``u = p0 − 1 = −p1``. The populations are ``p0 = u + a`` and ``p1 = (1 − a) − u``, so the one that
τ_S makes rare (the excited level for β g0 ≥ 0, the ground level below) is carried to its relative
precision, not recomputed as 1 minus the other: with ``u = p0`` always, a cold system's
p1 = 1 − p0 rounded to 0 below ε ≈ 2·10⁻¹⁶, and D_α(ρ‖τ_S), which depends on p1/t1, was lost
(τ_S at βg0 = 100, the system relaxed to τ(δ = −½): D_2 0 and D_∞ 0 instead of log 2 and 50). ``u``'s
derivative is that of p0 whatever ``a`` (a piecewise constant of the model).

The closed form ``ρ' = cos²θ ρ + sin²θ τ + i sinθ cosθ [τ, ρ]`` becomes, with ``q0 = σ(β_r g_r)``
(logistic) the ground population of τ(δ) and ``w = q0 − a`` (``= −q1 = −σ(−β_r g_r)`` for ``a = 1``,
each logistic evaluated where it is accurate):

    u' = u − sin²θ (u − w)  (w + cos²θ (u − w) for sin²θ > ½),      ρ_01' = ρ_01 (cos²θ + i sinθ cosθ (2w + 2a − 1)),

and with ``Σ_j m_j (q_j − p_j) = p0 − q0 = u − w``: ``ΔU = g0 sin²θ (u − w)``, ``Q = g_r sin²θ (u − w)``,
``W = ΔU − Q`` written as ``−δ g0 sin²θ (u − w)`` (Hamiltonian kind; 0 for the temperature kind)
so that no cancellation of ``g_r − g0`` happens in float32. Tests prove it identical (to
rounding) to :func:`jaxthermo.inhomogeneous.collide_generic`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import Energetics
from .._qudit import spin_z_diagonal, thermal_populations
from ..inhomogeneous import PartialSwap
from ..inhomogeneous._dynamics import partial_swap_energetics, partial_swap_entries
from ..inhomogeneous._model import reservoir_parameters_of


def use_fused_qubit_path(model) -> bool:
    """True for a qubit with exactly the partial-swap coupling (as :func:`~jaxthermo.inhomogeneous.collision_step`)."""
    return model.d == 2 and type(model.coupling) is PartialSwap


def rare_offset(model, dtype):
    """The offset ``a`` of the carried ``u = p0 − a`` (module docstring): 1 where τ_S makes the excited
    level the rare one (β g0 ≥ 0), else 0, in ``dtype`` (β and g0 may be traced: a select, no derivative)."""
    beta, g0 = (jnp.asarray(v).astype(dtype) for v in (model.beta, model.g0))
    return jnp.where(beta * g0 >= 0, 1.0, 0.0).astype(dtype)


def qubit_populations(u, offset=0.0):
    """``(p0, p1)`` of qubits carried as ``u = p0 − offset`` (:func:`rare_offset`)."""
    return u + offset, (1.0 - offset) - u


def qubit_collision(model, state, delta, theta, offset=0.0):
    """One collision of a qubit carried as ``state = (u, x, y)``, ``u = p0 − offset`` (real scalars or
    arrays; ``offset`` 0 or 1, :func:`rare_offset`; with the default 0, ``u = p0``).

    Returns ``((u', x', y'), Energetics)``.
    """
    u, x, y = state
    beta_r, g_r = reservoir_parameters_of(model, delta)
    sign = 1.0 - 2.0 * offset  # +1: w = q0 = σ(β_r g_r); −1: w = −q1 = −σ(−β_r g_r)
    w = sign * jax.nn.sigmoid(sign * (beta_r * g_r))
    c, s = jnp.cos(theta), jnp.sin(theta)
    c2, s2 = c * c, s * s
    phase = s * c * (2 * w + (2.0 * offset - 1.0))  # s c (2 q0 − 1)
    shift = u - w  # p0 − q0
    g0 = jnp.asarray(model.g0).astype(delta.dtype)
    du = g0 * s2 * shift
    if model.kind == "hamiltonian":
        work = -delta * g0 * s2 * shift
    else:
        work = jnp.zeros_like(du)
    # u' = u − sin²θ (u − w): its fixed point is w exactly; c2 u + s2 w had c2 + s2 ≠ 1 by ~ε, a fixed point
    # off by ~ε/sin²θ (float32, θ = 0.003, 3·10⁴ collisions: mean p0 0.744696 for 0.745091). For sin²θ > ½ as
    # w + cos²θ (u − w), the same fixed point: at the full swap θ = π/2, u − (u − w) lost a cold reservoir's
    # w ≪ ε|u| (p1 0 for e^{−40}: D_−2 +∞ for 0), as the generic partial swap did (docs/inhomogeneous.md §13)
    new_u = jnp.where(s2 > 0.5, w + c2 * shift, u - s2 * shift)
    new = (new_u, c2 * x - phase * y, c2 * y + phase * x)
    return new, Energetics(work=work, heat=g_r * s2 * shift, energy_change=du)


def qubit_to_state(u, x, y, offset=0.0):
    """(u, x, y), ``u = p0 − offset`` → the (..., 2, 2) complex density matrix."""
    p0, p1 = qubit_populations(u, offset)
    coh = jax.lax.complex(x, y)
    zero = jnp.zeros_like(p0)
    row0 = jnp.stack([jax.lax.complex(p0, zero), coh], axis=-1)
    row1 = jnp.stack([jnp.conj(coh), jax.lax.complex(p1, zero)], axis=-1)
    return jnp.stack([row0, row1], axis=-2)


def state_to_qubit(rho, offset=0.0):
    """(..., 2, 2) density matrix → (u, x, y), ``u = p0 − offset`` (−ρ_11 for ``offset`` 1: its precision kept)."""
    u = jnp.where(jnp.asarray(offset) > 0, -jnp.real(rho[..., 1, 1]), jnp.real(rho[..., 0, 0]))
    return u, jnp.real(rho[..., 0, 1]), jnp.imag(rho[..., 0, 1])


# --- qudits (d ≥ 3): the state as d² real rows ---------------------------------------------------
#
# A d-level state is carried as the tuple of d² real arrays ``(p_0 … p_{d−1}, x_a …, y_a …)``: the
# populations and, over the pairs a = (i, j), i < j, in ``numpy.triu_indices`` order, ρ_ij = x_a + i y_a.
# The (d, d) complex matrix the closed form works on has 2d² real entries, half of them the lower
# triangle's conjugates; XLA computed both halves.


def use_fused_qudit_path(model) -> bool:
    """True for d ≥ 3 with exactly the partial-swap coupling: the state as real rows (above)."""
    return model.d > 2 and type(model.coupling) is PartialSwap


def state_to_rows(rho):
    """(..., d, d) density matrix → the d² real rows (p_j, x_a, y_a), each of shape (...)."""
    d = rho.shape[-1]
    upper = [rho[..., i, j] for i, j in zip(*np.triu_indices(d, 1))]
    return tuple(
        [jnp.real(rho[..., j, j]) for j in range(d)] + [jnp.real(z) for z in upper] + [jnp.imag(z) for z in upper]
    )


def rows_to_state(rows):
    """Inverse of :func:`state_to_rows`: d² real rows (...) → the (..., d, d) complex matrix."""
    d = math.isqrt(len(rows))
    p, pairs = rows[:d], list(zip(*np.triu_indices(d, 1)))
    k = len(pairs)
    entry = {(i, j): jax.lax.complex(rows[d + a], rows[d + k + a]) for a, (i, j) in enumerate(pairs)}
    zero = jnp.zeros_like(p[0])

    def at(i, j):
        if i == j:
            return jax.lax.complex(p[i], zero)
        return entry[(i, j)] if i < j else jnp.conj(entry[(j, i)])

    return jnp.stack([jnp.stack([at(i, j) for j in range(d)], axis=-1) for i in range(d)], axis=-2)


def qudit_collision(model, rows, delta, theta):
    """One partial-swap collision of qudits carried as real rows (:func:`state_to_rows`), the closed form
    ``ρ' = cos²θ ρ + sin²θ τ + i sinθ cosθ [τ, ρ]`` (docs/inhomogeneous.md) entry by entry, with the
    rounding of :func:`jaxthermo.inhomogeneous.collision_step`: for τ = diag(q),

        p_j' = p_j + sin²θ (q_j − p_j)  (cos²θ p_j + sin²θ q_j for sin²θ > ½),
        ρ_ij' = cos²θ ρ_ij + i sinθ cosθ (q_i − q_j) ρ_ij,

    and ``ΔU = g0 sin²θ Σ_j m_j (q_j − p_j)``, ``Q = g_r sin²θ Σ_j m_j (q_j − p_j)``, ``W = ΔU − Q``.

    Returns ``(rows', Energetics)``.
    """
    d = model.d
    p, pairs = rows[:d], list(zip(*np.triu_indices(d, 1)))
    k = len(pairs)
    x, y = rows[d : d + k], rows[d + k :]
    beta_r, g_r = reservoir_parameters_of(model, delta)
    q = thermal_populations(d, beta_r, g_r)
    q = [q[..., j] for j in range(d)]
    c, s = jnp.cos(theta), jnp.sin(theta)
    new_p = [partial_swap_entries(pj, 0.0, qj, 0.0, c, s)[0] for pj, qj in zip(p, q)]
    off = [partial_swap_entries(x[a], y[a], 0.0, (s * c) * (q[i] - q[j]), c, s) for a, (i, j) in enumerate(pairs)]
    m = spin_z_diagonal(d, delta.dtype)
    shift = sum(m[j] * (q[j] - p[j]) for j in range(d))
    g0 = jnp.asarray(model.g0).astype(delta.dtype)
    return tuple(new_p + [o[0] for o in off] + [o[1] for o in off]), partial_swap_energetics(g_r, g0, s, shift)
