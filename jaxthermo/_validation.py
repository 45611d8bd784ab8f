"""Early, named errors for bad input.

Concrete values are checked at once with NumPy. Inside ``jit``/``vmap``/``grad`` the arguments are
tracers: with ``jaxthermo.config.validate == "always"`` the cheap checks (finiteness; trace,
Hermiticity and positivity of a state) are staged into the computation and raise at run time
through ``jax.debug.callback`` (:func:`error_if`); with ``"eager"`` they are skipped, and with
``"off"`` no value check runs (see :mod:`jaxthermo._config`).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._config import config


def is_concrete(x) -> bool:
    """True unless ``x`` (or a leaf of it) is a JAX tracer."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def _runtime_checks() -> bool:
    return config.validate == "always"


def _value_checks() -> bool:
    return config.validate != "off"


def value_checks_enabled() -> bool:
    """False under ``jaxthermo.config.validate == "off"``: then only types and shapes are checked,
    no values (finiteness, Hermiticity, trace, positivity, ranges that need a decomposition)."""
    return _value_checks()


def _raise_if(message):
    def callback(bad, value):
        bad = np.asarray(bad)
        if np.any(bad):
            shown = np.ravel(np.asarray(value)[bad] if np.shape(value) == bad.shape else np.asarray(value))[:3]
            raise ValueError(message.format(value=shown.tolist()))

    return callback


def error_if(bad, message: str, value=None) -> None:
    """Under ``config.validate == "always"``, stage a run-time check: raise ``ValueError(message)``
    when any entry of the traced boolean ``bad`` is true (``{value}`` in ``message`` shows up to three
    offending entries of ``value``). Composes with ``jit``, ``vmap`` and ``grad``; inside ``jit`` the
    error reaches the caller as JAX's runtime error carrying this message."""
    if not _runtime_checks():
        return
    value = bad if value is None else value
    jax.debug.callback(_raise_if(message), bad, value)


