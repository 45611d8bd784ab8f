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

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .._dtypes import as_state, cast_floats, real_dtype_for
from .._information import divergences_to_thermal as _divergences_to_thermal
from .._information import free_energy as classical_free_energy
from .._information import log_thermal_populations, quantum_free_energy, von_neumann_entropy
from .._qudit import populations
from .._validation import check_density_matrix, check_orders, is_concrete
from ._dynamics import _check_one_delta, _collide, _prepare, _validate, collide_generic
from ._model import InhomogeneousReservoir, reservoir_parameters


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
    _check_states_and_orders(model, rho, alphas)
    rho = as_state(rho)
    rdt = real_dtype_for(rho.dtype)
    model = cast_floats(model, rdt)  # the state's precision (a Python β with a float32 state: float32)
    if quantum:  # the orders select the quantum divergence: concrete (host) values, so jit/vmap/grad trace
        values = [
            quantum_free_energy(rho, model.beta, model.g0, float(a)) for a in np.atleast_1d(np.asarray(alphas, float))
        ]
        return jnp.stack(values, axis=-1)
    alphas = jnp.atleast_1d(jnp.asarray(alphas, dtype=rdt))
    p = populations(rho)
    return classical_free_energy(p[..., None, :], model.beta, model.g0, alphas)


def free_energy_changes(model: InhomogeneousReservoir, states, alphas, quantum: bool = False):
    """ΔF_α of every collision of a trajectory: ``F_α(ρ_r) − F_α(ρ_{r−1})``, shape (N, k).

    ``states`` (N+1, d, d), e.g. ``trajectory(...).states`` or ``averaged_trajectory(...).states``.
    """
    return jnp.diff(free_energies(model, states, alphas, quantum), axis=-2)


def divergences_to_thermal(model: InhomogeneousReservoir, rho, alphas, quantum: bool = False):
    """``D_α(ρ‖τ_S)`` to the system's thermal state, one column per α, (..., k) ([ATO19] eq. (33)).

    From the populations by default; ``quantum=True`` uses the quantum divergences (docs/information.md).
    A thin call of :func:`jaxthermo._information.divergences_to_thermal` with τ_S of ``g0 s_z`` at β.
    """
    _check_states_and_orders(model, rho, alphas)
    # the quantum divergence is chosen by each α: host floats, so the call traces under jit/checkpoint
    alphas = check_orders(alphas) if quantum else jnp.atleast_1d(jnp.asarray(alphas, dtype=float))
    return _divergences_to_thermal(rho, model.beta, model.g0, alphas, quantum=quantum)


def _check_states_and_orders(model, rho, alphas):
    """States (..., d, d) of the model's dimension and real, non-NaN orders (when concrete)."""
    check_density_matrix(rho, "rho", dim=model.d)
    if is_concrete(alphas):
        check_orders(alphas)


class CollisionSecondLaws(NamedTuple):
    """One collision: W and ΔF_α (k,) (both in energy units; multiply by β for βW, βΔF_α)."""

    work: jnp.ndarray
    free_energy_change: jnp.ndarray


def collision_second_laws(model: InhomogeneousReservoir, rho, delta, alphas, quantum: bool = False):
    """W and ΔF_α = F_α(ρ'‖τ_S) − F_α(ρ‖τ_S) of one collision with inhomogeneity δ (docs/inhomogeneous.md)."""
    _validate(model, rho, delta)
    _check_one_delta(delta)
    rho_c, delta_c, theta = _prepare(model, rho, delta, None)
    rho_new, e = _collide(model, rho_c, delta_c, theta)
    f = free_energies(model, jnp.stack([rho_c, rho_new]), alphas, quantum)
    return CollisionSecondLaws(e.work, f[1] - f[0])


def entropy_production(model: InhomogeneousReservoir, rho, delta):
    """``ΔS = S(ρ'_SR ‖ ρ'_S ⊗ τ(δ))`` of one collision, never negative ([ATO19] §V).

    ρ'_SR is the joint state after the collision from the full density matrix (any coupling and
    any ρ, coherent included). Equal to I(S:R)' + S(ρ'_R‖τ(δ)). Evaluated as
    S(ρ'_S) − S(ρ) + Σ_k [q_k − (ρ'_R)_kk] log q_k, which is the definition with S(ρ'_SR) = S(ρ) + S(τ(δ))
    (the collision is unitary) and log(ρ'_S ⊗ τ) = log ρ'_S ⊗ 1 + 1 ⊗ log τ, log q_k in closed form: the
    matrix logarithm of ρ'_S ⊗ τ(δ) lost the eigenvalues ρ'_S-eigenvalue × e^{−βg_r(d−1)} below its
    rounding floor (a coherent qubit at βg_r = 42: 1.5008 for 1.4520, its β-derivative 0.008 for 0.037).
    """
    _validate(model, rho, delta)
    _check_one_delta(delta)
    rho = as_state(rho)
    result = collide_generic(model, rho, delta)
    _, delta_c, _ = _prepare(model, rho, delta, None)
    beta_r, g_r = reservoir_parameters(model, delta_c)
    log_q = log_thermal_populations(model.d, beta_r, g_r)
    q = jnp.exp(log_q)
    shift = jnp.sum((q - jnp.real(jnp.diagonal(result.ancilla, axis1=-2, axis2=-1))) * log_q, axis=-1)
    return von_neumann_entropy(result.system) - von_neumann_entropy(rho.astype(result.system.dtype)) + shift
