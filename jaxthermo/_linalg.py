"""Matrix functions of Hermitian matrices, with derivatives that stay finite at degeneracies.

``hermitian_function`` implements ``f(A) = V f(Λ) V†`` with the Daleckii–Krein derivative
(docs/information.md §6); ``expm`` is the matrix exponential compiled once per shape.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.scipy.linalg import expm as _scipy_expm


def dagger(a) -> jnp.ndarray:
    """Conjugate transpose of the last two axes."""
    return jnp.conj(jnp.swapaxes(a, -1, -2))


# compiled once per shape: eager calls would otherwise dispatch the many small operations of the
# Padé/squaring algorithm one by one
expm = jax.jit(_scipy_expm)


@partial(jax.custom_jvp, nondiff_argnums=(0,))
def hermitian_function(f, a):
    """``f(A) = V f(Λ) V†`` for Hermitian ``A`` (..., d, d) and an elementwise ``f``.

    The JVP is the Daleckii–Krein formula ``V (Γ ∘ V† dA V) V†`` with
    ``Γ_ij = (f(λ_i) − f(λ_j))/(λ_i − λ_j)``, replaced by ``f'((λ_i + λ_j)/2)`` when the two
    eigenvalues coincide, so derivatives are finite at degenerate spectra.
    """
    w, v = jnp.linalg.eigh(a)
    return (v * f(w).astype(v.dtype)[..., None, :]) @ dagger(v)


@hermitian_function.defjvp
def _hermitian_function_jvp(f, primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = jnp.linalg.eigh(a)
    fw = f(w)
    wi, wj = w[..., :, None], w[..., None, :]
    diff = wi - wj
    scale = 1.0 + jnp.abs(wi) + jnp.abs(wj)
    close = jnp.abs(diff) <= 1e3 * jnp.finfo(w.dtype).eps * scale
    mid = 0.5 * (wi + wj)
    _, fprime_mid = jax.jvp(f, (mid,), (jnp.ones_like(mid),))
    gamma = jnp.where(close, fprime_mid, (fw[..., :, None] - fw[..., None, :]) / jnp.where(close, 1.0, diff))
    vh = dagger(v)
    inner = vh @ da.astype(v.dtype) @ v
    out = (v * fw.astype(v.dtype)[..., None, :]) @ vh
    dout = v @ (gamma.astype(v.dtype) * inner) @ vh
    return out, dout.astype(out.dtype)


def inverse_condition(matrix):
    """σ_min/σ_max of a (..., n, n) matrix: 0 when singular, 1 when unitary."""
    s = jnp.linalg.svd(matrix, compute_uv=False)
    return s[..., -1] / s[..., 0]