def check_finite(x, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``x`` has NaN or infinite entries (traced: :func:`error_if`)."""
    if x is None or not _value_checks():
        return
    if not is_concrete(x):
        if _runtime_checks() and is_numeric_tracer(x):
            x = jnp.asarray(x)
            error_if(~jnp.isfinite(x), f"{name} must be finite; found {{value}}", x)
        return
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[:3]
        raise ValueError(f"{name} must be finite; found {bad.tolist()}")


def check_hermitian(h, name: str, atol: float = 1e-10, scale: float | None = None) -> None:
    """Raise ``ValueError`` naming ``name`` if a concrete square matrix is not Hermitian (under
    ``validate == "off"`` only the shape is checked): max |h − h†| > ``atol`` · ``scale``, the scale by
    default max |h_ij| (relative: with max(1, max |h_ij|) a Hamiltonian in units of 10⁻¹¹ passed
    whatever its anti-Hermitian part, e.g. 10⁻¹¹ |0⟩⟨1|); states pass their own (trace 1). A boolean, string or
    float16 ``h`` is refused first (:func:`check_state_dtype`)."""
    check_state_dtype(h, name)
    if not is_concrete(h):
        return
    from ._qutip import as_array

    arr = np.asarray(as_array(h, name))
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (..., d, d); got shape {arr.shape}")
    if not _value_checks():
        return
    check_finite(arr, name)
    if np.issubdtype(arr.dtype, np.inexact):  # a float32 matrix carries ~1e-7 relative rounding
        atol = max(atol, 100 * float(np.finfo(arr.dtype).eps))
    err = np.max(np.abs(arr - np.conj(np.swapaxes(arr, -1, -2)))) if arr.size else 0.0
    if scale is None:
        scale = float(np.max(np.abs(arr))) if arr.size else 0.0
    if err > atol * scale:
        raise ValueError(f"{name} is not Hermitian: max |{name} - {name}†| = {err:.3g}")


def check_unitary(u, name: str, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless a concrete square ``u`` is finite and unitary:
    max |U†U − 1| ≤ ``atol`` (at least 100 d ε of its precision: float32 rounding passes, as does
    the rounding of an exponential with many squarings, ~2¹⁷ε); skipped for traced values and under
    ``validate == "off"``."""
    if not should_validate(u) or not _value_checks():
        return
    arr = np.asarray(u)
    check_finite(arr, name)
    eps = float(np.finfo(arr.dtype).eps) if np.issubdtype(arr.dtype, np.inexact) else float(np.finfo(float).eps)
    eye = np.eye(arr.shape[-1])
    err = float(np.max(np.abs(np.conj(np.swapaxes(arr, -1, -2)) @ arr - eye))) if arr.size else 0.0
    if err > max(atol, 100 * arr.shape[-1] * eps):
        raise ValueError(f"{name} is not unitary: max |{name}†{name} - 1| = {err:.3g}")


def check_density_matrix(rho, name: str, dim: int | None = None, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``rho`` is a (batch of) density matrices.

    Checks the shape (and ``dim`` if given), finiteness, Hermiticity, unit trace and positivity,
    each to ``atol`` (at least 100 ulp of the input's precision, so float32 states pass). A traced
    ``rho`` has its shape checked at trace time and the rest at run time (:func:`error_if`).
    A boolean, string or object array is refused first (``TypeError`` naming ``name``, also under
    ``validate="off"``): ``[[True, False], [False, False]]`` passed as |0⟩⟨0|.
    """
    check_state_dtype(rho, name)
    if not _value_checks():
        return
    if not is_concrete(rho):
        if is_numeric_tracer(rho):
            _check_traced_state(rho, name, dim, atol)
        return
    from ._qutip import as_array

    arr = np.asarray(as_array(rho, name, dims=None if dim is None else (dim,)))
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must have shape (..., d, d); got {arr.shape}")
    if np.issubdtype(arr.dtype, np.inexact):  # float32 states carry ~1e-7 rounding
        atol = max(atol, 100 * float(np.finfo(arr.dtype).eps))
    if dim is not None and arr.shape[-1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[-1]} but the model needs d = {dim}")
    check_hermitian(arr, name, atol=atol, scale=1.0)
    tr = np.real(np.trace(arr, axis1=-2, axis2=-1))
    if np.any(np.abs(tr - 1.0) > atol):
        raise ValueError(f"{name} must have unit trace; Tr {name} = {np.ravel(tr)[:3].tolist()}")
    herm = 0.5 * (arr + np.conj(np.swapaxes(arr, -1, -2)))
    wmin = float(np.min(np.linalg.eigvalsh(herm)))
    if wmin < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {wmin:.3g}")


STATE_DTYPES = ("float32", "float64", "complex64", "complex128")


def check_state_dtype(rho, name: str) -> None:
    """``TypeError`` naming ``name`` unless ``rho`` (a state or an operator: concrete, a QuTiP ``Qobj``, or traced)
    is a numeric array of a precision the package computes in: float32/complex64, float64/complex128, or integers
    (taken as float64). float16 and extended precision (float128, complex256) failed inside NumPy or JAX ("array
    type float16 is unsupported in linalg") without naming the argument; None, a string or a boolean matrix failed
    inside JAX or (booleans) passed as numbers."""
    if isinstance(rho, jax.core.Tracer):
        if not jnp.issubdtype(rho.dtype, jnp.number):
            raise TypeError(f"{name} must be a numeric (real or complex) array; got dtype {rho.dtype}")
        dtype = np.dtype(rho.dtype)
    else:
        from ._qutip import as_array

        rho = as_array(rho, name)
        check_numeric(rho, name, real=False)
        dtype = np.asarray(rho).dtype if not hasattr(rho, "dtype") else np.dtype(rho.dtype)
    if np.issubdtype(dtype, np.inexact) and dtype.name not in STATE_DTYPES:
        raise TypeError(
            f"{name} has dtype {dtype.name}: states must be float32/complex64 or float64/complex128 "
            "(or integers, taken as float64)"
        )


def is_numeric_tracer(x) -> bool:
    """True for a tracer of a numeric (not key, not float0) array."""
    return isinstance(x, jax.core.Tracer) and jnp.issubdtype(x.dtype, jnp.number)


def stages(*values) -> bool:
    """True under ``jaxthermo.config.validate == "always"`` when one of ``values`` is a numeric tracer: the checks of
    parameters that run at once on concrete values are then staged into the computation
    (:func:`error_if`, ``jax.debug.callback``) and stop it with an error naming the parameter."""
    return _runtime_checks() and any(is_numeric_tracer(v) for v in values)


def stage_hermitian(h, name: str, atol: float = 1e-10, when=True) -> None:
    """A traced matrix (..., d, d), under ``validate == "always"``: finite, and Hermitian by the rule of
    :func:`check_hermitian` (max |h − h†| ≤ ``atol`` · max |h_ij|, ``atol`` at least 100 ε of
    its precision), staged; an error names ``name``. ``when`` (a traced boolean) limits the checks to runs where it
    holds: False where what ``h`` is computed from is reported already (a NaN drive parameter), so a run stops with
    one error. Nothing for concrete values (checked at once elsewhere)."""
    if not stages(h):
        return
    h = jax.lax.stop_gradient(jnp.asarray(h))
    if jnp.issubdtype(h.dtype, jnp.inexact):
        atol = max(atol, 100 * float(jnp.finfo(h.dtype).eps))
    finite = jnp.all(jnp.isfinite(h))
    error_if(when & ~finite, f"{name} must be finite; found {{value}}", jnp.ravel(h))
    safe = jnp.where(finite, h, jnp.zeros_like(h))  # a non-finite h is reported above, once
    err = jnp.max(jnp.abs(safe - jnp.conj(jnp.swapaxes(safe, -1, -2))))
    error_if(
        when & (err > atol * jnp.max(jnp.abs(safe))),
        f"{name} is not Hermitian: max |{name} - {name}†| = {{value}}",
        err,
    )


def _check_traced_state(rho, name, dim, atol):
    if rho.ndim < 2 or rho.shape[-1] != rho.shape[-2]:
        raise ValueError(f"{name} must have shape (..., d, d); got {rho.shape}")
    if dim is not None and rho.shape[-1] != dim:
        raise ValueError(f"{name} has dimension {rho.shape[-1]} but the model needs d = {dim}")
    if not _runtime_checks():
        return
    if jnp.issubdtype(rho.dtype, jnp.inexact):
        atol = max(atol, 100 * float(jnp.finfo(rho.dtype).eps))
    rho = jax.lax.stop_gradient(rho)
    finite = jnp.all(jnp.isfinite(rho), axis=(-2, -1))
    safe = jnp.where(finite[..., None, None], rho, jnp.zeros_like(rho))
    herm_err = jnp.max(jnp.abs(safe - jnp.conj(jnp.swapaxes(safe, -1, -2))), axis=(-2, -1))
    tr = jnp.real(jnp.trace(safe, axis1=-2, axis2=-1))
    wmin = jnp.linalg.eigvalsh(0.5 * (safe + jnp.conj(jnp.swapaxes(safe, -1, -2))))[..., 0]
    error_if(~finite, f"{name} must be finite (traced value has NaN or inf entries)")
    error_if(
        herm_err > atol * jnp.maximum(1.0, jnp.max(jnp.abs(safe), axis=(-2, -1))),
        f"{name} is not Hermitian: max |{name} - {name}†| = {{value}}",
        herm_err,
    )
    error_if(jnp.abs(tr - 1.0) > atol, f"{name} must have unit trace; Tr {name} = {{value}}", tr)
    error_if(wmin < -atol, f"{name} is not positive semidefinite: smallest eigenvalue {{value}}", wmin)


def check_dimension(d, name: str = "d") -> int:
    """An integer qudit dimension >= 2, else ``ValueError`` naming ``name``."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"{name}={d!r}: must be an integer >= 2")
    return int(d)


def check_broadcast(shapes: dict, what: str = "batch shapes") -> tuple[int, ...]:
    """The broadcast of ``shapes`` ({parameter name: shape}), else ``ValueError`` naming the parameters and
    their shapes (JAX's own error, "incompatible shapes for broadcasting" or an einsum label, names none)."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        names, listed = " and ".join(shapes), " and ".join(str(tuple(s)) for s in shapes.values())
        raise ValueError(f"{names}: {what} {listed} do not broadcast") from None


def check_choice(value, name: str, choices) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}={value!r}: must be one of {sorted(choices)}")


def eager_constants(fn):
    """``fn`` with its JAX operations on concrete values evaluated at once, also while ``jax.jit`` traces
    (``jax.ensure_compile_time_eval``): a model built inside a jitted function from Python numbers or NumPy
    arrays has concrete fields and is checked as outside (they were tracers, so a λ making ρ_A negative or a
    NaN β passed unchecked, and a valid NumPy model failed converting a tracer); traced arguments stay traced."""

    @functools.wraps(fn)
    def eager(*args, **kwargs):
        with jax.ensure_compile_time_eval():
            return fn(*args, **kwargs)

    return eager


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


def check_key(key, name: str = "key"):
    """A JAX PRNG key: a typed key (``jax.random.key(seed)``) or a legacy uint32 key of shape (2,),
    concrete or traced; else ``TypeError`` naming ``name`` (an int seed gave JAX's "invalid PRNG key
    data: expected key_data.ndim >= 1")."""
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return key
    if dtype is not None and np.dtype(dtype) == np.uint32 and np.shape(key)[-1:] == (2,):
        return key
    shown = f"{type(key).__name__} {key!r}" if isinstance(key, (int, float, str, np.integer)) else type(key).__name__
    raise TypeError(f"{name} must be a JAX PRNG key, e.g. jax.random.key(0); got {shown}")


def check_flag(value, name: str, none_ok: bool = False) -> None:
    """``TypeError`` naming ``name`` unless ``value`` is True or False (or None with ``none_ok``): a string such
    as ``"no"`` was truthy and chose the other branch without a word."""
    if not (isinstance(value, (bool, np.bool_)) or (none_ok and value is None)):
        raise TypeError(f"{name}={value!r}: must be True or False" + (" (or None)" if none_ok else ""))


def check_positive_int(n, name: str) -> int:
    """A positive integer (not a bool), else ``ValueError`` naming ``name``; returns ``int(n)``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name}={n!r}: must be a positive integer")
    return int(n)


def check_real_scalar(x, name: str, *, positive: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless a concrete ``x`` is a finite real scalar (with
    ``positive``, also > 0; NaN fails either way); skipped for traced values."""
    if not should_validate(x):
        return
    arr = np.asarray(x)
    if arr.ndim != 0 or np.iscomplexobj(arr) or not np.isfinite(arr) or (positive and not arr > 0):
        raise ValueError(f"{name}={x!r}: must be a finite real number{' > 0' if positive else ''}")


def check_finite_temperature(beta, name: str = "beta") -> None:
    """``ValueError`` naming ``name`` if a concrete β has an entry 0: the free energies F_α = [D_α − log Z_S]/β
    (docs/information.md §3) are then infinite or 0/0 (they were NaN or −∞ without a word), while β F_α =
    D_α − log Z_S stays finite; skipped for traced β."""
    if not should_validate(beta):
        return
    if np.any(np.asarray(beta) == 0):
        raise ValueError(
            f"{name}=0: the free energy F_alpha = [D_alpha - log Z]/beta is infinite (or undefined) at infinite "
            "temperature; beta*F_alpha = D_alpha - log Z is finite (divergences_to_thermal, log_partition_function)"
        )


def refuse_overflow(value, message: str, given=None):
    """``value``, or ``ValueError(message)`` if it is concrete and not finite where ``given`` (what it was computed
    from, by default finite everywhere) is finite: a result of finite, checked input that overflowed its precision
    (F_α = [D_α − log Z]/β at β = 10⁻³²⁰, log Z at βg = 10³⁰⁹ were ±inf without a word); an infinite ``given`` (D_α = +∞
    of an α < 0 off the support) stays infinite. Traced values and ``validate == "off"`` pass."""
    if not _value_checks() or not is_concrete((value, given)):
        return value
    overflow = ~np.isfinite(np.asarray(value))
    if given is not None:
        overflow &= np.isfinite(np.asarray(given))
    if np.any(overflow):
        raise ValueError(message)
    return value


def check_nonnegative(x, name: str) -> None:
    """Raise naming ``name`` unless a concrete ``x`` (any shape) is real, finite and >= 0
    (``TypeError`` for a non-number, ``ValueError`` for a bad value); skipped for traced values."""
    check_numeric(x, name)
    if not should_validate(x):
        return
    check_finite(x, name)
    if np.any(np.asarray(x, dtype=float) < 0):
        shown = x if np.ndim(x) == 0 else np.ravel(np.asarray(x))[:3].tolist()
        raise ValueError(f"{name}={shown}: must be >= 0")


def check_time_grid(times, name: str = "times") -> None:
    """The one rule for time grids: a finite, non-empty 1-d array, non-decreasing, from t ≥ 0.

    A traced grid has its shape checked at trace time and its values at run time under
    ``validate == "always"`` (:func:`error_if`; see the module docstring). None, a string, booleans or complex times:
    ``TypeError`` (None passed here and failed in JAX or NumPy, naming nothing).
    """
    check_numeric(times, name)
    if not is_concrete(times):
        if is_numeric_tracer(times):
            if times.ndim != 1 or times.shape[0] == 0:
                raise ValueError(f"{name} must be a non-empty 1-d array; got shape {times.shape}")
            if _value_checks():
                check_finite(times, name)
                error_if(
                    (times < 0) | jnp.concatenate([jnp.zeros((1,), bool), jnp.diff(times) < 0]),
                    f"{name} must be non-decreasing and >= 0; got {{value}}",
                    times,
                )
        return
    t = np.asarray(times)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array; got shape {t.shape}")
    check_finite(t, name)
    if np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be non-decreasing and >= 0; got {t[:4].tolist()}...")


def check_populations(p, name: str, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless a concrete ``p`` (..., d) is a probability vector.

    Finite, real, non-negative and summing to one, each to ``atol`` (at least 100 ulp of the
    input's precision). None, a string or a boolean array: ``TypeError`` (also under ``validate="off"``).
    """
    check_numeric(p, name, real=False)  # None and strings failed inside JAX, booleans passed as 0 and 1
    if not _value_checks() or not should_validate(p):
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


def check_log_populations(log_p, name: str, atol: float = 1e-8) -> None:
    """Raise ``ValueError`` naming ``name`` unless a concrete ``log_p`` (..., d) is the logarithm of a probability
    vector: real, no NaN or +∞ (−∞ for a zero weight), Σ_j e^{log p_j} = 1 to ``atol`` (at least 100 ulp)."""
    check_numeric(log_p, name, real=False)
    if not _value_checks() or not should_validate(log_p):
        return
    arr = np.asarray(log_p)
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., d) with d >= 1; got {arr.shape}")
    if np.iscomplexobj(arr) or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be real logarithms of populations; got dtype {arr.dtype}")
    if np.any(np.isnan(arr)) or np.any(arr == np.inf):
        raise ValueError(f"{name} must have no NaN or +inf entries (-inf for a zero population)")
    atol = max(atol, 100 * float(np.finfo(arr.dtype).eps)) if np.issubdtype(arr.dtype, np.inexact) else atol
    peak = np.max(arr, axis=-1, keepdims=True)
    total = np.exp(np.squeeze(peak, -1)) * np.sum(np.exp(arr - np.where(np.isfinite(peak), peak, 0.0)), axis=-1)
    if np.any(np.abs(total - 1.0) > atol * max(1, arr.shape[-1])):
        raise ValueError(f"{name} must be normalised, sum_j exp({name}_j) = 1; got {np.ravel(total)[:3].tolist()}")


def check_callable(f, name: str, expected: str) -> None:
    """Raise ``TypeError`` naming ``name`` unless ``f`` is callable (JAX's own "'int' object is not callable"
    named no parameter); ``expected`` says what the function maps, e.g. "a function of the eigenvalues"."""
    if not callable(f):
        raise TypeError(f"{name} must be {expected}; got {type(f).__name__}")


def check_numeric(x, name: str, *, real: bool = True) -> None:
    """Raise ``TypeError`` naming ``name`` unless ``x`` is a number or numeric array (a tracer passes).

    ``None``, strings, booleans and non-numeric objects are refused; with ``real``, complex values too.
    """
    if isinstance(x, jax.core.Tracer) or isinstance(x, jax.ShapeDtypeStruct):
        return
    if x is None or isinstance(x, (str, bytes, bool, np.bool_)) or not is_numeric(x) or np.asarray(x).dtype == np.bool_:
        shown = type(x).__name__ if x is None or not isinstance(x, (str, bytes)) else repr(x)
        if isinstance(x, (np.ndarray, jax.Array)):  # "got ndarray" said nothing of what was wrong
            shown = f"{shown} of dtype {x.dtype}"
        raise TypeError(f"{name} must be a {'real ' if real else ''}number or numeric array; got {shown}")
    if real and np.iscomplexobj(np.asarray(x)):
        raise TypeError(f"{name} must be real; got dtype {np.asarray(x).dtype}")


def check_orders(alphas, name: str = "alphas") -> tuple[float, ...]:
    """Rényi orders as a tuple of floats: real numbers (±∞ allowed), one or a sequence; NaN and
    complex orders are refused naming ``name``, and traced ones (each order selects its formula on the host)."""
    check_numeric(alphas, name)
    if not is_concrete(alphas):
        raise TypeError(
            f"{name} must be concrete numbers (each Rényi order selects its formula); got a traced array: "
            "build the orders outside jax.jit / jax.vmap (a tuple or an array made there)"
        )
    values = tuple(float(a) for a in np.atleast_1d(np.asarray(alphas, float)).ravel())
    if any(a != a for a in values):
        raise ValueError(f"{name}={values}: a Rényi order must be a real number or ±inf, not NaN")
    return values


def check_order_values(alpha, name: str = "alpha") -> None:
    """Orders that may be traced (the classical divergences are differentiable in α): concrete ones as
    :func:`check_orders`; traced ones, under ``validate == "always"``, staged as not NaN (a traced NaN α gave D = NaN)."""
    if is_concrete(alpha):
        check_orders(alpha, name)
    elif stages(alpha):
        alpha = jax.lax.stop_gradient(jnp.asarray(alpha))
        error_if(jnp.isnan(alpha), f"{name}: a Rényi order must be a real number or ±inf, not NaN", alpha)


def check_integer(n, name: str, minimum: int | None = None) -> int:
    """An integer (Python or NumPy integer, or a float with an integral value is refused), else
    ``TypeError``; below ``minimum``, ``ValueError``; both name ``name``. Returns ``int(n)``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name}={n!r}: must be an integer; got {type(n).__name__}")
    if minimum is not None and n < minimum:
        raise ValueError(f"{name}={n!r}: must be an integer >= {minimum}")
    return int(n)


def check_real_dtype(dtype, name: str = "dtype") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``dtype`` is float32 or float64."""
    if dtype is None:
        return
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}={dtype!r}: not a dtype") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name}={dt}: must be float32 or float64")


def check_inexact_dtype(dtype, name: str = "dtype"):
    """``dtype`` as a NumPy dtype if it is float32, float64, complex64 or complex128 (:data:`STATE_DTYPES`), else
    ``TypeError`` naming ``name``: an integer dtype truncated values (a coupling g = 0.3 became 0), float16 and
    extended precision fail in the linear algebra."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}={dtype!r}: not a dtype") from exc
    if dt.name not in STATE_DTYPES:
        raise TypeError(f"{name}={dt.name}: must be one of {', '.join(STATE_DTYPES)}")
    return dt


def check_real_cast(x, dtype, name: str) -> None:
    """``ValueError`` naming ``name`` where casting a concrete complex ``x`` to a real ``dtype`` would drop a
    nonzero imaginary part (``astype`` does so without a word)."""
    if np.dtype(dtype).kind == "c" or not is_concrete(x) or not np.iscomplexobj(x):
        return
    lost = float(np.max(np.abs(np.imag(np.asarray(x))), initial=0.0))
    if lost > 0:
        raise ValueError(
            f"dtype={np.dtype(dtype).name}: {name} is complex (max |Im| = {lost:.3g}); use a complex dtype"
        )


def register_checked_dataclass(cls):
    """Register a frozen dataclass as a JAX pytree whose unflattening does not call ``__init__``.

    Like ``jax.tree_util.register_dataclass`` (fields with ``metadata=dict(static=True)`` are
    static), but a pytree rebuilt by JAX (stacked leaves, tracers, ``None`` or sentinel
    placeholders inside transformations) skips ``__post_init__``: the constructor's checks run on
    what a user passes, once, and not again on JAX's own intermediate trees.
    """
    fields = [f for f in dataclasses.fields(cls) if f.init]
    data = tuple(f.name for f in fields if not f.metadata.get("static", False))
    meta = tuple(f.name for f in fields if f.metadata.get("static", False))

    def flatten_with_keys(obj):
        return [(jax.tree_util.GetAttrKey(n), getattr(obj, n)) for n in data], tuple(getattr(obj, n) for n in meta)

    def flatten(obj):
        return [getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in meta)

    def unflatten(aux, children):
        obj = object.__new__(cls)
        for n, v in zip(meta, aux):
            object.__setattr__(obj, n, v)
        for n, v in zip(data, children):
            object.__setattr__(obj, n, v)
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    return cls


def takes_model(kinds, what: str, check=None):
    """Decorator of a public function whose first argument ``model`` must be an instance of ``kinds`` (a class, a
    tuple of classes, or a function returning one, for classes defined further down): otherwise a ``TypeError``
    naming ``model``, the function, ``what`` it takes and the type given. A model of another kind failed deep inside
    with ``AttributeError: 'InhomogeneousReservoir' object has no attribute 'species'`` (a model A given to
    ``jt.master_equation_rhs``) or ran into an unrelated shape check. An ``isinstance`` per call: JAX's own rebuilt
    models (under ``jit``, ``vmap``, ``grad``) are of the same class. ``check(model)``, if given, runs next (model
    B's staged checks of a traced model). One wrapper, one frame: the functions' warnings point at their caller."""

    def decorate(fn):
        @functools.wraps(fn)
        def checked(*args, **kwargs):
            model = args[0] if args else kwargs.get("model")
            allowed = kinds if isinstance(kinds, (type, tuple)) else kinds()
            if not isinstance(model, allowed):
                raise TypeError(f"model: {fn.__name__} takes {what}; got {type(model).__name__}")
            if check is not None:
                check(model)
            return fn(*args, **kwargs)

        return checked

    return decorate
