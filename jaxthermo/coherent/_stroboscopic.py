"""The stroboscopic map: collisions of the system with fresh ancillae (docs/coherent.md; [WCCM] eqs. (1)–(2)).

One collision: ``ρ_SA' = U (ρ_S ⊗ ρ_A) U†`` with ``U = exp(−iτ H_SA)``, through
:func:`jaxthermo.collide_unitary`. Energetics per collision, in the vocabulary of every model
(docs/conventions.md):

* ``work`` W = Tr[(X' − X)(H_S + H_A)], the global work, computed from the joint state; W = 0 to
  rounding when ``[V, H_S + H_A] = 0``;
* ``heat`` Q = −Tr[H_A(ρ_A' − ρ_A)], heat INTO THE SYSTEM (the energy the ancilla gives up);
* ``energy_change`` ΔE_S = Tr[H_S(ρ_S' − ρ_S)] = W + Q.

[WCCM] writes the heat on the ancilla's side, ``Q_A = Tr[H_A(ρ_A' − ρ_A)] = −Q``, and the first law as
``ΔE_S = W − Q_A`` ([WCCM] eq. (2)); ``Q_A`` is the extra property ``ancilla_heat``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import CollisionResult, collide_unitary
from .._deprecation import renamed_keyword
from .._dtypes import as_state
from .._qutip import qobj_inputs
from .._validation import check_positive_int
from ._model import (
    _ancilla_state,
    _collision_unitary,
    at_state_precision,
    centered,
    check_collision_phase,
    complex_dtype,
    model_b,
    require_single_species,
    system_state,
)


class CoherentCollision(CollisionResult):
    """One collision (or, stacked, several) of model B: a :class:`jaxthermo.CollisionResult`.

    Fields: ``system`` ρ_S' (..., d_S, d_S), ``ancilla`` ρ_A', ``joint`` ρ_SA', ``energetics``
    (``work`` W, ``heat`` Q into the system, ``energy_change`` ΔE_S = W + Q, also as properties).
    Model-specific property: ``ancilla_heat`` Q_A = Tr[H_A(ρ_A' − ρ_A)] = −heat ([WCCM]'s sign).
    """

    __slots__ = ()

    @property
    def ancilla_heat(self):
        """Q_A = Tr[H_A(ρ_A' − ρ_A)] = −heat: the ancilla's energy change ([WCCM] eq. (2))."""
        return -self.energetics.heat


@model_b
@qobj_inputs("rho")
def collide(model, rho, n_species: int = 1) -> CoherentCollision:
    """One collision of ρ_S (d_S, d_S) with a fresh ancilla of ``model`` (docs/coherent.md).

    ``n_species`` = m, a positive integer, rescales the collision to last τ/m with V·m/√τ (several species). ρ_S may
    carry leading batch axes (kept in every output); a batch of models, and a ρ_S that is not a
    (batch of) density matrices of dimension d_S, are refused (``ValueError``).
    """
    model = at_state_precision(model, rho)
    rho, n_species = collision_inputs(model, rho, "collide", n_species)
    return _collide(model, rho, n_species)


def collision_inputs(model, rho, function: str, n_species=1):
    """``(ρ_S, m)`` of a one-species collision function, checked: one species, m a positive integer,
    ρ_S a (batch of) density matrices of dimension d_S (ρ_A ≥ 0 is checked by ``model_b``)."""
    require_single_species(model, function)
    n_species = check_positive_int(n_species, "n_species")
    rho = system_state(model, rho, function)
    check_collision_phase(model, n_species)
    return rho, n_species


@partial(jax.jit, static_argnames="n_species")
def _collide(model, rho, n_species: int = 1) -> CoherentCollision:
    """:func:`collide` of a checked ρ_S."""
    rho = as_state(rho).astype(complex_dtype(model))
    # energetics are expectations of traceless differences: H − (Tr H/d)·1 gives them without an offset's rounding
    u = _collision_unitary(model, n_species)
    res = collide_unitary(rho, _ancilla_state(model), u, centered(model.H_S), centered(model.H_A))
    return CoherentCollision(*res)


class StroboscopicStep(NamedTuple):
    """The states after one collision: ``system`` ρ_S', ``ancilla`` ρ_A', ``joint`` ρ_SA'."""

    system: jnp.ndarray
    ancilla: jnp.ndarray
    joint: jnp.ndarray


@model_b
@qobj_inputs("rho")
def stroboscopic_step(model, rho) -> StroboscopicStep:
    """One stroboscopic step ``ρ_S ↦ Tr_A[U(ρ_S ⊗ ρ_A)U†]`` ([WCCM] eq. (1)).

    Args:
      model: a :class:`CoherentCollisionModel`.
      rho: system state (..., d_S, d_S); leading batch axes are kept in every output.

    Returns:
      :class:`StroboscopicStep` ``(system, ancilla, joint)``, shapes (..., d_S, d_S), (..., d_A, d_A),
      (..., d_S d_A, d_S d_A); it unpacks like a tuple.
    """
    model = at_state_precision(model, rho)
    rho, _ = collision_inputs(model, rho, "stroboscopic_step")
    c = _collide(model, rho)
    return StroboscopicStep(c.system, c.ancilla, c.joint)


@model_b
@qobj_inputs("rho")
def cycle(model, rho) -> CoherentCollision:
    """One full cycle: the system meets one ancilla of every species in turn (docs/coherent.md).

    For a :class:`MultiSpeciesModel` with m species each collision lasts τ/m with ``V_j·m/√τ``.
    Returns the stacked per-species :class:`CoherentCollision`, species axis m after the batch axes
    of ρ (..., m, ...): for one state (d_S, d_S) the leading axis is m and the system state after
    the cycle is ``result.system[-1]``. Species with different ancilla dimensions d_A are allowed:
    then ``ancilla`` and ``joint`` are tuples of per-species arrays (the other fields are stacked).
    """
    model = at_state_precision(model, rho)
    rho = system_state(model, rho, "cycle")
    for s in model.species:
        check_collision_phase(s, len(model.species))
    return _cycle(model, rho)


def _cycle(model, rho) -> CoherentCollision:
    """:func:`cycle` of a checked ρ_S."""
    species = model.species
    m = len(species)
    n_batch = np.ndim(rho) - 2
    out = []
    for s in species:
        c = _collide(s, rho, n_species=m)
        out.append(c)
        rho = c.system
    return jax.tree_util.tree_map(lambda *x: _stack_species(x, n_batch), *out)


def _stack_species(values, axis):
    """Per-species values stacked on ``axis``, or kept as a tuple when their shapes differ (the
    ancilla and joint states of species with different d_A)."""
    if len({np.shape(x) for x in values}) > 1:
        return tuple(values)
    return jnp.stack(values, axis=axis)


class StroboscopicTrajectory(NamedTuple):
    """``states`` (N+1, d_S, d_S) with the initial state first, and the energetics of every collision.

    With ``states_every = k`` of :func:`stroboscopic_trajectory`, ``states`` holds ρ_S after the steps
    n = 0, k, 2k, … and always the last, n = N; the energetics still cover every step.

    ``work``, ``heat`` (into the system), ``energy_change``: (N, m) per cycle and species (m = 1 for
    one species), as in :class:`CoherentCollision`; property ``ancilla_heat`` = −heat ([WCCM]'s Q_A).
    """

    states: jnp.ndarray
    work: jnp.ndarray
    heat: jnp.ndarray
    energy_change: jnp.ndarray

    @property
    def ancilla_heat(self):
        """Q_A = −heat per cycle and species, (N, m): the ancillae's energy changes ([WCCM] eq. (2))."""
        return -self.heat


@model_b
@qobj_inputs("rho0")
def stroboscopic_trajectory(
    model, rho0, n_steps: int | None = None, *, states_every: int = 1, **deprecated
) -> StroboscopicTrajectory:
    """``n_steps`` cycles of the stroboscopic map with ``lax.scan`` (docs/coherent.md), one or several species.

    Args:
      model: a :class:`CoherentCollisionModel` or :class:`MultiSpeciesModel`.
      rho0: initial system state (d_S, d_S), or a batch (..., d_S, d_S): the batch axes lead every
        output (``states`` (..., N+1, d_S, d_S), ``work`` (..., N, m)). A batch of models is refused.
      n_steps: the number of collision steps, a positive integer (static under ``jit``); with m species
        a step is a cycle of m collisions. The old keyword ``n_collisions=`` still works, with a
        ``DeprecationWarning``.
      states_every: keep ρ_S only after every k-th step (n = 0, k, 2k, …) and after the last, n = N
        (the stride of ``divergence_every`` in :func:`jaxthermo.ensemble`), a positive
        integer, static; ``states_every = n_steps`` keeps the initial and the final state only. The energetics
        (N, m) are those of every step, the same numbers as with k = 1; the stored states then take
        (N/k + 2)·d_S² numbers instead of (N + 1)·d_S² (10⁶ collisions need not hold 10⁶ states). Default 1:
        every state.

    The carry keeps the run's complex dtype, the lower of the model's and ρ0's (a float32 model or a complex64 ρ0
    stays complex64).
    """
    kwargs = dict(deprecated, **({} if n_steps is None else {"n_steps": n_steps}))
    n_steps = renamed_keyword(kwargs, "n_collisions", "n_steps", "stroboscopic_trajectory").pop("n_steps", None)
    if kwargs:
        raise TypeError(f"stroboscopic_trajectory() got unexpected keyword arguments {sorted(kwargs)}")
    if n_steps is None:
        raise TypeError("stroboscopic_trajectory() missing the number of collisions n_steps")
    model = at_state_precision(model, rho0)
    system_state(model, rho0, "stroboscopic_trajectory", "rho0")
    for s in model.species:
        check_collision_phase(s, len(model.species))
    n_steps = check_positive_int(n_steps, "n_steps")
    every = min(check_positive_int(states_every, "states_every"), n_steps)
    batch = np.shape(rho0)[:-2]
    if not batch:
        return _stroboscopic_trajectory(model, rho0, n_steps, every)
    d = model.dims[0]
    flat = jnp.reshape(as_state(rho0), (-1, d, d))
    out = jax.vmap(lambda r: _stroboscopic_trajectory(model, r, n_steps, every))(flat)
    return jax.tree_util.tree_map(lambda x: jnp.reshape(x, batch + x.shape[1:]), out)


def kept_steps(n_steps: int, states_every: int = 1) -> np.ndarray:
    """The steps n whose state ``stroboscopic_trajectory(..., n_steps, states_every=k).states`` holds, in order:
    0, k, 2k, … and N (a k ≥ N is taken as N: the initial and final states)."""
    n_steps = check_positive_int(n_steps, "n_steps")
    every = min(check_positive_int(states_every, "states_every"), n_steps)
    return np.unique(np.append(np.arange(0, n_steps + 1, every), n_steps))


@partial(jax.jit, static_argnames=("n_steps", "every"))
def _stroboscopic_trajectory(model, rho0, n_steps: int, every: int = 1) -> StroboscopicTrajectory:
    rho0 = as_state(rho0).astype(complex_dtype(model))

    # the carry renormalised to Tr ρ_S = 1 (the map preserves it): U is unitary only to ~ε, so the trace drifted by
    # ~ε per collision, and its error entered every later heat as Tr ρ_A H_A·δ (float32, τ = 10⁻³, 2·10⁴ collisions:
    # Tr ρ_S − 1 = 1.2·10⁻⁴ and Σ Q off by 0.3 for 0.023); and Hermitised: its anti-Hermitian rounding grew likewise
    # (float32, τ = 10⁻³: max|ρ − ρ†| = 6.4·10⁻⁶ after 10⁵ collisions)
    def advance(rho):
        c = _cycle(model, rho)
        rho_new = c.system[-1]
        rho_new = 0.5 * (rho_new + jnp.conj(jnp.swapaxes(rho_new, -1, -2)))
        rho_new = rho_new / jnp.real(jnp.trace(rho_new)).astype(rho_new.dtype)
        return rho_new, c.energetics

    def step(rho, _):
        rho_new, e = advance(rho)
        return rho_new, (rho_new, e)

    if every == 1:
        _, (states, e) = jax.lax.scan(step, rho0, None, length=n_steps)
        return StroboscopicTrajectory(jnp.concatenate([rho0[None], states]), e.work, e.heat, e.energy_change)

    # states_every = k: blocks of k steps whose inner scan returns the energetics only, the state once per block
    # (and a last block of N mod k steps), so memory grows with N through the (N, m) scalars alone
    def scalars_only(rho, _):
        return advance(rho)

    def block(rho, _, length=every):
        rho, e = jax.lax.scan(scalars_only, rho, None, length=length)
        return rho, (rho, e)

    n_blocks, rest = divmod(n_steps, every)
    rho, (states, e) = jax.lax.scan(block, rho0, None, length=n_blocks)
    e = jax.tree_util.tree_map(lambda x: jnp.reshape(x, (n_blocks * every,) + x.shape[2:]), e)
    states = [rho0[None], states]
    if rest:
        rho, (last, e_rest) = block(rho, None, length=rest)
        e = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), e, e_rest)
        states.append(last[None])
    return StroboscopicTrajectory(jnp.concatenate(states), e.work, e.heat, e.energy_change)
