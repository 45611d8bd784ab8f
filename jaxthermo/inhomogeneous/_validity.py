"""Validity of the fixed partial swap (docs/inhomogeneous.md; [ATO-preprint] appendix A1).

The exact two-body evolution is ``U_exact = exp(−i t_int (H_S + H_r + H_int))``, θ = g_int t_int,
H_int = −g_int S. The homogeneous free part H_0 = g0 (s_z ⊗ 1 + 1 ⊗ s_z) commutes with S and
with H_r − H_0 = δ g0 (1 ⊗ s_z), so ``U_exact = e^{−i t_int H_0} V`` with
V = exp(−i t_int(δ g0 1⊗s_z − g_int S)). The factor e^{−i t_int H_0} is a free (energy-conserving,
local) rotation; the comparison with U(θ) is made in its interaction picture,
``V = e^{+i t_int H_0} U_exact``, which equals U(θ) exactly at δ = 0 and deviates at order
δ g0 (d − 1)/(2 g_int): the partial swap is valid when σ ≪ 2 g_int/(g0 (d − 1)) (eq. (A6)).

Two distances, both in [0, 2]:

* ``unitary``: operator norm ‖V − U(θ)‖ (largest singular value);
* ``channel``: trace distance of the normalised Choi states of the system channels
  ρ ↦ Tr_R[V(ρ ⊗ τ(δ))V†] and ρ ↦ Tr_R[U(ρ ⊗ τ(δ))U†] (a lower bound on their diamond distance,
  and ≤ the unitary distance).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import collide_unitary
from .._dtypes import complex_dtype_for, float_dtype_of
from .._information import trace_distance
from .._qudit import partial_swap, spin_z, tensor
from .._superoperators import matrix_units
from .._validation import check_finite, check_numeric
from ._analytics import distribution_of
from ._model import ExactUnitary, InhomogeneousReservoir, model_a, reservoir_hamiltonian, reservoir_state


class PartialSwapError(NamedTuple):
    """Distances between the exact (interaction-picture) evolution and the partial swap."""

    unitary: jnp.ndarray
    channel: jnp.ndarray


@model_a
def interaction_picture_exact_unitary(model: InhomogeneousReservoir, g_int, delta):
    """``V = e^{+i t_int H_0} U_exact`` (d², d²) with t_int = θ/g_int ([ATO-preprint] eq. (A5))."""
    _check_scalars(g_int=g_int)
    delta = jnp.asarray(delta)
    delta = delta.astype(float_dtype_of(delta))  # float32 stays float32 (was cast to float64)
    theta = jnp.asarray(model.theta).astype(delta.dtype)
    u_exact = ExactUnitary(g_int).unitary(model, theta, delta)
    d = model.d
    eye = jnp.eye(d, dtype=delta.dtype)
    sz = spin_z(d, delta.dtype)
    h0 = jnp.asarray(model.g0).astype(delta.dtype) * (tensor(sz, eye) + tensor(eye, sz))
    t_int = theta / jnp.asarray(g_int).astype(delta.dtype)
    free = jnp.diag(jnp.exp(1j * t_int * jnp.diag(h0)))
    return free.astype(u_exact.dtype) @ u_exact


def _check_scalars(**values):
    """Each a finite real number (concrete values; shapes also traced), else an error naming it."""
    for name, value in values.items():
        check_numeric(value, name)
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be one number; got shape {np.shape(value)} (jax.vmap over it for several)")
        check_finite(value, name)


def _choi(model, unitary, delta):
    """Normalised Choi state (d², d²) of ρ ↦ Tr_R[U(ρ ⊗ τ(δ))U†]."""
    d = model.d
    cdt = complex_dtype_for(unitary.dtype)
    units = matrix_units(d, cdt).reshape(d * d, d, d)  # |i⟩⟨j| for (i, j) flattened
    tau = reservoir_state(model, delta)
    h_s = jnp.zeros((d, d), cdt)
    outputs = jax.vmap(lambda e: collide_unitary(e, tau, unitary, h_s, reservoir_hamiltonian(model, delta)).system)(
        units
    )
    outputs = outputs.reshape(d, d, d, d)  # (i, j, k, l): ⟨k|Φ(|i⟩⟨j|)|l⟩
    return jnp.transpose(outputs, (0, 2, 1, 3)).reshape(d * d, d * d) / d


@model_a
def partial_swap_error(model: InhomogeneousReservoir, g_int, delta) -> PartialSwapError:
    """Distances between V (exact, interaction picture) and U(θ) at inhomogeneity δ (docs/inhomogeneous.md).

    One g_int and one δ (``jax.vmap`` over either for several: an array failed inside JAX or, for δ, gave the
    singular values of the first configuration alone)."""
    _check_scalars(g_int=g_int, delta=delta)
    delta = jnp.asarray(delta)
    delta = delta.astype(float_dtype_of(delta))
    # V = U(θ) at δ = 0, where both norms have a |δ|-kink: derivative 0, the least-magnitude subgradient
    # (docs/inhomogeneous.md §11), not the one the rounding noise of V − U picked
    delta = jnp.where(delta == 0, jax.lax.stop_gradient(delta), delta)
    v = interaction_picture_exact_unitary(model, g_int, delta)
    u = partial_swap(model.d, jnp.asarray(model.theta).astype(delta.dtype)).astype(v.dtype)
    unitary = jnp.linalg.svd(v - u, compute_uv=False)[0]
    channel = trace_distance(_choi(model, v, delta), _choi(model, u, delta))
    return PartialSwapError(unitary, channel)


@model_a
def mean_partial_swap_error(model: InhomogeneousReservoir, g_int, distribution=None) -> PartialSwapError:
    """``E_G`` of :func:`partial_swap_error` over δ ~ G (by quadrature): the error of a reservoir."""
    distribution = distribution_of(model, distribution)
    return distribution.expectation(jax.vmap(lambda x: partial_swap_error(model, g_int, x)), kink_at_zero=True)
