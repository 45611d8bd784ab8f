"""QuTiP in and out: ``Qobj`` → array at the input boundary, array → ``Qobj`` on request.

QuTiP is optional: nothing here imports it at module import. A ``Qobj`` is recognised by duck
typing (it has ``.full()`` and ``.dims``), so :func:`as_array` costs nothing when QuTiP is absent.

Basis order (docs/conventions.md): jaxthermo's |0⟩ is the ground state and
``spin_z(d) = diag(j − (d−1)/2)``, j = 0…d−1, increasing down the diagonal. QuTiP's
``jmat(j, 'z')`` is ``diag(j, j−1, …, −j)``, decreasing: the two bases are reversed,
``jt.spin_z(d) = P · jmat((d−1)/2, 'z') · P`` with P the reversal permutation (the anti-diagonal),
so ``spin_z(3) = diag(−1, 0, 1)`` while ``jmat(1, 'z') = diag(1, 0, −1)``. :func:`to_qobj` and
:func:`as_array` copy matrix elements as they are and never reorder: a state built in QuTiP's
``jmat`` basis must be reversed (``rho[::-1, ::-1]``) to mean the same physical state here.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ._host import check_untraced


def is_qobj(x) -> bool:
    """True for a QuTiP ``Qobj`` (duck-typed: ``.full()`` and ``.dims``)."""
    return hasattr(x, "full") and hasattr(x, "dims") and callable(x.full)


def _flat_dims(dims):
    """Qobj dims [[a, b], [a, b]] → the row tensor factors (a, b)."""
    rows = dims[0]
    return tuple(int(np.prod(r)) if isinstance(r, (list, tuple)) else int(r) for r in rows)


# arguments that are operators, never states: a ket there became the projector |ψ⟩⟨ψ| without a word
# (jt.gibbs_state(basis(2, 1), β) the Gibbs state of |1⟩⟨1|, a Hamiltonian H_S = |ψ⟩⟨ψ|)
OPERATOR_ARGUMENTS = frozenset(
    {"h", "h_s", "h_a", "H_S", "H_A", "V", "chi", "hamiltonian", "unitary", "jump", "jumps", "L", "A"}
    | {"h_system", "h_interaction", "h_environment", "a", "b", "matrix"}
)


def as_array(x, name: str = "input", dims=None):
    """``x`` unchanged unless it is a ``Qobj`` (or a list/tuple of them): then its matrix as a
    complex NumPy array; a ket |ψ⟩ becomes the density matrix |ψ⟩⟨ψ| where ``name`` is a state (a ket
    for one of :data:`OPERATOR_ARGUMENTS` is refused), a superoperator is refused.

    Args:
      x: anything array-like, or a ``Qobj``.
      name: the argument name for error messages.
      dims: optional expected row tensor factors, e.g. ``(d_S, d_A)`` for a two-body operator or
        ``(d,)`` for the whole space; a ``Qobj`` whose factors are neither these nor consecutive groups
        of them (``[2, 2, 2]`` for ``(4, 2)``) raises ``ValueError``. A single factor d accepts any Qobj
        whose factors multiply to d.
    """
    if isinstance(x, (list, tuple)) and x and all(is_qobj(e) for e in x):
        return np.stack([as_array(e, name, dims) for e in x])
    if not is_qobj(x):
        return x
    kind = getattr(x, "type", "")
    if kind in ("super", "operator-ket", "operator-bra"):  # dims [[[2], [2]], …] read as factors (2, 2)
        raise ValueError(
            f"{name}: a QuTiP {kind} (Liouville space, columns stacked) is not a state or operator; "
            "pass the operator itself (jaxthermo's superoperators are arrays, rows stacked)"
        )
    factors = _flat_dims(x.dims)
    if dims is not None:
        want = tuple(int(d) for d in np.atleast_1d(dims))
        # the Qobj's factors, or consecutive groups of them: [2, 2, 2] for a two-qubit system ⊗ a qubit ancilla
        # (4, 2), which was refused; one expected factor d takes any Qobj on a d-dimensional space
        grouped = int(np.prod(factors)) == int(np.prod(want)) and set(np.cumprod(want)) <= set(np.cumprod(factors))
        if factors != want and not grouped:
            raise ValueError(
                f"{name}: Qobj dims {x.dims} do not match the model, which needs tensor factors {list(want)}"
            )
    arr = np.asarray(x.full())
    if kind == "ket" and name.split("[")[0] in OPERATOR_ARGUMENTS:
        raise ValueError(f"{name}: a QuTiP ket is a state, {name} an operator; pass psi.proj() for |ψ⟩⟨ψ|")
    if arr.ndim == 2 and arr.shape[1] == 1 and kind == "ket":
        arr = arr @ arr.conj().T  # a ket as input state: its density matrix |ψ⟩⟨ψ|
    return arr


def refuse_qobj_generator(generator, d: int) -> None:
    """``TypeError`` naming ``generator`` if it is a QuTiP ``Qobj``. A ``Qobj`` is callable (``L(rho)`` applies a
    superoperator to a ``Qobj``), so it passed the callable check of a generator ρ ↦ L(ρ) and failed inside QuTiP
    ("Only defined for quantum objects", blamed on ``d``). A QuTiP superoperator (``qutip.liouvillian``) acts on
    column-stacked vectors, ``vec(X)[i + j*d] = X[i, j]``, jaxthermo's on row-stacked ones
    (``vec(X)[i*d + j] = X[i, j]``, docs/conventions.md); the message gives the function to pass instead."""
    if not is_qobj(generator):
        return
    kind = getattr(generator, "type", "")
    if kind == "super":
        raise TypeError(
            f"generator: a QuTiP superoperator (type 'super', dims {generator.dims}) is not a generator here; "
            f"jaxthermo takes a JAX-traceable function rho -> L(rho) of a ({d}, {d}) array. QuTiP's superoperators act "
            "on column-stacked vectors (vec(X)[i + j*d] = X[i, j]), so with S = L.full() pass "
            f"lambda rho: (S @ rho.T.reshape({d * d})).reshape({d}, {d}).T"
        )
    raise TypeError(
        f"generator: a QuTiP {dict(oper='operator').get(kind, kind or 'Qobj')} is not a generator; jaxthermo takes a JAX-traceable function "
        f"rho -> L(rho) of a ({d}, {d}) array (for a Hamiltonian H: lambda rho: -1j * (h @ rho - rho @ h) with "
        "h = H.full())"
    )


def to_qobj(x, dims=None):
    """A state or operator (array (d, d) or a batch (..., d, d)) as QuTiP ``Qobj`` (a list for a batch).

    Args:
      x: array-like (d, d); a batch of them gives a list (flattened over the leading axes).
      dims: tensor factors of the space, e.g. ``(2, 3)`` for a system qubit ⊗ qutrit ancilla; the
        Qobj gets dims ``[[2, 3], [2, 3]]``. Default: one factor d.

    Matrix elements are copied as they are (no basis reordering): see the module docstring for
    jaxthermo's basis order against ``qutip.jmat``. A NaN or infinite entry raises ``ValueError`` naming ``x``.

    Example:
      >>> q = to_qobj(jt.thermal_state(3, 1.0, 1.0))            # dims [[3], [3]]
      >>> v = to_qobj(model.V, dims=model.dims)                 # dims [[d_S, d_A], [d_S, d_A]]
    """
    try:
        import qutip
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("to_qobj needs QuTiP: pip install qutip") from err
    check_untraced("to_qobj", "a QuTiP Qobj holds NumPy values. Convert results after the transformation", x=x)
    arr = np.asarray(x)
    if arr.ndim < 2:
        raise ValueError(f"to_qobj: need a matrix (d, d) or a batch (..., d, d); got shape {arr.shape}")
    d_row, d_col = arr.shape[-2:]
    if dims is None:
        factors = [d_row]
    else:
        factors = [int(d) for d in np.atleast_1d(dims)]
        if int(np.prod(factors)) != d_row:
            raise ValueError(f"to_qobj: dims {factors} multiply to {int(np.prod(factors))}, not to {d_row}")
    if d_row != d_col:
        raise ValueError(f"to_qobj: need a square matrix; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):  # a NaN Qobj spreads NaN through QuTiP without a word
        bad = arr[~np.isfinite(arr)].ravel()[:3]
        raise ValueError(f"to_qobj: x must be finite; found {bad.tolist()}")
    qdims = [list(factors), list(factors)]
    if arr.ndim == 2:
        return qutip.Qobj(arr, dims=qdims)
    return [qutip.Qobj(m, dims=qdims) for m in arr.reshape((-1, d_row, d_col))]


def _check_tensor_factors(x, name: str, dims) -> None:
    """A ``Qobj`` ``x`` with several tensor factors must agree with the function's own ``dims`` argument:
    its factors, or consecutive groups of them (e.g. [2, 2, 2] for dims (2, 4)). Without this a state
    built as ``qutip.tensor(env, sys)``, dims [[3, 2], [3, 2]], was traced with dims (2, 3) as if it were
    sys ⊗ env. A Qobj of a single factor carries no order to contradict; a ``dims`` the function itself
    refuses is left to it."""
    factors = _flat_dims(x.dims)
    try:
        want = tuple(int(d) for d in np.atleast_1d(np.asarray(dims, dtype=object)))
    except (TypeError, ValueError):
        return
    if len(factors) == 1 or not want or min(want) < 1:
        return
    if int(np.prod(factors)) != int(np.prod(want)) or not set(np.cumprod(want)) <= set(np.cumprod(factors)):
        raise ValueError(
            f"{name}: Qobj dims {x.dims} do not match dims={list(want)} (tensor order: the Qobj's factors, or "
            "consecutive groups of them, must be dims)"
        )


def _check_same_factors(qobjs: dict) -> None:
    """Qobj arguments of one call that both carry several tensor factors must carry the same ones, or one a
    grouping of the other's ([2, 2, 2] and [2, 4]): an operator on 3 ⊗ 2 and a state on 2 ⊗ 3 (both 6 × 6) were
    paired element by element, e.g. ``jt.expectation`` of a system observable in the other order."""
    items = list(qobjs.items())
    for name, x in items[1:]:
        first, want, got = items[0][0], _flat_dims(items[0][1].dims), _flat_dims(x.dims)
        cuts_want, cuts_got = set(np.cumprod(want)), set(np.cumprod(got))  # one may group the other's factors
        if not (cuts_want <= cuts_got or cuts_got <= cuts_want):
            raise ValueError(
                f"{first} and {name}: Qobj tensor factors {list(want)} and {list(got)} differ (tensor order)"
            )


def qobj_inputs(*names: str, factors: dict | None = None):
    """Decorator: the arguments ``names`` of the wrapped function may be QuTiP ``Qobj`` (converted
    by :func:`as_array` before the call, outside any ``jax.jit`` of the function); other calls pass
    through untouched, tracers included. A ``*args`` name converts each of its entries. Where the
    function takes ``dims`` (tensor factors), a Qobj's own factors are checked against it
    (:func:`_check_tensor_factors`); ``factors`` maps an argument to the arguments whose dimensions
    are its tensor factors, e.g. ``{"unitary": ("rho_s", "rho_a")}`` for an operator on S ⊗ A."""
    factors = dict(factors or {})

    def wrap(fn):
        signature = inspect.signature(fn)
        var_positional = {n for n, p in signature.parameters.items() if p.kind is p.VAR_POSITIONAL}

        @functools.wraps(fn)
        def with_qobj(*args, **kwargs):
            if not any(map(is_qobj, (*args, *kwargs.values()))):
                return fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            factored = {}  # Qobj arguments with several tensor factors: they must agree with each other
            original = dict(bound.arguments)
            for name in names:
                if name in bound.arguments:
                    value = bound.arguments[name]
                    if name in var_positional:
                        bound.arguments[name] = tuple(as_array(v, f"{name}[{k}]") for k, v in enumerate(value))
                        continue
                    if is_qobj(value) and "dims" in bound.arguments:
                        _check_tensor_factors(value, name, bound.arguments["dims"])
                    if is_qobj(value) and len(_flat_dims(value.dims)) > 1:
                        factored[name] = value
                    bound.arguments[name] = as_array(value, name)
            _check_same_factors(factored)
            for name, parts in factors.items():
                if is_qobj(original.get(name)) and all(p in bound.arguments for p in parts):
                    want = tuple(np.shape(bound.arguments[p])[-1] for p in parts)
                    _check_tensor_factors(original[name], name, want)
            return fn(*bound.args, **bound.kwargs)

        return with_qobj

    return wrap
