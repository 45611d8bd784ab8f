"""The stroboscopic map: collisions of the system with fresh ancillae (SPEC §4; seed 003 eqs. 1–2).

One collision: ``ρ_SA' = U (ρ_S ⊗ ρ_A) U†`` with ``U = exp(−iτ H_SA)``, through
:func:`jaxthermo.collide_unitary`. Energetics, per collision:

* ``Q_A = Tr[H_A(ρ_A' − ρ_A)]``: the ancilla's energy change (seed 003 sign, SPEC §4). Note the
  opposite sign of the library's model-A heat ``Q = −Tr[(ρ_A' − ρ_A)H_A]`` (energy the ancilla
  gives up): ``Q_A = −CollisionResult.energetics.heat``.
* ``ΔE_S = Tr[H_S(ρ_S' − ρ_S)]`` and the global work ``W = Tr[(X' − X)(H_S + H_A)]``, computed
  from the joint state: ``ΔE_S = W − Q_A`` (seed 003 eq. 2); W = 0 to rounding when
  ``[V, H_S + H_A] = 0``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._collision import collide_unitary
from .._dtypes import as_state
from ._model import ancilla_state, collision_unitary, complex_dtype


class CoherentCollision(NamedTuple):
    """One collision (or, stacked, a trajectory of them) of model B.

    Fields: ``system`` ρ_S' (..., d_S, d_S), ``ancilla`` ρ_A', ``joint`` ρ_SA', ``ancilla_heat``
    Q_A = Tr[H_A(ρ_A' − ρ_A)], ``energy_change`` ΔE_S, ``work`` W (global).
    """

    system: jnp.ndarray
    ancilla: jnp.ndarray
    joint: jnp.ndarray
    ancilla_heat: jnp.ndarray
    energy_change: jnp.ndarray
    work: jnp.ndarray


@partial(jax.jit, static_argnames="n_species")
def collide(model, rho, n_species: int = 1) -> CoherentCollision:
    """One collision of ρ_S (d_S, d_S) with a fresh ancilla of ``model`` (SPEC §4).

    ``n_species`` = m rescales the collision to last τ/m with V·m/√τ (several species).
    """
    cdt = complex_dtype(model)
    rho = as_state(rho).astype(cdt)
    res = collide_unitary(rho, ancilla_state(model), collision_unitary(model, n_species), model.H_S, model.H_A)
    e = res.energetics
    return CoherentCollision(res.system, res.ancilla, res.joint, -e.heat, e.energy_change, e.work)


def stroboscopic_step(model, rho):
    """One stroboscopic step ``ρ_S ↦ Tr_A[U(ρ_S ⊗ ρ_A)U†]`` (seed 003 eq. 1).

    Args:
      model: a :class:`CoherentCollisionModel`.
      rho: system state (d_S, d_S).

    Returns:
      ``(ρ_S', ρ_A', ρ_SA')``, shapes (d_S, d_S), (d_A, d_A), (d_S d_A, d_S d_A).
    """
    c = collide(model, rho)
    return c.system, c.ancilla, c.joint


def cycle(model, rho) -> CoherentCollision:
    """One full cycle: the system meets one ancilla of every species in turn (SPEC §4).

    For a :class:`MultiSpeciesModel` with m species each collision lasts τ/m with ``V_j·m/√τ``.
    Returns the stacked per-species :class:`CoherentCollision` (leading axis m); the system state
    after the cycle is ``result.system[-1]``.
    """
    species = model.species
    m = len(species)
    out = []
    for s in species:
        c = collide(s, rho, n_species=m)
        out.append(c)
        rho = c.system
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *out)


class StroboscopicTrajectory(NamedTuple):
    """``states`` (N+1, d_S, d_S) with the initial state first, and per-cycle energetics.

    ``ancilla_heat``, ``energy_change``, ``work``: (N, m) per cycle and species (m = 1 for one).
    """

    states: jnp.ndarray
    ancilla_heat: jnp.ndarray
    energy_change: jnp.ndarray
    work: jnp.ndarray


@partial(jax.jit, static_argnames="n_collisions")
def stroboscopic_trajectory(model, rho0, n_collisions: int) -> StroboscopicTrajectory:
    """N cycles of the stroboscopic map with ``lax.scan`` (SPEC §4), for one or several species.

    The carry keeps the model's complex dtype (float32 models stay complex64).
    """
    rho0 = as_state(rho0).astype(complex_dtype(model.species[0]))

    def step(rho, _):
        c = cycle(model, rho)
        return c.system[-1], (c.system[-1], c.ancilla_heat, c.energy_change, c.work)

    _, (states, q_a, de, w) = jax.lax.scan(step, rho0, None, length=int(n_collisions))
    return StroboscopicTrajectory(jnp.concatenate([rho0[None], states]), q_a, de, w)
