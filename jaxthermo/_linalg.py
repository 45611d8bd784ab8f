"""Matrix functions of Hermitian matrices, with derivatives that stay finite at degeneracies.

``hermitian_function`` implements ``f(A) = V f(Λ) V†`` with the Daleckii–Krein derivative
(docs/information.md §6); ``expm`` is the matrix exponential compiled once per shape.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import expm as _scipy_expm

from ._qutip import qobj_inputs
from ._validation import check_callable, check_finite, check_hermitian, is_concrete


@qobj_inputs("a")
def dagger(a) -> jnp.ndarray:
    """Conjugate transpose of the last two axes."""
    if np.ndim(a) < 2:  # "index -2 is out of bounds"
        raise ValueError(f"dagger: a must have shape (..., m, n); got {np.shape(a)}")
    return jnp.conj(jnp.swapaxes(a, -1, -2))


# the largest ‖A‖₁ at which the degree-13 (float64) and degree-7 (float32) Padé approximants of JAX's expm
# reach the unit roundoff (Higham, SIAM J. Matrix Anal. Appl. 26, 1179 (2005), Table 2.3; JAX's constants)
PADE_THETA = {8: 5.371920351148152, 4: 3.925724783138660}
DEFAULT_SQUARINGS = 17  # beyond, NaN, as jax.scipy.linalg.expm (whose limit is ‖A‖₁ ≥ 2¹⁷ θ)


def expm(a, max_squarings: int = DEFAULT_SQUARINGS, stationary=None) -> jnp.ndarray:
    """e^A by scaling and squaring with Padé approximants (Higham 2005), compiled once per shape.

    ``jax.scipy.linalg.expm`` rounds the number of squarings log₂(‖A‖₁/θ) down, so its Padé approximant
    sees a norm of up to 2θ, where it is no longer accurate: e^{diag(−20i, 6.7i)} 6.8·10⁻⁹ off in float64,
    a model-B collision unitary at τ = 10 likewise. Here the count is rounded up: JAX's approximant gets
    A/2ˢ with ‖A/2ˢ‖₁ ≤ θ (no squaring of its own), then s squarings: for anti-Hermitian A of
    ‖A‖₁ ≤ 10³ within 4.5·10⁻¹⁶·max(1, ‖A‖₁) of SciPy (JAX's own: 1.9·10⁻⁹·max(1, ‖A‖₁); tests/test_linalg.py).
    NaN beyond 2¹⁷θ, as JAX's, or beyond 2^``max_squarings`` θ (static: under ``vmap`` every one of the
    ``max_squarings`` squarings is computed, used or not).

    Each squaring doubles the relative error of an eigenvalue of modulus 1: for the generator 𝓛t of a
    relaxing dynamics, e^{𝓛t} drifts along its stationary state by ≈ t‖𝓛‖₁ε (10⁻⁵ at t‖𝓛‖ = 10¹², all of
    it from 10¹⁵ on). ``stationary``, a projector P = |ρ_ss⟩⟨1| with AP = PA = 0, removes that mode first:
    e^A = P + (e^{A/2ˢ}(1 − P))^{2ˢ}, whose squarings act on decaying modes only (docs/coherent.md §3)."""
    a = jnp.asarray(a)
    p = jnp.zeros_like(a) if stationary is None else jnp.asarray(stationary)
    return _expm(a, p, int(max_squarings))


@partial(jax.jit, static_argnums=2)
def _expm(a, p, max_squarings):
    return jnp.vectorize(partial(_expm_one, max_squarings=max_squarings), signature="(n,n),(n,n)->(n,n)")(a, p)


def _expm_one(a, p, max_squarings):
    a = jnp.asarray(a)
    a = a.astype(jnp.result_type(a, float))
    p = p.astype(a.dtype)
    theta = PADE_THETA[jnp.finfo(a.dtype).bits // 8]
    norm = jnp.linalg.norm(a, 1)
    s = jax.lax.stop_gradient(jnp.maximum(0.0, jnp.ceil(jnp.log2(norm / theta))))
    r = _scipy_expm(a / (2.0**s).astype(a.dtype), max_squarings=0) - p  # it needs no squaring loop of its own

    def square(i, r):
        return jax.lax.cond(i < s, lambda x: jnp.matmul(x, x, precision=jax.lax.Precision.HIGHEST), lambda x: x, r)

    r = jax.lax.fori_loop(0, max_squarings, square, r) + p
    return jnp.where(s > max_squarings, jnp.nan, r).astype(r.dtype)


# Gauss–Legendre rules of 8 and 16 nodes on [−1, 1] (both symmetric, no common node), as halved
# weights and exactly antisymmetric nodes, so that the rule gives the same Γ_ij and Γ_ji
def _gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x - x[::-1]), 0.25 * (w + w[::-1])


_GL8, _GL16 = _gauss_legendre(8), _gauss_legendre(16)
_NODES = np.concatenate([_GL8[0], _GL16[0]])
# rows: the 8-node and the 16-node rule, as weights over the 24 nodes
_WEIGHTS = np.stack([np.concatenate([_GL8[1], np.zeros(16)]), np.concatenate([np.zeros(8), _GL16[1]])])


def divided_differences(f, w):
    """``Γ_ij = f[λ_i, λ_j]`` (..., d, d) for eigenvalues ``w`` (..., d): the first divided
    differences of an elementwise ``f``, with ``Γ_ii = f'(λ_i)``.

    Each entry is the better of two routes, by an estimate of its error:

    * the quotient ``(f(λ_i) − f(λ_j))/(λ_i − λ_j)``, whose error from the rounding of the two
      values is about ``2ε(|f(λ_i)| + |f(λ_j)|)/|λ_i − λ_j|`` (catastrophic cancellation for close
      eigenvalues);
    * the integral ``∫₀¹ f'(λ_j + t(λ_i − λ_j)) dt`` by Gauss–Legendre quadrature with 16 nodes
      (``f'`` by :func:`jax.jvp` of ``f``), free of cancellation, with the difference from the
      8-node rule as its error estimate (pessimistic: that of the 16-node rule is about its square
      for an ``f'`` analytic around the interval).

    The quadrature is taken when it has converged (estimate ≤ 64ε·|integral|) or its estimate is
    below the quotient's: close pairs relative to the scale on which ``f'`` varies (gaps up to a
    few units for ``exp``, ``|λ_i − λ_j| ≲ min λ/2`` for ``log`` and powers, whose branch point is
    0, ≲ 1 for the Bose/Fermi occupations, whose poles are 2πik), and coincident eigenvalues
    (``f'(λ)``). Far pairs and pairs across a kink of ``f`` (a clip, the edge of a support) take the
    quotient, as does a pair whose integral the quotient refutes (they differ by more than 64 times
    their error estimates together): an ``f'`` steeper than the nodes resolve (a cold Fermi edge or Gibbs
    weight, ``λ⁰`` on a support) vanishes at every node, and both rules "converged" on 0 where
    ``f(λ_i) ≠ f(λ_j)``. docs/information.md §6.
    """
    dtype = w.dtype
    eps = jnp.finfo(dtype).eps
    fw = f(w)
    a, b = w[..., :, None], w[..., None, :]
    fa, fb = fw[..., :, None], fw[..., None, :]
    diff = a - b
    mid, half = 0.5 * (a + b), 0.5 * jnp.abs(diff)  # the same nodes for (i, j) and (j, i)
    nodes = mid[..., None] + half[..., None] * jnp.asarray(_NODES, dtype)
    _, fprime = jax.jvp(f, (nodes,), (jnp.ones_like(nodes),))
    q8, q16 = jnp.moveaxis(fprime @ jnp.asarray(_WEIGHTS.T, dtype), -1, 0)
    q_err = jnp.abs(q16 - q8)
    coincide = diff == 0
    safe = jnp.where(coincide, 1.0, diff)
    quotient = (fa - fb) / safe
    quotient_err = 2 * eps * (jnp.abs(fa) + jnp.abs(fb)) / jnp.abs(safe)
    better = (q_err <= 64 * eps * jnp.abs(q16)) | (q_err <= quotient_err)
    # an f' too steep for the nodes (a cold Fermi edge or Gibbs weight, λ⁰ on a support) vanishes or
    # underflows at all of them: q8 = q16 ≈ 0 "converge" on 0 while f(λ_i) ≠ f(λ_j); the quotient, within
    # its rounding estimate of f[λ_i, λ_j], refutes such an integral
    consistent = jnp.abs(q16 - quotient) <= 64 * (quotient_err + q_err + eps * jnp.abs(q16))
    use_quadrature = coincide | (better & consistent)
    return jnp.where(use_quadrature, q16, quotient)


@qobj_inputs("a")
def hermitian_function(f, a):
    """``f(A) = V f(Λ) V†`` for Hermitian ``A`` (..., d, d) and an elementwise ``f``.

    The JVP is the Daleckii–Krein formula ``V (Γ ∘ V† dA V) V†`` with the divided differences
    ``Γ_ij = f[λ_i, λ_j]`` of :func:`divided_differences` (``f'(λ_i)`` for coincident eigenvalues,
    Gauss–Legendre quadrature of ``f'`` for close ones), so derivatives are finite at degenerate
    spectra and accurate near them (docs/information.md §6). A concrete ``A`` that is not square,
    not finite or not Hermitian raises ``ValueError`` naming ``a`` (``eigh`` reads one triangle: [[0, 1],
    [0, 0]] gave f of [[0, 1], [1, 0]] without a word).
    """
    check_callable(f, "f", "an elementwise function of the eigenvalues")  # failed inside eigh's custom JVP
    check_hermitian(a, "a")
    return hermitian_function_of(_ignoring_parameters(f), a, ())


def _ignoring_parameters(f):
    return lambda w, _: f(w)


@partial(jax.custom_jvp, nondiff_argnums=(0,))
def hermitian_function_of(f, a, parameters):
    """:func:`hermitian_function` of ``λ ↦ f(λ, parameters)``, unchecked: traced ``parameters`` (cut-offs
    decided from a spectrum without gradients) are an argument, not closed over — a ``custom_jvp``
    function closing over tracers raised ``UnexpectedTracerError`` under ``vmap`` inside ``grad``
    (coherent ``ensemble_mean`` free energies for α < 1). Their tangents are ignored: constants."""
    w, v = jnp.linalg.eigh(a)
    return (v * f(w, parameters).astype(v.dtype)[..., None, :]) @ dagger(v)


@hermitian_function_of.defjvp
def _hermitian_function_jvp(f_of, primals, tangents):
    (a, parameters), (da, _) = primals, tangents

    def f(x):
        return f_of(x, parameters)

    w, v = jnp.linalg.eigh(a)
    fw = f(w)
    gamma = divided_differences(f, w)
    vh = dagger(v)
    inner = vh @ da.astype(v.dtype) @ v
    out = (v * fw.astype(v.dtype)[..., None, :]) @ vh
    dout = v @ (gamma.astype(v.dtype) * inner) @ vh
    return out, dout.astype(out.dtype)


# eigenvalues within this many ε of the spectral radius are one cluster in :func:`eigh_clustered`'s derivative: the
# rounding of an eigensolver (≈ dε‖A‖) separates eigenvalues that are equal in exact arithmetic by about that much
CLUSTER_ULPS = 1e3


@jax.custom_jvp
def eigh_clustered(a):
    """``jnp.linalg.eigh`` of Hermitian ``a`` (..., n, n) with a derivative that stays finite at degenerate
    eigenvalues, clusters of eigenvalues within ``CLUSTER_ULPS``·ε of the spectral radius (docs/information.md §6).

    Within a cluster the eigenvectors are any basis of its eigenspace, so they have no derivative there; JAX's
    ``1/(λ_j − λ_i)`` gave 10¹⁵-sized tangents. Here, with E = V† dA V: the eigenvector tangent is
    ``V (F ∘ E)``, F_ij = 1/(λ_j − λ_i) between clusters and 0 within one (no rotation inside an eigenspace), and
    the eigenvalue tangent is the mean of E_jj over the cluster (Tr E on the eigenspace over its dimension): the
    derivative of any symmetric function of a cluster's eigenvalues, and the mean over the cluster of the central
    differences of the ascending eigenvalues (for a pair, each one's), which a perturbation that splits the cluster
    moves by the eigenvalues of E on it. Basis-dependent combinations (V Λ V†
    itself) miss E's entries between eigenvectors of one cluster: only perturbations that keep each cluster's
    eigenspace (E diagonal on it) are followed exactly there."""
    w, v = jnp.linalg.eigh(a)
    return w, v  # a tuple, as the JVP's (eigh's EighResult is another pytree)


@eigh_clustered.defjvp
def _eigh_clustered_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = jnp.linalg.eigh(a)
    eps = float(jnp.finfo(w.dtype).eps)
    radius = jnp.max(jnp.abs(w), axis=-1, keepdims=True)[..., None]
    gap = w[..., None, :] - w[..., :, None]  # λ_j − λ_i
    cluster = jnp.abs(gap) <= CLUSTER_ULPS * eps * radius
    inner = dagger(v) @ da.astype(v.dtype) @ v
    diagonal = jnp.real(jnp.diagonal(inner, axis1=-2, axis2=-1))
    members = cluster.astype(w.dtype)
    dw = (members @ diagonal[..., None])[..., 0] / jnp.sum(members, axis=-1)
    f = jnp.where(cluster, 0.0, 1.0 / jnp.where(cluster, 1.0, gap))
    dv = v @ (f.astype(v.dtype) * inner)
    return (w, v), (dw.astype(w.dtype), dv.astype(v.dtype))


@qobj_inputs("matrix")
def inverse_condition(matrix):
    """σ_min/σ_max of a (..., n, n) matrix: 0 when singular, 1 when unitary.

    A concrete matrix with NaN or infinite entries is refused (``ValueError`` naming ``matrix``); a traced one
    gives NaN there, which callers must read as "not invertible" (``~(rc >= rcond)``, never ``rc < rcond``,
    which is False for NaN). The zero matrix (singular) gives 0; a matrix that is not square, or is empty, is
    refused (``ValueError`` naming ``matrix``)."""
    shape = np.shape(matrix)
    if len(shape) < 2 or shape[-1] != shape[-2] or shape[-1] == 0:  # (0, 0) raised an IndexError
        raise ValueError(f"matrix must be (..., n, n) with n >= 1; got shape {shape}")
    if is_concrete(matrix):  # traced: NaN, read by the caller's check
        check_finite(matrix, "matrix")
    s = jnp.linalg.svd(matrix, compute_uv=False)
    top = s[..., 0]
    return jnp.where(top > 0, s[..., -1] / jnp.where(top > 0, top, 1.0), jnp.where(jnp.isnan(top), jnp.nan, 0.0))
