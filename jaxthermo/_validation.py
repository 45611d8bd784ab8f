"""Early, named errors for bad input.

Checks run on concrete values only: inside ``jit``/``vmap``/``grad`` the arguments are tracers and
the checks are skipped (validate once at the top, where the user's arrays come in).
"""

from __future__ import annotations

import jax
import numpy as np


def is_concrete(x) -> bool:
    """True unless ``x`` (or a leaf of it) is a JAX tracer."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def check_finite(x, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if a concrete ``x`` has NaN or infinite entries."""
    if x is None or not is_concrete(x):
        return
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[:3]
        raise ValueError(f"{name} must be finite; found {bad.tolist()}")


def check_hermitian(h, name: str, atol: float = 1e-10) -> None:
    """Raise ``ValueError`` naming ``name`` if a concrete square matrix is not Hermitian."""
    if not is_concrete(h):
        return
    from ._qutip import as_array

    arr = np.asarray(as_array(h, name))
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (..., d, d); got shape {arr.shape}")
    check_finite(arr, name)
    err = np.max(np.abs(arr - np.conj(np.swapaxes(arr, -1, -2)))) if arr.size else 0.0
    scale = max(1.0, float(np.max(np.abs(arr)))) if arr.size else 1.0
    if err > atol * scale:
        raise ValueError(f"{name} is not Hermitian: max |{name} - {name}†| = {err:.3g}")


def check_density_matrix(rho, name: str, dim: int | None = None, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``rho`` is a (batch of) density matrices.

    Checks the shape (and ``dim`` if given), finiteness, Hermiticity, unit trace and positivity,
    each to ``atol`` (at least 100 ulp of the input's precision, so float32 states pass).
    """
    if not is_concrete(rho):
        return
    from ._qutip import as_array

    arr = np.asarray(as_array(rho, name, dims=None if dim is None else (dim,)))
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must have shape (..., d, d); got {arr.shape}")
    if np.issubdtype(arr.dtype, np.inexact):  # float32 states carry ~1e-7 rounding
        atol = max(atol, 100 * float(np.finfo(arr.dtype).eps))
    if dim is not None and arr.shape[-1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[-1]} but the model needs d = {dim}")
    check_hermitian(arr, name, atol=atol)
    tr = np.real(np.trace(arr, axis1=-2, axis2=-1))
    if np.any(np.abs(tr - 1.0) > atol):
        raise ValueError(f"{name} must have unit trace; Tr {name} = {np.ravel(tr)[:3].tolist()}")
    herm = 0.5 * (arr + np.conj(np.swapaxes(arr, -1, -2)))
    wmin = float(np.min(np.linalg.eigvalsh(herm)))
    if wmin < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {wmin:.3g}")


def check_dimension(d, name: str = "d") -> int:
    """An integer qudit dimension >= 2, else ``ValueError`` naming ``name``."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"{name}={d!r}: must be an integer >= 2")
    return int(d)


def check_choice(value, name: str, choices) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}={value!r}: must be one of {sorted(choices)}")


def is_numeric(x) -> bool:
    """True if ``x`` is a numeric (real or complex) array (False for placeholders JAX puts in pytrees).

    Complex input is numeric too, and is checked without a ``ComplexWarning``.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return False
    return bool(np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_)


def should_validate(x) -> bool:
    """Validate ``x`` only when it is concrete and numeric (not a tracer or a pytree placeholder)."""
    return x is not None and is_concrete(x) and is_numeric(x)


def check_positive_int(n, name: str) -> int:
    """A positive integer (not a bool), else ``ValueError`` naming ``name``; returns ``int(n)``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name}={n!r}: must be a positive integer")
    return int(n)


def check_time_grid(times, name: str = "times") -> None:
    """The one rule for time grids: a finite, non-empty 1-d array, non-decreasing, from t ≥ 0.

    Skipped for traced values (see the module docstring).
    """
    if times is None or not is_concrete(times):
        return
    t = np.asarray(times)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array; got shape {t.shape}")
    if not np.issubdtype(t.dtype, np.number) or np.iscomplexobj(t):
        raise ValueError(f"{name} must be real numbers; got dtype {t.dtype}")
    check_finite(t, name)
    if np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be non-decreasing and >= 0; got {t[:4].tolist()}...")


def check_populations(p, name: str, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless a concrete ``p`` (..., d) is a probability vector.

    Finite, real, non-negative and summing to one, each to ``atol`` (at least 100 ulp of the
    input's precision).
    """
    if not should_validate(p):
        return
    arr = np.asarray(p)
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., d) with d >= 1; got {arr.shape}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real populations; got dtype {arr.dtype}")
    check_finite(arr, name)
    if np.issubdtype(arr.dtype, np.inexact):
        atol = max(atol, 100 * float(np.finfo(arr.dtype).eps))
    if np.any(arr < -atol):
        raise ValueError(f"{name} must be non-negative; smallest entry {float(np.min(arr)):.3g}")
    total = np.sum(arr, axis=-1)
    if np.any(np.abs(total - 1.0) > atol * max(1, arr.shape[-1])):
        raise ValueError(f"{name} must sum to one; sum = {np.ravel(total)[:3].tolist()}")
