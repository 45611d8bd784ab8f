"""Exact time-local generators and their canonical form ([HCLA14]; docs/assignment.md).

Superoperators act on row-major vectorised matrices, ``vec(X)[i*d + j] = X[i, j]``, so
``vec(A X B) = (A ⊗ Bᵀ) vec(X)`` and a superoperator is a (d², d²) matrix (docs/conventions.md;
built by :func:`jaxthermo._superoperators.superoperator`).

Canonical form ([HCLA14] = Hall, Cresser, Li & Andersson, PRA 89, 042120 (2014)):

    L(ρ) = −i[K, ρ] + Σ_k γ_k (L_k ρ L_k† − ½{L_k† L_k, ρ}),   Tr L_k = 0,  Tr L_k† L_l = δ_kl.

K is fixed up to a multiple of the identity by the tracelessness of the jumps; its traceless part
is basis-free, ``(i/2d)(X − X†)`` minus its trace/d with ``X = Σ_kl L(|k⟩⟨l|)|l⟩⟨k|``. The rates
γ_k are the eigenvalues of the decoherence matrix (the Choi matrix of L restricted to traceless
operators); a negative rate marks a non-Markovian (information backflow) time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._deprecation import deprecated_alias, warn_deprecated
from .._dtypes import complex_dtype_for
from .._host import check_untraced
from .._linalg import eigh_clustered
from .._qudit import commutator, dagger
from .._qutip import qobj_inputs, refuse_qobj_generator
from .._superoperators import apply_superoperator, lindblad_dissipator, map_images, superoperator
from .._validation import (
    check_dimension,
    check_finite,
    check_hermitian,
    check_real_scalar,
    check_time_grid,
    error_if,
    is_concrete,
    stage_hermitian,
    stages,
)

generator_images = deprecated_alias(
    map_images, "jaxthermo.assignment._generator.generator_images", "jaxthermo._superoperators.map_images"
)
SUPEROPERATOR_RECIPE = (
    "jnp.stack([L(E).reshape(d * d) for E in jnp.eye(d * d, dtype=complex).reshape(d * d, d, d)], axis=1) "
    "(row-major vec: column i is the image of the matrix unit E_i)"
)


def superoperator_matrix(linear_map: Callable, d: int, dtype=jnp.complex128) -> jnp.ndarray:
    """Deprecated: the (d², d²) matrix S of a linear map L on (d, d) arrays, vec(L(X)) = S vec(X).

    Use ``jnp.stack([L(E).reshape(d * d) for E in jnp.eye(d * d, dtype=complex).reshape(d * d, d, d)],
    axis=1)`` (row-major vec, vec(X)[i·d + j] = X[i, j]).
    """
    warn_deprecated("jaxthermo.assignment.superoperator_matrix", SUPEROPERATOR_RECIPE)
    return superoperator(linear_map, d, dtype)


def as_function(superop) -> Callable:
    """Deprecated: the map X ↦ reshape(S @ vec(X)) of a (d², d²) superoperator matrix S.

    Use ``lambda X: (S @ X.reshape(d * d)).reshape(d, d)`` (row-major vec, vec(X)[i·d + j] = X[i, j]).
    """
    warn_deprecated(
        "jaxthermo.assignment.as_function", "lambda X: (S @ X.reshape(d * d)).reshape(d, d) (row-major vec)"
    )
    return partial(apply_superoperator, jnp.asarray(superop))


def _traceless_part(k, d):
    return k - jnp.trace(k) / d * jnp.eye(d, dtype=k.dtype)


def _run_dtype(generator: Callable, d: int, trace):
    """The complex dtype of the canonical form: the dtype of ``trace``, or, for a Python number (which
    has no precision of its own), that of the generator's image of a complex64 matrix (complex64 for
    a float32 generator, complex128 where it carries float64 constants). Checks the shapes."""
    out = _check_generator_dimension(generator, d)
    if type(trace) in (int, float):  # not np.float64 (a float subclass with a dtype)
        return complex_dtype_for(out.dtype)
    return complex_dtype_for(jnp.asarray(trace).dtype)


def _check_generator_dimension(generator: Callable, d: int):
    """``ValueError`` naming ``d`` unless ``generator`` maps (d, d) arrays to (d, d) arrays (shapes
    only); returns the shape and dtype of the image of a complex64 matrix."""
    check_dimension(d, "d")
    refuse_qobj_generator(generator, d)  # a QuTiP Qobj is callable (its __call__ applies a superoperator)
    if not callable(generator):  # a (d², d²) matrix (exact_generator's) was blamed on d ("does not act on (d, d)")
        raise TypeError(
            f"generator: must be a callable ρ ↦ L(ρ) on ({d}, {d}) arrays; got {type(generator).__name__} of shape "
            f"{np.shape(generator)}. For a superoperator matrix S acting on row-major vectorised matrices "
            f"(vec(X)[i*d + j] = X[i, j], e.g. exact_generator's) pass "
            f"lambda rho: (S @ rho.reshape({d * d})).reshape({d}, {d})"
        )
    try:
        out = jax.eval_shape(generator, jax.ShapeDtypeStruct((d, d), jnp.complex64))
    except jax.errors.JAXTypeError as exc:  # NumPy on a tracer, Python control flow on values: not a shape problem
        raise ValueError(
            f"generator: must be a JAX-traceable function of a ({d}, {d}) array (jax.numpy, no NumPy conversion or "
            f"Python branching on its values); tracing it failed: {str(exc).splitlines()[0]}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"d={d}: the generator does not act on ({d}, {d}) matrices ({exc})") from None
    if getattr(out, "shape", None) != (d, d):
        raise ValueError(f"d={d}: the generator maps ({d}, {d}) matrices to shape {getattr(out, 'shape', None)}")
    return out


def _check_generator_images(images, d: int) -> None:
    """``ValueError`` naming ``generator`` unless L, given by its images L(|k⟩⟨l|) (d, d, d, d), is finite, preserves
    Hermiticity (L(X†) = L(X)†, i.e. a Hermitian Choi matrix) and annihilates the trace (Tr L(X) = 0): only then
    has it the canonical form −i[K, ·] + Σ γ_k D[L_k] ([HCLA14]). Otherwise the form of another generator was
    returned without a word (L(ρ) = σ₋ρ: reconstructed 0.5 off). Relative tolerance max(1e-6, 1000 ulp) of the
    largest image entry, for the rounding of generators computed from maps (L_t = Φ̇_tΦ_t⁻¹). Concrete images only."""
    if not is_concrete(images):
        _stage_generator_images(images)
        return
    x = np.asarray(images)
    if not np.all(np.isfinite(x)):
        raise ValueError("generator: its images L(|k><l|) are not finite (NaN or inf)")
    scale = float(np.max(np.abs(x)))
    tol = max(1e-6, 1e3 * float(np.finfo(x.real.dtype).eps)) * scale
    # L(|k><l|)† = L(|l><k|) for a Hermiticity-preserving L
    herm = float(np.max(np.abs(np.conj(np.swapaxes(x, -1, -2)) - np.swapaxes(x, 0, 1))))
    if herm > tol:
        raise ValueError(
            f"generator: does not preserve Hermiticity (max |L(X)† − L(X†)| = {herm:.3g} over matrix units X, scale "
            f"{scale:.3g}); the canonical form −i[K, ·] + Σ γ_k D[L_k] exists only for Hermiticity-preserving, "
            "trace-annihilating generators"
        )
    tr = float(np.max(np.abs(np.trace(x, axis1=-2, axis2=-1))))
    if tr > tol:
        raise ValueError(
            f"generator: does not annihilate the trace (max |Tr L(X)| = {tr:.3g} over matrix units X, scale {scale:.3g}); "
            "the canonical form −i[K, ·] + Σ γ_k D[L_k] exists only for trace-annihilating (trace-preserving) generators"
        )


def _stage_generator_images(images) -> None:
    """The checks of :func:`_check_generator_images` on traced images (a generator closing over traced parameters),
    staged under ``jaxthermo.config.validate == "always"``, each naming ``generator``."""
    if not stages(images):
        return
    x = jax.lax.stop_gradient(images)
    finite = jnp.all(jnp.isfinite(x))
    error_if(~finite, "generator: its images L(|k><l|) are not finite (NaN or inf)")
    x = jnp.where(finite, x, jnp.zeros_like(x))
    tol = max(1e-6, 1e3 * float(jnp.finfo(jnp.real(x).dtype).eps)) * jnp.max(jnp.abs(x))
    herm = jnp.max(jnp.abs(jnp.conj(jnp.swapaxes(x, -1, -2)) - jnp.swapaxes(x, 0, 1)))
    error_if(
        herm > tol,
        "generator: does not preserve Hermiticity (max |L(X)† − L(X†)| = {value} over matrix units X); the "
        "canonical form −i[K, ·] + Σ γ_k D[L_k] exists only for Hermiticity-preserving, trace-annihilating generators",
        herm,
    )
    tr = jnp.max(jnp.abs(jnp.trace(x, axis1=-2, axis2=-1)))
    error_if(
        tr > tol,
        "generator: does not annihilate the trace (max |Tr L(X)| = {value} over matrix units X); the canonical form "
        "−i[K, ·] + Σ γ_k D[L_k] exists only for trace-annihilating (trace-preserving) generators",
        tr,
    )


def canonical_hamiltonian(generator: Callable, d: int, trace=0.0) -> jnp.ndarray:
    """Hamiltonian part K_S of a generator in canonical (traceless-jump) form, shape (d, d).

    Basis-free formula (docs/assignment.md, [HCLA14]): with ``X = Σ_kl L(|k⟩⟨l|) |l⟩⟨k|`` the traceless part of K is
    ``(i/2d)(X − X†)`` minus its trace/d. K is unique only up to a multiple of the identity;
    ``trace`` fixes ``Tr K`` (default 0, the traceless K). Pass ``trace = Tr H_S`` for the
    library's convention ``K_S = K_traceless + (Tr H_S/d)·1``, which gives ``K_S = H_S`` for
    ``L = −i[H_S, ·]``.

    Args:
      generator: a linear map ρ ↦ L(ρ) on (d, d) arrays (jit/vmap-compatible).
      d: Hilbert-space dimension.
      trace: finite real scalar, the trace given to K (``ValueError`` otherwise). Its dtype sets the
        precision of K; a Python number (the default) takes the generator's: complex64 for a
        generator that keeps a complex64 matrix complex64.

    Example:
      >>> h = jnp.array([[1.0, 0.5], [0.5, -0.3]])
      >>> canonical_hamiltonian(lambda r: -1j * (h @ r - r @ h), 2, trace=jnp.trace(h))  # == h
    """
    check_real_scalar(trace, "trace")
    if stages(trace):  # traced: staged under validate="always"
        check_finite(trace, "trace")
    dtype = _run_dtype(generator, d, trace)
    images = map_images(generator, d, dtype)
    _check_generator_images(images, d)
    return _hamiltonian_from_images(images, d, trace, dtype)


def _hamiltonian_from_images(images, d: int, trace, dtype) -> jnp.ndarray:
    """K of :func:`canonical_hamiltonian` from the images L(|k⟩⟨l|) (d, d, d, d)."""
    x = jnp.einsum("jlil->ij", images)
    k = (1j / (2 * d)) * (x - dagger(x))
    return _traceless_part(k, d) + jnp.asarray(trace).astype(dtype) / d * jnp.eye(d, dtype=dtype)


def _traceless_basis(d: int) -> np.ndarray:
    """Orthonormal basis of the traceless (d, d) matrices as columns of a (d², d²−1) array.

    Column ``c`` is ``vec(B_c)`` (row-major); ``Tr B_b† B_c = δ_bc``, ``Tr B_c = 0``.
    """
    one = np.eye(d).reshape(d * d) / np.sqrt(d)
    projector = np.eye(d * d) - np.outer(one, one)
    w, v = np.linalg.eigh(projector)
    return v[:, w > 0.5]


class CanonicalForm(NamedTuple):
    """L = −i[K, ·] + Σ_k γ_k D[L_k] with traceless, orthonormal L_k ([HCLA14]; docs/assignment.md)."""

    hamiltonian: jnp.ndarray  # K (d, d), traceless part + trace/d · 1
    rates: jnp.ndarray  # γ_k (d²−1,), ascending; negative = non-Markovian
    jumps: jnp.ndarray  # L_k (d²−1, d, d), traceless, Tr L_k† L_l = δ_kl


def canonical_form(generator: Callable, d: int, trace=0.0) -> CanonicalForm:
    """Hall–Cresser–Li–Andersson canonical form of a generator ρ ↦ L(ρ) on (d, d) arrays.

    The decoherence matrix is ``d_bc = ⟨⟨B_b| C |B_c⟩⟩`` with the Choi matrix
    ``C = Σ_kl |k⟩⟨l| ⊗ L(|k⟩⟨l|)`` and an orthonormal traceless basis ``B``; its eigenvalues are
    the canonical rates γ_k and its eigenvectors the jumps ``L_k = Σ_b u_bk B_b``. The
    Hamiltonian is :func:`canonical_hamiltonian` (``trace`` as there, also setting the precision). At equal rates
    the derivatives are those of :func:`jaxthermo._linalg.eigh_clustered`: finite, the rates' the mean over the
    equal ones, the jumps' without rotation inside their eigenspace (docs/information.md §6).
    """
    check_real_scalar(trace, "trace")
    if stages(trace):  # traced: staged under validate="always"
        check_finite(trace, "trace")
    dtype = _run_dtype(generator, d, trace)
    images = map_images(generator, d, dtype)  # [k, l, i, j]
    _check_generator_images(images, d)
    return canonical_form_of_images(images, d, trace, dtype)


def canonical_form_of_images(images, d: int, trace, dtype) -> CanonicalForm:
    """:func:`canonical_form` from the images L(|k⟩⟨l|) (d, d, d, d), unchecked: for generators built inside
    the library (L_t = Φ̇_tΦ_t⁻¹ of :func:`~jaxthermo.assignment.minimal_dissipation`, Hermiticity-preserving by
    construction, whose rounding near a singular Φ_t is flagged there, not refused)."""
    # Choi C[(k, i), (l, j)] = L(|k><l|)_ij ; |A>> = Σ_k |k> ⊗ A|k>  has entries [(k, m)] = A[m, k]
    choi = jnp.transpose(images, (0, 2, 1, 3)).reshape(d * d, d * d)
    basis = _traceless_basis(d)  # columns vec(B) row-major: entry (m, k) -> index m*d + k
    perm = np.arange(d * d).reshape(d, d).T.reshape(d * d)  # (k, m) ordering of vec(B)
    b = jnp.asarray(basis[perm], dtype=dtype)
    decoherence = dagger(b) @ choi @ b
    decoherence = 0.5 * (decoherence + dagger(decoherence))
    rates, u = eigh_clustered(decoherence)  # finite derivatives at equal rates (depolarising noise, β = 0)
    jumps_vec = jnp.asarray(basis, dtype=dtype) @ u  # row-major vec of L_k as columns
    jumps = jnp.transpose(jumps_vec).reshape(d * d - 1, d, d)
    return CanonicalForm(_hamiltonian_from_images(images, d, trace, dtype), rates, jumps)


@qobj_inputs("hamiltonian", "jumps")
def lindblad_generator(hamiltonian, rates, jumps) -> Callable:
    """ρ ↦ −i[K, ρ] + Σ_k γ_k (L_k ρ L_k† − ½{L_k†L_k, ρ}) for K (d, d), γ (m,), L (m, d, d).

    The dissipator is :func:`jaxthermo._superoperators.lindblad_dissipator`. Checked at once (``ValueError``
    naming the argument): K (d, d) and L (m, d, d) of the same d, γ of shape (m,) (a γ of another length
    broadcast against the jumps: two rates on one jump were summed), and, where concrete, K Hermitian, γ real
    and every entry finite.
    """
    k_shape, r_shape, j_shape = np.shape(hamiltonian), np.shape(rates), np.shape(jumps)
    if len(k_shape) != 2 or k_shape[0] != k_shape[1]:
        raise ValueError(f"hamiltonian must be one (d, d) matrix; got shape {k_shape}")
    d = k_shape[0]
    if len(j_shape) != 3 or j_shape[1:] != (d, d):
        raise ValueError(f"jumps must have shape (m, {d}, {d}) for a ({d}, {d}) hamiltonian; got {j_shape}")
    if r_shape != j_shape[:1]:
        raise ValueError(f"rates must have shape ({j_shape[0]},), one per jump operator; got {r_shape}")
    check_hermitian(hamiltonian, "hamiltonian")  # concrete: at once
    stage_hermitian(hamiltonian, "hamiltonian")  # traced: staged under validate="always"
    check_finite(jumps, "jumps")
    check_finite(rates, "rates")
    rates_dtype = np.asarray(rates).dtype if is_concrete(rates) else np.dtype(rates.dtype)  # a tracer's dtype too
    if np.issubdtype(rates_dtype, np.complexfloating):
        raise ValueError(f"rates must be real; got dtype {rates_dtype}")
    hamiltonian, rates, jumps = (jnp.asarray(x) for x in (hamiltonian, rates, jumps))  # lists too

    @qobj_inputs("rho")
    def apply(rho):
        rho = jnp.asarray(rho)
        cdt = complex_dtype_for(jnp.result_type(hamiltonian, rates, jumps, rho))
        k, rho = jnp.asarray(hamiltonian).astype(cdt), jnp.asarray(rho).astype(cdt)
        return -1j * commutator(k, rho) + lindblad_dissipator(rates, jnp.asarray(jumps).astype(cdt), rho)

    return apply


class TimeInterval(NamedTuple):
    """A closed interval [start, end] of grid times (host floats)."""

    start: float
    end: float


def non_markovian_intervals(times, rates, tol=1e-9) -> list[TimeInterval]:
    """Maximal time intervals (grid points) on which some canonical rate is below ``−tol``.

    Args:
      times: (T,) non-decreasing, ≥ 0.
      rates: (T, m) canonical rates γ_k(t), real; NaN is refused (``ValueError`` naming ``rates`` and
        the times): an undefined rate (L_t does not exist where Φ_t is singular) is neither sign, so it
        cannot be counted as Markovian. :attr:`MinimalDissipation.non_markovian_intervals` handles
        the singular times of its own rates.
      tol: finite, ≥ 0.

    Returns:
      ``[TimeInterval(t_start, t_end), ...]`` of the grid points where ``min_k γ_k(t) < −tol``
      (host floats; each compares equal to the plain tuple ``(t_start, t_end)``).
    """
    check_untraced(
        "non_markovian_intervals",
        "it returns a list of host intervals. Compute the rates in JAX, then call it on their values",
        times=times,
        rates=rates,
        tol=tol,
    )
    check_time_grid(times)
    check_real_scalar(tol, "tol")
    if float(tol) < 0:
        raise ValueError(f"tol={tol!r}: must be >= 0 (rates below -tol count as negative)")
    times, rates = np.asarray(times, dtype=float), np.asarray(rates)
    if rates.ndim != 2 or rates.shape[0] != times.shape[0]:
        raise ValueError(
            f"rates must have shape (T, m) = ({times.shape[0]}, m), one row per time of times {times.shape}; "
            f"got {rates.shape}"
        )
    if np.iscomplexobj(rates):
        raise ValueError(f"rates must be real; got dtype {rates.dtype}")
    undefined = np.any(np.isnan(rates), axis=-1)
    if np.any(undefined):
        raise ValueError(
            f"rates: NaN at {int(np.sum(undefined))} time(s), first t = {times[undefined][:3].tolist()}: a rate "
            "there is undefined (a singular map), not Markovian; drop those rows or use "
            "MinimalDissipation.non_markovian_intervals"
        )
    return grid_intervals(times, np.min(rates, axis=-1) < -float(tol))


def grid_intervals(times, flagged) -> list[TimeInterval]:
    """Maximal runs of consecutive flagged grid points ``flagged`` (T,) as ``[TimeInterval(t_start, t_end)]``."""
    intervals, start = [], None
    for i, flag in enumerate(flagged):
        if flag and start is None:
            start = i
        if (not flag or i == len(flagged) - 1) and start is not None:
            end = i if flag else i - 1
            intervals.append(TimeInterval(float(times[start]), float(times[end])))
            start = None
    return intervals
