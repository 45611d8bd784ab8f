"""Collisions and trajectories of model A (docs/inhomogeneous.md).

Two routes to the same collision:

* :func:`collide_generic` — the reference: build U (any coupling), evolve ρ ⊗ τ(δ) and take
  partial traces and expectation values through :func:`jaxthermo.collide_unitary`.
* :func:`collide_closed_form` — the partial-swap fast path, elementwise on the d×d state:
  ``ρ' = cos²θ ρ + sin²θ τ + i sinθ cosθ [τ, ρ]`` (any ρ), and with ``m_j = j − (d−1)/2``
  ``W = (g_r − g0) sin²θ Σ m_j (p_j − q_j)``, ``Q = g_r sin²θ Σ m_j (q_j − p_j)``,
  ``ΔU = g0 sin²θ Σ m_j (q_j − p_j)``; for the Hamiltonian kind W = δ g0 sin²θ Σ j (p_j − q_j).

:func:`collision_step` (and :func:`collide`) picks the fast path for :class:`PartialSwap` and the
generic one otherwise; tests prove the two identical. Energetics follow the package's vocabulary
(docs/conventions.md): ``work`` done on S+R, ``heat`` into the system (given up by the reservoir
qudit, ``Q = −Tr[(τ' − τ) H_r]``), ``energy_change`` of the system, ``ΔU = W + Q``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import CollisionResult, Energetics, collide_unitary, energetics_properties
from .._dtypes import as_state, real_dtype_for
from .._qudit import populations
from .._qutip import as_array, qobj_inputs
from .._validation import (
    check_density_matrix,
    check_finite,
    check_flag,
    check_numeric,
    check_populations,
    check_real_scalar,
    check_unitary,
    should_validate,
    value_checks_enabled,
)
from ._model import (
    ExactUnitary,
    InhomogeneousReservoir,
    check_representable,
    has_closed_form,
    level_offsets,
    model_a,
    reservoir_hamiltonian,
    reservoir_parameters,
    reservoir_populations,
    reservoir_state,
)


class Trajectory(NamedTuple):
    """A sequence of N collisions: states (N+1, d, d) or None, and per-collision energetics (N,)."""

    states: jnp.ndarray | None
    work: jnp.ndarray
    heat: jnp.ndarray
    energy_change: jnp.ndarray

    @property
    def energetics(self) -> Energetics:
        return Energetics(self.work, self.heat, self.energy_change)


@energetics_properties
class CollisionStep(NamedTuple):
    """One collision: the system state after it (d, d) and its :class:`~jaxthermo.Energetics`."""

    state: jnp.ndarray
    energetics: Energetics


def _check_theta(theta):
    """An explicit ``theta=`` of one collision is one finite real angle: a (2,) array was broadcast into a
    matrix of trace ≠ 1 and two energetics, NaN came out as NaN and 1j as θ = 0 (its real part), without a
    word. ``None`` (the model's θ, checked by the model) and traced values pass."""
    if theta is not None:
        check_numeric(theta, "theta")
        check_real_scalar(theta, "theta")


def _prepare(model, rho, delta, theta):
    _check_theta(theta)
    rho = as_state(rho)
    rdt = real_dtype_for(rho.dtype)
    delta = jnp.asarray(delta).astype(rdt)
    theta = jnp.asarray(model.theta if theta is None else theta).astype(rdt)
    return rho, delta, theta


@model_a
def collide_generic(model: InhomogeneousReservoir, rho, delta, theta=None) -> CollisionResult:
    """One collision through the full (d², d²) density matrix, any coupling (docs/inhomogeneous.md).

    Args:
      model: the reservoir model.
      rho: system state (d, d), coherent or not.
      delta: the inhomogeneity δ of this reservoir qudit (scalar).
      theta: the mixing angle of this collision (default ``model.theta``).
    """
    _check_one_collision(model, rho, delta, theta)  # a (2,) δ gave a batch matching neither δ, without a word
    return _collide_generic(model, rho, delta, theta)


def _check_one_collision(model, rho, delta, theta):
    _validate(model, rho, delta)
    _check_one_delta(delta)
    if theta is None:
        _require_scalar_theta(model, "pass theta= or use trajectory for a θ schedule")
    else:  # a traced NaN θ gave a NaN collision under validate="always": staged there, as a traced δ is
        check_numeric(theta, "theta")
        check_finite(theta, "theta")


def _collide_generic(model, rho, delta, theta) -> CollisionResult:
    """:func:`collide_generic` without validation."""
    rho, delta, theta = _prepare(model, rho, delta, theta)
    u = coupling_unitary(model, theta, delta)
    h_s = jnp.asarray(model.g0).astype(delta.dtype) * level_offsets(model, delta.dtype)
    h_s = h_s[:, None] * jnp.eye(model.d, dtype=delta.dtype)
    return collide_unitary(rho, reservoir_state(model, delta), u, h_s, reservoir_hamiltonian(model, delta))


def coupling_unitary(model, theta, delta):
    """``model.coupling.unitary(model, θ, δ)``, refused with a ``ValueError`` naming the coupling unless it is
    one (d², d²) matrix, and (concrete) unitary to rounding (:func:`~jaxthermo._validation.check_unitary`):
    a (d, d) or a batched matrix was otherwise refused as ``unitary``, named after no coupling."""
    name = f"{type(model.coupling).__name__}.unitary"
    u = model.coupling.unitary(model, theta, delta)
    _check_unitary_shape(model, np.shape(u), name)
    check_unitary(u, name)
    return u


def _check_unitary_shape(model, shape, name):
    n = model.d**2
    if tuple(shape) != (n, n):
        raise ValueError(
            f"{name} returned shape {tuple(shape)}; d = {model.d} needs one ({n}, {n}) matrix (system ⊗ reservoir qudit)"
        )


@jax.jit
def _max_nonunitarity(model, deltas, thetas):
    """max over the collisions of max |U†U − 1| of the coupling's unitaries (a scan: one U at a time)."""

    def step(worst, x):
        u = jnp.asarray(model.coupling.unitary(model, x[1], x[0]))
        # in the run's precision: a coupling building U in complex128 inside a float32 run is cast by the run too
        dev = jnp.max(jnp.abs(jnp.conj(u.T) @ u - jnp.eye(u.shape[-1], dtype=u.dtype))).astype(worst.dtype)
        return jnp.where(jnp.isnan(dev) | (dev > worst), dev, worst), None

    return jax.lax.scan(step, jnp.zeros((), deltas.dtype), (deltas, thetas))[0]


def _check_trajectory_coupling(model, deltas, thetas, over: str = "the trajectory's collisions"):
    """A user's coupling, whose unitary the scan cannot check, is checked over the trajectory's (δ_r, θ_r)
    beforehand (``over`` names them in the error): a coupling returning 2U ran with Tr ρ renormalised, its heat
    4× the unitary one without a word."""
    if has_closed_form(model.coupling) or type(model.coupling) is ExactUnitary:
        return
    name = f"{type(model.coupling).__name__}.unitary"
    shape = jax.eval_shape(lambda: model.coupling.unitary(model, thetas[0], deltas[0])).shape
    _check_unitary_shape(model, shape, name)
    if not (value_checks_enabled() and should_validate(deltas) and should_validate(thetas)):
        return
    eps = float(np.finfo(deltas.dtype).eps)
    tol = max(1e-8, 100 * model.d**2 * eps)  # check_unitary's tolerance
    worst = float(_max_nonunitarity(model, deltas, thetas))
    if not worst <= tol:
        raise ValueError(f"{name} is not unitary: max |U†U - 1| = {worst:.3g} over {over}")


@qobj_inputs("rho")
def partial_swap_update(rho, q, theta):
    """System state after a partial swap with a diagonal ancilla ``diag(q)`` (docs/inhomogeneous.md), (d, d).

    ``ρ' = cos²θ ρ + sin²θ τ + i sinθ cosθ [τ, ρ]`` for any ρ (coherent or not); linear in τ, so
    the ensemble-averaged map is the same update with τ̄ ([ATO-preprint] eq. (10)). Evaluated as
    ``ρ + sin²θ (τ − ρ) + …``: in float32, fl(cos²θ) + fl(sin²θ) ≠ 1 pulled the trace to 1 + O(ε/sin²θ)
    (θ = 0.003, 3·10⁵ collisions: 1.0083, and the summed heat of the sign opposite to float64's). For
    sin²θ > ½ as ``cos²θ ρ + sin²θ τ + …``: at θ = π/2, ρ + (τ − ρ) lost the populations q_j ≪ ε p_j (ΔF_∞ 97 % off).
    Concrete inputs are checked (a density matrix ``rho`` of ``q``'s dimension, populations ``q``, a finite real
    ``theta``): a non-positive ρ or a NaN θ was mapped without a word.
    """
    check_populations(q, "q")
    check_density_matrix(rho, "rho", dim=int(np.shape(q)[-1]) if np.ndim(q) == 1 else None)
    check_numeric(theta, "theta")
    check_finite(theta, "theta")
    if np.ndim(theta) != 0:  # applied per level: a state of trace 0.912
        raise ValueError(f"theta: one angle (a scalar); got shape {np.shape(theta)} (map over angles with jax.vmap)")
    return _partial_swap(as_state(rho), q, theta, source=True)  # an integer ρ failed in lax.complex


def _partial_swap(rho, q, theta, source: bool):
    """:func:`partial_swap_update`; ``source=False`` drops the ``sin²θ τ`` term, the map of a deviation
    D = ρ − τ from its fixed point τ: ``D' = cos²θ D + i sinθ cosθ [τ, D]``."""
    rho = jnp.asarray(rho)
    x, y = jnp.real(rho), jnp.imag(rho)
    rdt = x.dtype
    c, s = jnp.cos(theta).astype(rdt), jnp.sin(theta).astype(rdt)
    q = jnp.asarray(q).astype(rdt)
    target = q[:, None] * jnp.eye(q.shape[-1], dtype=rdt) if source else jnp.zeros_like(x)
    return jax.lax.complex(*partial_swap_entries(x, y, target, (s * c) * (q[:, None] - q[None, :]), c, s))


def partial_swap_entries(x, y, target, k, c, s):
    """The partial swap entry by entry in real arithmetic (complex products by real factors cost 3× more in
    XLA): ρ_ij = x + i y, ``target`` = τ_ij, ``k`` = sinθ cosθ (q_i − q_j) for τ = diag(q), ``c, s`` = cos θ, sin θ:

        x' = x + s² (τ_ij − x) − k y  (c² x + s² τ_ij − k y for s² > ½),  y' = y − s² y + k x.

    Returns ``(x', y')``; any shapes that broadcast (the (d, d) matrix, or one entry's (B,) row in the ensemble).
    """
    ss = s * s
    new_x = jnp.where(ss > 0.5, (c * c) * x + ss * target, x + ss * (target - x)) - k * y  # (partial_swap_update)
    return new_x, (y - ss * y) + k * x


def partial_swap_energetics(g_r, g0, s, shift) -> Energetics:
    """W, Q, ΔU of a partial-swap collision from ``shift`` = Σ_j m_j (q_j − p_j): ΔU = g0 sin²θ shift,
    Q = g_r sin²θ shift, W = ΔU − Q (docs/inhomogeneous.md)."""
    s2 = s * s
    return Energetics(work=-(g_r - g0) * s2 * shift, heat=g_r * s2 * shift, energy_change=g0 * s2 * shift)


@model_a
def collide_closed_form(model: InhomogeneousReservoir, rho, delta, theta=None) -> CollisionStep:
    """The partial-swap collision in closed form, elementwise (docs/inhomogeneous.md).

    Returns a :class:`CollisionStep` ``(state, energetics)`` (unpacks as ``rho_new, e``). For
    :class:`PartialSwap` only (:func:`collision_step` takes any coupling).
    """
    if not has_closed_form(model.coupling):  # it returned the partial swap's result for any coupling
        raise ValueError(
            f"model.coupling: {type(model.coupling).__name__} has no closed form; collide_closed_form is the "
            "partial swap's (use collision_step or collide_generic)"
        )
    # ρ and δ were not checked: NaN, non-positive or trace-2 states were mapped, a (2,) δ gave an imaginary diagonal
    _check_one_collision(model, rho, delta, theta)
    return _collide_closed_form(model, rho, delta, theta)


def _collide_closed_form(model, rho, delta, theta) -> CollisionStep:
    """:func:`collide_closed_form` without validation (the hot path inside scans)."""
    rho, delta, theta = _prepare(model, rho, delta, theta)
    rdt = delta.dtype
    q = reservoir_populations(model, delta)
    _, g_r = reservoir_parameters(model, delta)
    g0 = jnp.asarray(model.g0).astype(rdt)
    s = jnp.sin(theta)
    rho_new = _partial_swap(rho, q, theta, source=True)
    m = level_offsets(model, rdt)
    shift = jnp.sum(m * (q - populations(rho)))  # Σ m_j (q_j − p_j)
    return CollisionStep(rho_new, partial_swap_energetics(g_r, g0, s, shift))


@model_a
def collision_step(model: InhomogeneousReservoir, rho, delta, theta=None) -> CollisionStep:
    """One collision with an explicit mixing angle: the building block of trajectories and ensembles.

    The closed form for :class:`PartialSwap`, the full density matrix for any other
    :class:`~jaxthermo.Coupling`. Traceable (``jit``, ``vmap``, ``grad``); concrete inputs are validated.

    Args:
      model: the reservoir model.
      rho: system state (d, d).
      delta: inhomogeneity δ of this reservoir qudit (scalar).
      theta: mixing angle of this collision (scalar; default ``model.theta``, which must then be a scalar).

    Returns:
      :class:`CollisionStep` ``(state, energetics)``; ``energetics`` has ``work``, ``heat`` (into the
      system) and ``energy_change``.
    """
    _check_one_collision(model, rho, delta, theta)
    return _collide(model, rho, delta, theta)


def _collide(model, rho, delta, theta) -> CollisionStep:
    """:func:`collision_step` without validation (the hot path inside scans)."""
    if has_closed_form(model.coupling):
        return _collide_closed_form(model, rho, delta, theta)
    result = _collide_generic(model, rho, delta, theta)
    return CollisionStep(result.system, result.energetics)


@model_a
def collide(model: InhomogeneousReservoir, rho, delta) -> CollisionStep:
    """One collision of the system in ``rho`` with a reservoir qudit of inhomogeneity ``delta``.

    Returns a :class:`CollisionStep` ``(state, energetics)`` (unpacks as ``rho_next, e``) with
    ``e.work`` (done on S+R), ``e.heat`` (into the system, given up by the reservoir qudit) and
    ``e.energy_change`` (ΔU = W + Q); docs/conventions.md. Uses the closed form for the partial
    swap and the full density matrix for any other coupling; θ is ``model.theta`` (a scalar).
    """
    _validate(model, rho, delta)
    _check_one_delta(delta)
    _require_scalar_theta(model, "use trajectory for a θ schedule")
    return _collide(model, rho, delta, None)


@model_a
def trajectory(model: InhomogeneousReservoir, rho0, deltas, store_states: bool = True) -> Trajectory:
    """N collisions over a given δ sequence with ``lax.scan`` (docs/inhomogeneous.md).

    Args:
      model: the reservoir model; ``model.theta`` is a scalar or an (N,) schedule θ_r.
      rho0: initial system state (d, d).
      deltas: (N,) inhomogeneities δ_1…δ_N.
      store_states: keep the states (N+1, d, d); energetics are always returned.

    Returns:
      :class:`Trajectory` with ``.states`` (N+1, d, d) (or None), ``.work``, ``.heat``,
      ``.energy_change`` (N,).
    """
    check_flag(store_states, "store_states")
    _validate(model, rho0, deltas, "rho0", "deltas")
    rho0 = as_state(rho0)
    rdt = real_dtype_for(rho0.dtype)
    deltas = jnp.asarray(deltas).astype(rdt)
    if deltas.ndim != 1:
        raise ValueError(f"deltas must be a 1-d sequence (N,); got shape {deltas.shape}")
    thetas = jnp.asarray(model.theta).astype(rdt)
    if thetas.ndim not in (0, 1) or (thetas.ndim == 1 and thetas.shape != deltas.shape):
        raise ValueError(f"theta must be a scalar or have shape {deltas.shape}; got {thetas.shape}")
    thetas = jnp.broadcast_to(thetas, deltas.shape)
    if deltas.size:
        _check_trajectory_coupling(model, deltas, thetas)
    return _trajectory_scan(model, rho0, deltas, thetas, bool(store_states))


@partial(jax.jit, static_argnames="store_states")
def _trajectory_scan(model, rho0, deltas, thetas, store_states):
    """The scan of :func:`trajectory`, compiled once per model structure, shapes and dtypes: a loop
    over β, θ or δ sequences reuses it (eagerly, the scan was traced and compiled at every call)."""

    generic = not has_closed_form(model.coupling)

    def step(rho, x):
        delta, theta = x
        rho_new, e = _collide(model, rho, delta, theta)
        if generic:  # U unitary to ~ε only: Tr ρ drifted by ~ε per collision (the map preserves it), and its error
            # entered every later heat (float32 ExactUnitary, θ = 0.01, 2·10⁴ collisions: Σ Q off by 0.18 for 0.0022)
            rho_new = rho_new / jnp.trace(rho_new)
        return rho_new, (rho_new if store_states else None, e)

    _, (states, e) = jax.lax.scan(step, rho0, (deltas, thetas))
    if store_states:
        states = jnp.concatenate([rho0[None], states], axis=0)
    return Trajectory(states, e.work, e.heat, e.energy_change)


def _check_one_delta(delta):
    """One collision takes one δ: batch axes are refused (use ``jax.vmap``), never summed or
    broadcast into a wrong state (the state's shape is checked by :func:`_validate`)."""
    if np.ndim(delta) != 0:
        raise ValueError(
            f"delta must be a scalar (one reservoir qudit); got shape {np.shape(delta)}: "
            "use jax.vmap over collide for a batch, or trajectory for a sequence"
        )


def _require_scalar_theta(model, advice):
    """One collision has one mixing angle: a θ schedule in ``model.theta`` is refused (``advice``: what to use)."""
    if np.ndim(model.theta) != 0:
        raise ValueError(f"theta: one collision needs a scalar θ; got shape {np.shape(model.theta)}: {advice}")


def _validate(model, rho, delta, rho_name="rho", delta_name="delta"):
    """One finite state of the model's dimension (a batch of states is refused: model A's functions
    take one state, so a batch is never summed into one result) and real, finite δ's."""
    check_density_matrix(rho, rho_name, dim=model.d)
    shape = np.shape(as_array(rho, rho_name))  # a QuTiP ket counts as its density matrix
    if shape != (model.d, model.d):
        raise ValueError(
            f"{rho_name} must be one state of shape ({model.d}, {model.d}); got {shape}: "
            "use jax.vmap for a batch of states"
        )
    check_numeric(delta, delta_name)
    check_finite(delta, delta_name)
    _check_overflow(model, rho, delta, delta_name)


def _check_overflow(model, rho, delta, delta_name):
    """Refuse, with a ``ValueError`` naming the parameters, a collision whose numbers overflow the state's
    precision (they came out inf and NaN without an error: float32 g0 = 3·10³⁸ with δ = 0.5 gave W = inf,
    Q = −inf): :func:`~jaxthermo.inhomogeneous._model.check_representable` in that precision, of the model
    when it is narrower than the model's own (a float64 β = 10³⁰⁰ with a complex64 state), then at the
    given δ's (``deltas=``: the reservoir qudit's spacing or β_r, the exponent of τ(δ) and the energies of
    one collision). Traced values are not checked."""
    if not (value_checks_enabled() and should_validate(delta) and should_validate(rho)):
        return
    if not all(should_validate(getattr(model, name)) for name in ("beta", "g0", "theta")):
        return
    rdt = np.dtype(real_dtype_for(as_state(rho).dtype))
    own = np.result_type(*(np.asarray(getattr(model, n)).dtype for n in ("beta", "g0", "theta")), np.float32)
    if np.finfo(rdt).max < np.finfo(own).max:
        check_representable(model, rdt)
    check_representable(model, rdt, deltas=delta, delta_name=delta_name)
