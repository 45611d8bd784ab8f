"""Second laws of thermal operations under inhomogeneity (docs/inhomogeneous.md; [ATO-preprint] §IV,
[ATO19] §V–VI).

* :func:`free_energies` — F_α(ρ‖τ_S) for a set of α (negative, 0, 1, ∞ included) of one state or
  of every state of a trajectory; ΔF_α of a collision or along a trajectory are differences.
* :func:`collision_second_laws` — W and ΔF_α of one collision ([ATO19] Fig. 4: ΔF_1 ≤ W always,
  ΔF_α ≤ W fails for α > 1 at δ > 0).
* :func:`entropy_production` — ΔS = S(ρ'_SR ‖ ρ'_S ⊗ τ(δ)) ≥ 0 ([ATO19] §V).

The long-term comparison of [ATO19] Fig. 5 (frozen configurations against the averaged dynamics)
samples configurations, so it lives with the ensemble engine:
:func:`jaxthermo.ensemble.frozen_vs_averaged_divergence`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import as_state, cast_floats, real_dtype_for
from .._information import divergences_to_thermal as _divergences_to_thermal
from .._information import free_energy as classical_free_energy
from .._information import (
    free_energy_from,
    log_thermal_populations,
    quantum_divergence_change_to_diagonal,
    quantum_free_energy,
    renyi_divergence_change_log,
    von_neumann_entropy,
    x_minus_log1p,
)
from .._qudit import populations
from .._validation import check_density_matrix, check_finite_temperature, check_flag, check_orders, is_concrete
from ._dynamics import _check_one_delta, _collide, _collide_generic, _prepare, _require_scalar_theta, _validate
from ._model import InhomogeneousReservoir, has_closed_form, model_a, reservoir_parameters, reservoir_populations


@model_a
def free_energies(model: InhomogeneousReservoir, rho, alphas, quantum: bool = False):
    """``F_α(ρ‖τ_S) = [D_α(ρ‖τ_S) − log Z_S]/β`` for each α (docs/information.md; [ATO19] eq. (32)).

    Args:
      model: gives β, g0 and d of τ_S.
      rho: states (..., d, d).
      alphas: (k,) real orders; any real α (±∞ included) for the classical divergence.
      quantum: use the quantum divergences (Petz below α = 1, Umegaki, sandwiched above) for states
        with coherence; α must then be ≥ 0. The default uses the populations (commuting states,
        the papers' setting).

    Returns:
      (..., k) free energies.
    """
    _check_states_and_orders(model, rho, alphas, quantum)
    rho = as_state(rho)
    rdt = real_dtype_for(rho.dtype)
    model = cast_floats(model, rdt)  # the state's precision (a Python β with a float32 state: float32)
    if quantum:  # the orders select the quantum divergence: concrete (host) values, so jit/vmap/grad trace
        values = [quantum_free_energy(rho, model.beta, model.g0, a) for a in check_orders(alphas)]
        return jnp.stack(values, axis=-1)
    alphas = jnp.atleast_1d(jnp.asarray(alphas, dtype=rdt))
    p = populations(rho)
    return classical_free_energy(p[..., None, :], model.beta, model.g0, alphas)


@model_a
def free_energy_changes(model: InhomogeneousReservoir, states, alphas, quantum: bool = False):
    """ΔF_α of every collision of a trajectory: ``F_α(ρ_r) − F_α(ρ_{r−1})``, shape (N, k).

    ``states`` (..., N+1, d, d), e.g. ``trajectory(...).states`` or ``averaged_trajectory(...).states``
    (a single (d, d) state is refused: it has no collision, and the difference ran over the α axis).
    """
    if np.ndim(states) < 3:
        raise ValueError(
            f"states must have shape (..., N+1, d, d), the states of a trajectory; got shape {np.shape(states)}"
        )
    return _free_energy_differences(model, states, alphas, quantum)


def _free_energy_differences(model, states, alphas, quantum, changes=None, state_changes=None):
    """``[D_α(ρ_r‖τ_S) − D_α(ρ_{r−1}‖τ_S)]/β`` along axis −3 of ``states``: ΔF_α without the log Z_S of each
    F_α, whose rounding ε·|F_α| swamped a small ΔF_α (float32 qubit, βg0 = 1, θ = 0.3: ΔF_1 1.6 % off; float64
    at θ = 10⁻³ ~10⁻⁵), while D_α of states near τ_S is small itself. From the populations (``quantum=False``)
    as ΔD_α of the population change itself (:func:`~jaxthermo._information.renyi_divergence_change_log`;
    ``changes``, (..., N, d), where the caller has it in closed form, else the differences of the populations):
    the difference of the two D_α lost ε D_α/|ΔD_α| (θ = 10⁻⁵: ΔF_α 10⁻⁶–10⁻⁵ off; θ = 10⁻⁸: 0)."""
    _check_states_and_orders(model, states, alphas, quantum, name="states")
    check_finite_temperature(model.beta)
    rdt = real_dtype_for(as_state(states).dtype)
    model = cast_floats(model, rdt)  # the states' precision, as free_energies
    beta = jnp.asarray(model.beta).astype(rdt)
    states = as_state(states)
    p = populations(states).astype(rdt)
    dp = jnp.diff(p, axis=-2) if changes is None else jnp.asarray(changes).astype(rdt)
    log_t = log_thermal_populations(model.d, beta, jnp.asarray(model.g0).astype(rdt))
    orders = jnp.atleast_1d(jnp.asarray(check_orders(alphas) if quantum else alphas, dtype=rdt))
    change = renyi_divergence_change_log(p[..., :-1, None, :], dp[..., None, :], log_t, orders, p[..., 1:, None, :])
    change = free_energy_from(change, beta)
    if not quantum:
        return change
    # the quantum divergences are the classical ones between diagonal states: a pair of them keeps the change above
    # (the difference of the quantum D_α was 0 at θ = 10⁻⁸ as well); with coherences ΔD_α from Δρ itself
    # (:func:`~jaxthermo._information.quantum_divergence_change_to_diagonal`; ``state_changes`` (..., N, d, d) where
    # the caller has Δρ in closed form, else the differences of the states)
    old, new = states[..., :-1, :, :], states[..., 1:, :, :]
    d_rho = new - old if state_changes is None else jnp.asarray(state_changes).astype(states.dtype)
    quantum_change = jnp.stack(
        [quantum_divergence_change_to_diagonal(old, d_rho, log_t, a, new) for a in check_orders(alphas)], axis=-1
    )
    quantum_change = free_energy_from(quantum_change, beta.astype(quantum_change.dtype))
    diagonal = jnp.all(jnp.eye(model.d, dtype=bool) | (states == 0), axis=(-2, -1))
    pair = (diagonal[..., :-1] & diagonal[..., 1:])[..., None]
    return jnp.where(pair, change.astype(quantum_change.dtype), quantum_change)


@model_a
def divergences_to_thermal(model: InhomogeneousReservoir, rho, alphas, quantum: bool = False):
    """``D_α(ρ‖τ_S)`` to the system's thermal state, one column per α, (..., k) ([ATO19] eq. (33)).

    From the populations by default; ``quantum=True`` uses the quantum divergences (docs/information.md).
    A thin call of :func:`jaxthermo._information.divergences_to_thermal` with τ_S of ``g0 s_z`` at β.
    """
    _check_states_and_orders(model, rho, alphas, quantum)
    # the quantum divergence is chosen by each α: host floats, so the call traces under jit/checkpoint
    alphas = check_orders(alphas) if quantum else jnp.atleast_1d(jnp.asarray(alphas, dtype=float))
    return _divergences_to_thermal(rho, model.beta, model.g0, alphas, quantum=quantum)


def _check_states_and_orders(model, rho, alphas, quantum, name="rho"):
    """States (..., d, d) of the model's dimension (``name``: the caller's parameter), real, non-NaN orders, a scalar
    or (k,) (when concrete; (1, k) orders were broadcast against the states' batch axes instead of giving (..., k)),
    and a bool ``quantum``."""
    check_flag(quantum, "quantum")
    check_density_matrix(rho, name, dim=model.d)
    if is_concrete(alphas):
        check_orders(alphas)
    if np.ndim(alphas) > 1:
        raise ValueError(f"alphas must be a scalar or a 1-d array of orders (k,); got shape {np.shape(alphas)}")


class CollisionSecondLaws(NamedTuple):
    """One collision: W and ΔF_α (k,) (both in energy units; multiply by β for βW, βΔF_α)."""

    work: jnp.ndarray
    free_energy_change: jnp.ndarray


@model_a
def collision_second_laws(model: InhomogeneousReservoir, rho, delta, alphas, quantum: bool = False):
    """W and ΔF_α = F_α(ρ'‖τ_S) − F_α(ρ‖τ_S) of one collision with inhomogeneity δ (docs/inhomogeneous.md)."""
    check_flag(quantum, "quantum")
    _validate(model, rho, delta)
    _check_one_delta(delta)
    _require_scalar_theta(model, "use model.replace(theta=theta_r) for collision r")
    rho_c, delta_c, theta = _prepare(model, rho, delta, None)
    rho_new, e = _collide(model, rho_c, delta_c, theta)
    changes = state_changes = None
    if has_closed_form(model.coupling):  # Δp = s²(q − p), exactly as the partial swap moves the populations
        p = populations(rho_c)
        q = reservoir_populations(model, delta_c).astype(p.dtype)
        changes = _population_change(p, q, theta)[None]
        if quantum:
            state_changes = _state_change(rho_c, changes[0], q, theta)[None]
    change = _free_energy_differences(model, jnp.stack([rho_c, rho_new]), alphas, quantum, changes, state_changes)
    return CollisionSecondLaws(e.work, change[0])


def _population_change(p, q, theta):
    """``Δp = sin²θ (q − p)`` of the partial swap, the most populated level's q − p as −Σ of the others' (p and q
    normalised; as the difference of two numbers near 1 it lost them)."""
    diff = q - p
    top = jax.nn.one_hot(jnp.argmax(p + q, axis=-1), p.shape[-1], dtype=bool)
    diff = jnp.where(top, -jnp.sum(jnp.where(top, 0.0, diff), axis=-1, keepdims=True), diff)
    s = jnp.sin(theta).astype(p.dtype)
    return (s * s) * diff


def _state_change(rho, dp, q, theta):
    """``Δ = U†ρ'U − ρ`` of the partial swap in the frame of ``U = e^{i sc Q}`` (Q = τ_R = diag q, s = sin θ,
    c = cos θ): ρ' = c²ρ + s²Q + i sc[Q, ρ] (``_partial_swap``) has ``ρ'_ij = ρ_ij (c² + ix)`` off the diagonal,
    x = sc(q_i − q_j), so ``Δ_ij = ρ_ij [(c² + ix)e^{−ix} − 1]`` there and ``dp`` (:func:`_population_change`) on it.
    U commutes with τ_S, so D_α(ρ'‖τ_S) = D_α(ρ + Δ‖τ_S), and Δ = O(θ²): the first-order rotation i sc[Q, ρ], which
    changes no D_α, is gone (from it a weak collision's ΔD_α ~ θ² was ε/θ relative off). With
    (c² + ix)e^{−ix} − 1 = [x sin x − s² cos x − 2 sin²(x/2)] + i[s² sin x − (sin x − x cos x)], the last bracket
    by its series −x³/3 + x⁵/30 − … below |x| < ½ (it cancels to ~x³)."""
    rdt = dp.dtype
    s, c = jnp.sin(theta).astype(rdt), jnp.cos(theta).astype(rdt)
    s2 = s * s
    x = (s * c) * (q[..., :, None] - q[..., None, :])
    sin_x, cos_x, half = jnp.sin(x), jnp.cos(x), jnp.sin(0.5 * x)
    small = jnp.abs(x) < 0.5
    xs = jnp.where(small, x, 0.0)
    # sin x − x cos x = Σ_{n≥1} (−1)^{n+1} 2n x^{2n+1}/(2n+1)!, 8 terms: (0.5)^19 · 16/17! < 10⁻²⁰ x³
    series = xs * xs * xs * _even_series(xs * xs)
    lag = jnp.where(small, series, sin_x - x * cos_x)
    factor = jax.lax.complex(x * sin_x - s2 * cos_x - 2.0 * half * half, s2 * sin_x - lag)
    eye = jnp.eye(rho.shape[-1], dtype=bool)
    return jnp.where(eye, dp[..., None, :].astype(rho.dtype), rho * factor.astype(rho.dtype))


def _even_series(y):
    """``Σ_{n≥1} (−1)^{n+1} 2n y^{n−1}/(2n+1)!`` (Horner): (sin x − x cos x)/x³ at y = x²."""
    out = jnp.zeros_like(y)
    for n in range(8, 0, -1):
        out = out * y + (-1.0) ** (n + 1) * 2 * n / math.factorial(2 * n + 1)
    return out


@model_a
def entropy_production(model: InhomogeneousReservoir, rho, delta):
    """``ΔS = S(ρ'_SR ‖ ρ'_S ⊗ τ(δ))`` of one collision, never negative ([ATO19] §V).

    ρ'_SR is the joint state after the collision (any coupling and any ρ, coherent included). Equal to
    I(S:R)' + S(ρ'_R‖τ(δ)), and to S(ρ'_S) − S(ρ) + Σ_k [q_k − (ρ'_R)_kk] log q_k (S(ρ'_SR) = S(ρ) + S(τ(δ)) for
    the unitary collision, log(ρ'_S ⊗ τ) = log ρ'_S ⊗ 1 + 1 ⊗ log τ, log q_k in closed form: the matrix
    logarithm of ρ'_S ⊗ τ(δ) lost its eigenvalues ~e^{−βg_r(d−1)} below its rounding floor).

    ΔS ∝ sin²θ: for the partial swap and a diagonal ρ = diag(p) (the papers' setting; p' = c²p + s²q,
    e = s²(q − p)) it is evaluated as ``Σ_k e_k log(q_k/p'_k) + Σ_k [e_k − p_k log(1 + e_k/p_k)]``, both sums of
    non-negative terms, so it is accurate relative to its value for every θ (the difference of entropies
    was off by ε/θ² relative: 1e-4 at θ = 1e-6, and −1e-15 below θ ≈ 1e-7, or at θ ≲ 1e-3 near τ(δ)).
    Otherwise (coherent ρ, other couplings) from the entropies, accurate to ~ε absolutely, and the
    rounding below 0 is returned as 0.
    """
    _validate(model, rho, delta)
    _check_one_delta(delta)
    _require_scalar_theta(model, "use model.replace(theta=theta_r) for collision r")
    rho = as_state(rho)
    result = _collide_generic(model, rho, delta, None)
    _, delta_c, theta = _prepare(model, rho, delta, None)
    beta_r, g_r = reservoir_parameters(model, delta_c)
    log_q = log_thermal_populations(model.d, beta_r, g_r)
    q = jnp.exp(log_q)
    shift = jnp.sum((q - jnp.real(jnp.diagonal(result.ancilla, axis1=-2, axis2=-1))) * log_q, axis=-1)
    generic = von_neumann_entropy(result.system) - von_neumann_entropy(rho.astype(result.system.dtype)) + shift
    generic = jnp.maximum(generic, 0.0)
    if not has_closed_form(model.coupling):
        return generic
    p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1)).astype(log_q.dtype)
    diagonal = jnp.all(jnp.abs(rho - jnp.diag(p).astype(rho.dtype)) == 0, axis=(-2, -1))
    return jnp.where(diagonal, _partial_swap_diagonal_production(p, log_q, theta), generic)


