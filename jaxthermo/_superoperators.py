"""Superoperators on row-major vectorised matrices and the Lindblad dissipator.

Row-major vectorisation ``vec(X)[i·d + j] = X[i, j]`` gives ``vec(A X B) = (A ⊗ Bᵀ) vec(X)``
(docs/conventions.md §4); a linear map on (d, d) matrices is a (d², d²) matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._dtypes import complex_dtype_for, real_dtype, real_dtype_for
from ._linalg import dagger
from ._qutip import qobj_inputs
from ._validation import (
    check_broadcast,
    check_callable,
    check_finite,
    check_inexact_dtype,
    check_integer,
    check_numeric,
    check_real_cast,
)


def matrix_units(d: int, dtype=jnp.complex128) -> jnp.ndarray:
    """The d² matrix units ``|k⟩⟨l|``, shape (d, d, d, d) indexed [k, l, i, j]."""
    return jnp.eye(d * d, dtype=dtype).reshape(d, d, d, d)


def map_images(linear_map: Callable, d: int, dtype=jnp.complex128) -> jnp.ndarray:
    """``L(|k⟩⟨l|)`` for every matrix unit, shape (d, d, d, d) indexed [k, l, i, j]."""
    return jax.vmap(jax.vmap(linear_map))(matrix_units(d, dtype)).astype(dtype)


def superoperator(linear_map: Callable, d: int, dtype=jnp.complex128) -> jnp.ndarray:
    """The (d², d²) matrix ``S`` of a linear map on (d, d) arrays: ``vec(L(X)) = S vec(X)``.

    Built column by column from the images of the matrix units; ``linear_map`` must be
    ``vmap``-compatible.

    Example:
      >>> h = jnp.diag(jnp.array([0.0, 1.0]))
      >>> s = superoperator(lambda x: -1j * (h @ x - x @ h), 2)  # −i(H ⊗ 1 − 1 ⊗ Hᵀ)
    """
    check_callable(linear_map, "linear_map", "a linear map of (d, d) arrays, a function")  # "Expected a callable value"
    d = check_integer(d, "d", minimum=1)  # d = 0 gave an empty (0, 0) matrix, d = 2.0 a TypeError from reshape
    dtype = check_inexact_dtype(dtype)  # int32: S of x ↦ x/2 was all zeros
    images = jax.vmap(jax.vmap(linear_map))(matrix_units(d, dtype))
    if np.shape(images) != (d, d, d, d):  # "cannot reshape array of shape (2, 2, 2) into shape (4, 4)"
        raise ValueError(
            f"linear_map must map a ({d}, {d}) matrix to a ({d}, {d}) matrix; an image has shape {np.shape(images)[2:]}"
        )
    check_real_cast(images, dtype, "linear_map's images")  # dtype=float64 and x ↦ −i[H, x] gave the zero matrix
    check_finite(images, "linear_map's images")  # a map giving NaN gave a NaN matrix without a word
    return images.astype(dtype).reshape(d * d, d * d).T


def apply_superoperator(superop, x) -> jnp.ndarray:
    """``L(X)`` as a (d, d) matrix from the (d², d²) matrix ``S`` of L: ``reshape(S vec(X))``."""
    superop = jnp.asarray(superop)
    d = int(round(np.sqrt(superop.shape[-1])))
    return (superop @ jnp.asarray(x).astype(superop.dtype).reshape(d * d)).reshape(d, d)


@qobj_inputs("jump", "rho")
def lindblad_term(jump, rho) -> jnp.ndarray:
    """``D[L]ρ = LρL† − ½{L†L, ρ}`` for (..., d, d) jump operators ``L`` and states ``ρ``.

    Shapes that are not (..., d, d) of one d with broadcasting batches, and NaN or infinite entries, raise
    ``ValueError`` naming ``jump`` or ``rho`` (as :func:`lindblad_dissipator`).
    """
    # a 3×3 L with a 2×2 ρ failed in dot_general, a NaN entry gave an all-NaN D[L]ρ
    j_shape, rho_shape = np.shape(jump), np.shape(rho)
    if len(j_shape) < 2 or j_shape[-1] != j_shape[-2] or j_shape[-2:] != rho_shape[-2:]:
        raise ValueError(f"jump and rho must be (..., d, d) of the same d; got shapes {j_shape} and {rho_shape}")
    check_broadcast({"jump": j_shape[:-2], "rho": rho_shape[:-2]})
    check_finite(jump, "jump")
    check_finite(rho, "rho")
    return _lindblad_term(jump, rho)


def _lindblad_term(jump, rho):
    """:func:`lindblad_term` of checked arrays (:func:`lindblad_dissipator` has checked its own)."""
    ldl = dagger(jump) @ jump
    return jump @ rho @ dagger(jump) - 0.5 * (ldl @ rho + rho @ ldl)


@qobj_inputs("jumps", "rho")
def lindblad_dissipator(rates, jumps, rho) -> jnp.ndarray:
    """``Σ_k γ_k D[L_k]ρ`` for rates (K,) and jump operators (K, d, d); ρ (d, d).

    Rates of either sign (time-local generators of non-Markovian maps have negative ones), finite;
    shapes that do not match raise ``ValueError`` naming the argument (two rates for one jump were
    broadcast: 3 D[L]ρ for rates (1, 2)); NaN or infinite rates raise too. In the precision of ρ, complex
    when ρ or the jumps are.
    """
    r_shape, l_shape, rho_shape = np.shape(rates), np.shape(jumps), np.shape(rho)
    if len(l_shape) != 3 or l_shape[-1] != l_shape[-2]:
        raise ValueError(f"jumps must have shape (K, d, d); got {l_shape}")
    if r_shape != l_shape[:1]:
        raise ValueError(f"rates must have shape (K,) = {l_shape[:1]}, one per jump operator; got {r_shape}")
    if rho_shape != l_shape[1:]:
        raise ValueError(f"rho must have shape {l_shape[1:]} like the jump operators; got {rho_shape}")
    check_numeric(rates, "rates")  # complex rates lost their imaginary part
    check_finite(rates, "rates")
    check_finite(jumps, "jumps")
    check_finite(rho, "rho")
    # in ρ's precision, complex if either is: ρ cast to the jumps' dtype lost its imaginary part for real jumps
    # (σ₋ as a float array: D[σ₋]ρ 0.1 off for ρ01 = 0.2i) and its precision for complex64 ones
    jumps, rho = jnp.asarray(jumps), jnp.asarray(rho)
    precision = real_dtype_for(rho.dtype) if jnp.issubdtype(rho.dtype, jnp.inexact) else real_dtype()
    complex_kind = jnp.iscomplexobj(jumps) or jnp.iscomplexobj(rho)
    dtype = complex_dtype_for(precision) if complex_kind else precision
    jumps, rho = jumps.astype(dtype), rho.astype(dtype)
    terms = _lindblad_term(jumps, rho[None])
    return jnp.einsum("k,kij->ij", jnp.asarray(rates).astype(dtype), terms)
