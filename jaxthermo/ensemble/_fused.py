"""Fused qubit partial-swap collision in real arithmetic (the ensemble's fast path, docs/ensemble.md).

A qubit state is carried as three real numbers, ``p0 = ρ_00`` and ``ρ_01 = x + i y``. The closed
form ``ρ' = cos²θ ρ + sin²θ τ + i sinθ cosθ [τ, ρ]`` becomes, with ``q0 = σ(β_r g_r)`` (logistic)
the ground population of τ(δ):

    p0' = cos²θ p0 + sin²θ q0,      ρ_01' = ρ_01 (cos²θ + i sinθ cosθ (2 q0 − 1)),

and with ``Σ_j m_j (q_j − p_j) = p0 − q0``: ``ΔU = g0 sin²θ (p0 − q0)``, ``Q = g_r sin²θ (p0 − q0)``,
``W = ΔU − Q`` written as ``−δ g0 sin²θ (p0 − q0)`` (Hamiltonian kind; 0 for the temperature kind)
so that no cancellation of ``g_r − g0`` happens in float32. Tests prove it identical (to
rounding) to :func:`jaxthermo.inhomogeneous.collide_generic`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._collision import Energetics
from ..inhomogeneous import PartialSwap, reservoir_parameters


def use_fused_qubit_path(model) -> bool:
    """True for a qubit with exactly the partial-swap coupling (as :func:`~jaxthermo.inhomogeneous.collision_step`)."""
    return model.d == 2 and type(model.coupling) is PartialSwap


def qubit_collision(model, state, delta, theta):
    """One collision of a qubit carried as ``state = (p0, x, y)`` (real scalars or arrays).

    Returns ``((p0', x', y'), Energetics)``.
    """
    p0, x, y = state
    beta_r, g_r = reservoir_parameters(model, delta)
    q0 = jax.nn.sigmoid(beta_r * g_r)
    c, s = jnp.cos(theta), jnp.sin(theta)
    c2, s2 = c * c, s * s
    phase = s * c * (2 * q0 - 1)
    shift = p0 - q0
    g0 = jnp.asarray(model.g0).astype(delta.dtype)
    du = g0 * s2 * shift
    if model.kind == "hamiltonian":
        work = -delta * g0 * s2 * shift
    else:
        work = jnp.zeros_like(du)
    new = (c2 * p0 + s2 * q0, c2 * x - phase * y, c2 * y + phase * x)
    return new, Energetics(work=work, heat=g_r * s2 * shift, energy_change=du)


def qubit_to_state(p0, x, y):
    """(p0, x, y) → the (..., 2, 2) complex density matrix."""
    coh = jax.lax.complex(x, y)
    p0c = jax.lax.complex(p0, jnp.zeros_like(p0))
    row0 = jnp.stack([p0c, coh], axis=-1)
    row1 = jnp.stack([jnp.conj(coh), 1 - p0c], axis=-1)
    return jnp.stack([row0, row1], axis=-2)


def state_to_qubit(rho):
    """(..., 2, 2) density matrix → (p0, x, y)."""
    return jnp.real(rho[..., 0, 0]), jnp.real(rho[..., 0, 1]), jnp.imag(rho[..., 0, 1])