def _partial_swap_diagonal_production(p, log_q, theta):
    """ΔS of the partial swap on ρ = diag(p) with τ = diag(e^{log q}) (:func:`entropy_production`):
    ``Σ_k e_k log(q_k/p'_k) + Σ_k p_k ψ(e_k/p_k)``, e = s²(q − p), p' = p + e = c²p + s²q, ψ(x) = x − log(1 + x).
    The first sum's terms are ≥ 0 (q_k − p_k and q_k − p'_k = c²(q_k − p_k) share their sign), the second's too
    (:func:`~jaxthermo._information.x_minus_log1p`); it is S(p') − S(p) + Σ_k e_k log q_k with Σ_k e_k = 0 added.
    q − p on the most populated level is −Σ of the others (p and q normalised): as a difference of two numbers
    near 1 it lost them (a qudit at βg = 40: ΔS 20 % low)."""
    s, c = jnp.sin(theta), jnp.cos(theta)
    s2, c2 = s * s, c * c
    q = jnp.exp(log_q)
    diff = q - p
    top = jax.nn.one_hot(jnp.argmax(p + q, axis=-1), p.shape[-1], dtype=bool)
    diff = jnp.where(top, -jnp.sum(jnp.where(top, 0.0, diff), axis=-1, keepdims=True), diff)
    e = s2 * diff
    pos_p = p > 0
    log_p = jnp.log(jnp.where(pos_p, p, 1.0))
    log_s2q = jnp.log(jnp.where(s2 > 0, s2, 1.0)) + log_q
    log_c2p = jnp.log(jnp.where(c2 > 0, c2, 1.0)) + log_p
    both = pos_p & (c2 > 0)
    log_p_new = jnp.where(both, jnp.logaddexp(log_c2p, log_s2q), jnp.where(pos_p & (s2 == 0), log_p, log_s2q))
    # log(q/p'): log1p(c²(q − p)/p') near 1, in log space otherwise (q and p' may underflow where log q is finite);
    # each branch divides only where it is taken (above √tiny: a cotangent 0 times
    # d(1/p')/dp' = ∞ was NaN at βg = 300)
    p_new = jnp.exp(log_p_new)
    floor = float(np.sqrt(np.finfo(p_new.dtype).tiny))  # quotients' derivatives divide by its square
    pos_new = p_new > floor
    u_raw = jnp.where(pos_new, c2 * diff / jnp.where(pos_new, p_new, 1.0), 0.0)
    near = jax.lax.stop_gradient(pos_new & (jnp.abs(u_raw) < 0.5))
    u = jnp.where(near, c2 * diff, 0.0) / jnp.where(near, p_new, 1.0)
    ratio = jnp.where(near, jnp.log1p(u), log_q - log_p_new)
    first = jnp.where(s2 > 0, e * ratio, 0.0)
    # p ψ(e/p) by its series where |e| < p/10, else e − p log(p'/p); e (= s² q) where p = 0
    small = jax.lax.stop_gradient((p > floor) & (jnp.abs(e) < 0.1 * p))
    p_s = jnp.where(small, p, 1.0)
    series = p_s * x_minus_log1p(jnp.where(small, e, 0.0) / p_s, 0.0)
    second = jnp.where(small, series, e - jnp.where(pos_p, p * (log_p_new - log_p), 0.0))
    return jnp.sum(first + second, axis=-1)
