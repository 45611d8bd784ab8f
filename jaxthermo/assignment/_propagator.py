"""Rows of ``exp(−iMt)`` for a Hermitian M, with gradients that stay finite at degenerate spectra.

``M`` is diagonalised once (``M = V diag(w) V†``) and ``e^{−iMt} = V diag(e^{−iwt}) V†`` is
assembled per time. Differentiating through ``eigh`` is NaN when eigenvalues coincide (the
all-to-all reservoirs of docs/assignment.md are highly degenerate), so the derivative with respect to M is the
Daleckii–Krein formula ``V (Γ ∘ V† dM V) V†`` with the divided difference of ``λ ↦ e^{−iλt}``,
``Γ_ij = −i t e^{−i t (λ_i+λ_j)/2} sinc((λ_i − λ_j) t/2)``, finite and smooth at ``λ_i = λ_j``.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._qudit import dagger
from .._validation import should_validate, value_checks_enabled

# phase rounding ε·max|E|·t (rad) above which warn_phase_rounding warns (docs/assignment.md §1)
PHASE_ROUNDING_TOL = 1e-4


class SpectralDecomposition(NamedTuple):
    """``M = V diag(w) V†``: eigenvalues ``w`` (n,) ascending and eigenvectors ``V`` (n, n) as columns."""

    eigenvalues: jnp.ndarray
    eigenvectors: jnp.ndarray


def spectral_decomposition(m) -> SpectralDecomposition:
    """``(w, V)`` of a Hermitian (n, n) matrix, detached from autodiff (see :func:`propagator_rows`)."""
    w, v = jnp.linalg.eigh(m)
    return SpectralDecomposition(jax.lax.stop_gradient(w), jax.lax.stop_gradient(v))


@partial(jax.custom_jvp, nondiff_argnums=(4,))
def propagator_rows(m, t, w, v, rows):
    """The first ``rows`` rows of ``e^{−iMt}``, shape (rows, n).

    Args:
      m: Hermitian (n, n), the generator (only its tangent is used; the primal comes from w, v).
      t: real scalar time.
      w, v: :func:`spectral_decomposition` of ``m``.
      rows: number of leading rows returned (static).
    """
    return (v[:rows] * phases(w, t, v.dtype)) @ dagger(v)


def phases(w, t, dtype):
    """``e^{−iwt}`` in the complex dtype of the eigenvectors (no weak-type promotion)."""
    return jnp.exp(-1j * (w * t).astype(dtype))


@propagator_rows.defjvp
def _propagator_rows_jvp(rows, primals, tangents):
    m, t, w, v = primals
    dm, dt, _, _ = tangents
    cdt = v.dtype
    phase = phases(w, t, cdt)
    vh = dagger(v)
    out = (v[:rows] * phase) @ vh
    half_gap = 0.5 * (w[:, None] - w[None, :]) * t
    mid = 0.5 * (w[:, None] + w[None, :])
    t_c = jnp.asarray(t).astype(cdt)
    gamma = -1j * t_c * phases(mid, t, cdt) * jnp.sinc(half_gap / jnp.pi).astype(cdt)
    inner = vh @ jnp.asarray(dm).astype(cdt) @ v
    d_out = v[:rows] @ (gamma * inner) @ vh
    d_out = d_out + ((v[:rows] * (-1j * w.astype(cdt) * phase)) @ vh) * jnp.asarray(dt).astype(cdt)
    return out, d_out


def warn_phase_rounding(matrix, times, dtype, name: str = "times") -> None:
    """``RuntimeWarning`` (concrete inputs, value checks on) when the phases ``e^{−iEt}`` of the Hermitian ``matrix``
    (H, or the single-particle M) up to the largest of ``times`` carry a rounding error ε·max|E|·t above
    :data:`PHASE_ROUNDING_TOL` rad in the real ``dtype`` of the run: each eigenvalue is known to ≈ ε·max|E| and its
    phase to ε·max|E|·t, so every result is relatively off by about that (pure noise beyond 1 rad). A float32 run of
    two coupled qubits at t = 10⁴ had energies 2·10⁻⁴ off (docs/assignment.md §1)."""
    if not (should_validate(matrix) and should_validate(times) and value_checks_enabled()):
        return
    t = float(np.max(np.abs(np.asarray(times, dtype=float))))
    eps = float(np.finfo(np.dtype(dtype)).eps)
    matrix = np.asarray(matrix)
    norm = float(np.max(np.sum(np.abs(matrix), axis=-1)))  # ‖M‖_∞ ≥ max|E|, O(n²): the common case stops here
    if eps * norm * t <= PHASE_ROUNDING_TOL:
        return
    norm = float(np.max(np.abs(np.linalg.eigvalsh(matrix))))
    error = eps * norm * t
    if error > PHASE_ROUNDING_TOL:
        warnings.warn(
            f"{name}: up to t = {t:.3g} with max|E| = {norm:.3g} the phases e^(-iEt) carry a rounding error of "
            f"about eps·max|E|·t = {error:.2g} rad in {np.dtype(dtype).name}; every result is off by about that "
            f"relatively (noise beyond 1 rad): {'shorter times' if np.dtype(dtype).itemsize >= 8 else 'use float64 inputs or shorter times'}",
            RuntimeWarning,
            stacklevel=3,
        )
