"""How the ensemble kernel carries the system states of a chunk: a :class:`StateLayout` (docs/ensemble.md §2).

Three layouts, chosen by :func:`layout_of` from the model:

* a partial-swap qubit as three real (B,) rows (u, x, y), u = p0 − a
  (:func:`~jaxthermo.ensemble._fused.qubit_collision`, a = :func:`~jaxthermo.ensemble._fused.rare_offset`);
* a partial-swap qudit of d ≥ 3 as its d² real (B,) rows
  (:func:`~jaxthermo.ensemble._fused.qudit_collision`);
* any other coupling as the (B, d, d) complex matrix, collided by
  :func:`jaxthermo.collision_step` vmapped over the chunk.

The kernel, its stacked reductions and the sensitivities ask the layout for what they need of a carried
state (its matrix, populations, real rows, the mean over the chunk, the mean of its tangents) instead of
telling the layouts apart by their shapes or names; the quantum D_α of a coherent state as well (the qubit's in
closed form, the others from the eigenvalues of its matrix: ._divergences).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._qudit import populations
from ..inhomogeneous import collision_step
from ._divergences import quantum_divergences_thermal, qubit_quantum_divergences
from ._fused import (
    qubit_collision,
    qubit_populations,
    qubit_to_state,
    qudit_collision,
    rare_offset,
    rows_to_state,
    state_to_qubit,
    state_to_rows,
    use_fused_qubit_path,
    use_fused_qudit_path,
)
from ._statistics import Moments, chunk_moments


class StateLayout(NamedTuple):
    """The carried state of one layout (module docstring); ``B`` is the chunk axis, ``k`` the number of rows."""

    carry: Callable  # (..., d, d) matrix → the carried state; linear (it maps ∂ρ0 as well)
    collide: Callable  # (model, state, δ (B,), θ) → (state', Energetics)
    matrix: Callable  # carried state → (..., d, d) complex
    populations: Callable  # carried state → (..., d) real
    rows: Callable  # carried (B-)state → list of the k real (B,) rows the stacked reductions sum
    from_rows: Callable  # (..., k) values of the rows (e.g. their means) → (..., d, d): inverse of ``rows``
    mean_state: Callable  # (state, mask) → Moments of the (d, d) mean state over the chunk
    tangent_mean: Callable  # (state tangents, each with the P directions on axis 1, mask) → Moments, mean (P, d, d)
    quantum_divergences: Callable  # (model, state, static α's) → (B, n_α) quantum D_α(ρ‖τ_S)


def layout_of(model, dtype) -> StateLayout:
    """The layout the kernel carries ``model``'s states in, at the real ``dtype`` of the run."""
    if use_fused_qubit_path(model):
        return _qubit_layout(rare_offset(model, dtype))
    if use_fused_qudit_path(model):
        pops = lambda st: jnp.stack(st[: model.d], axis=-1)
        return _rows_layout(state_to_rows, qudit_collision, rows_to_state, rows_to_state, pops)
    return _MATRIX


def _eigenvalue_divergences(matrix):
    """Quantum D_α from the eigenvalues of the carried state's matrix (._divergences)."""
    return lambda m, st, alphas: quantum_divergences_thermal(matrix(st), m.beta, m.g0, alphas)


def _qubit_layout(offset):
    """(u, x, y), u = p0 − ``offset``: the population τ_S makes rare is carried to its precision (._fused)."""

    def tangent_matrix(rows):  # the linear part of qubit_to_state: ∂p1 = −∂p0 (∂u = ∂p0 whatever the offset)
        dp0, dx, dy = rows
        coh, dp = jax.lax.complex(dx, dy), jax.lax.complex(dp0, jnp.zeros_like(dp0))
        return jnp.stack([jnp.stack([dp, coh], axis=-1), jnp.stack([jnp.conj(coh), -dp], axis=-1)], axis=-2)

    def divergences(m, st, alphas):  # closed-form 2×2 (._divergences), both populations to their precision
        p0, p1 = qubit_populations(st[0], offset)
        return qubit_quantum_divergences(p0, st[1], st[2], m.beta, m.g0, alphas, p1=p1)

    return _rows_layout(
        lambda rho: state_to_qubit(rho, offset),
        lambda m, st, dl, th: qubit_collision(m, st, dl, th, offset),
        lambda rows: qubit_to_state(*rows, offset),
        tangent_matrix,
        lambda st: jnp.stack(qubit_populations(st[0], offset), axis=-1),
        divergences,
    )


def _rows_layout(carry, collide, matrix, tangent_matrix, pops, divergences=None):
    """A layout whose carried state is a tuple of real rows (._fused); ``matrix`` and ``tangent_matrix`` (its
    linear part) take such a tuple; ``divergences`` by default from the eigenvalues of ``matrix``."""
    return StateLayout(
        carry=carry,
        collide=collide,
        matrix=matrix,
        populations=pops,
        rows=list,
        from_rows=lambda m: matrix(tuple(m[..., j] for j in range(m.shape[-1]))),
        mean_state=partial(_rows_mean_state, matrix),
        tangent_mean=partial(_rows_tangent_mean, tangent_matrix),
        quantum_divergences=divergences or _eigenvalue_divergences(matrix),
    )


def _rows_mean_state(matrix, rows, mask):
    """Mean (d, d) state of a chunk carried as real rows: one (B,) reduction a row (no column reduction); the
    mean is linear, and the qubit's mean u keeps the rare population's precision."""
    m = [chunk_moments(r, mask, second=False) for r in rows]
    return Moments(m[0].n, matrix(tuple(x.mean for x in m)), None)


def _rows_tangent_mean(tangent_matrix, tangents, mask):
    """Mean over the chunk of the rows' tangents, each (B, P): (P, d, d)."""
    m = chunk_moments(jnp.stack(tangents, axis=-1), mask, second=False)  # mean (P, k)
    return Moments(m.n, tangent_matrix(tuple(m.mean[..., j] for j in range(len(tangents)))), None)


def _matrix_rows(rho):
    """Re and Im of the (B, d, d) matrix's entries, row-major: 2d² real (B,) rows."""
    flat = rho.reshape(rho.shape[0], -1)
    return [jnp.real(flat[:, j]) for j in range(flat.shape[1])] + [jnp.imag(flat[:, j]) for j in range(flat.shape[1])]


def _matrix_from_rows(m):
    """Inverse of :func:`_matrix_rows` on (..., 2d²) values → (..., d, d)."""
    half = m.shape[-1] // 2
    d = round(half**0.5)
    return jax.lax.complex(m[..., :half], m[..., half:]).reshape(m.shape[:-1] + (d, d))


_MATRIX = StateLayout(
    carry=lambda rho: rho,
    collide=lambda m, st, dl, th: jax.vmap(lambda r, d_, t_: collision_step(m, r, d_, t_), (0, 0, None))(st, dl, th),
    matrix=lambda st: st,
    populations=populations,
    rows=_matrix_rows,
    from_rows=_matrix_from_rows,
    mean_state=chunk_moments,
    tangent_mean=partial(chunk_moments, second=False),
    quantum_divergences=_eigenvalue_divergences(lambda st: st),
)
