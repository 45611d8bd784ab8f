"""The continuous-time limit τ → 0: master equation, Lindbladian, propagation, steady state.

docs/coherent.md; [WCCM] eqs. (6)–(8) and (18):

    dρ/dt = −i[H_S + Σ_j λ_j G_j, ρ] + Σ_j D_j(ρ),
    D_j(ρ) = −½ Tr_A[V_j, [V_j, ρ ⊗ ρ_th,j]],   G_j = Tr_A[V_j (1 ⊗ χ_j)],

one term per ancilla species (one for a :class:`CoherentCollisionModel`). Vectorisation is
row-major (docs/conventions.md): ``vec(ρ)[a·d + b] = ρ_ab``, so ``vec(AρB) = (A ⊗ Bᵀ) vec(ρ)``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import as_complex, as_real, as_state
from .._linalg import DEFAULT_SQUARINGS, PADE_THETA, expm, inverse_condition
from .._qudit import commutator, partial_trace, tensor
from .._qutip import qobj_inputs
from .._superoperators import superoperator
from .._validation import (
    check_callable,
    check_density_matrix,
    check_time_grid,
    error_if,
    is_concrete,
    value_checks_enabled,
)
from ._model import (
    CoherentCollisionModel,
    MultiSpeciesModel,
    _thermal_ancilla,
    at_state_precision,
    batch_shapes,
    centered,
    complex_dtype,
    model_b,
    require_one_member,
    require_single_species,
    system_state,
)


@model_b
def coherent_drive(model) -> jnp.ndarray:
    """``G = Tr_A[V (1 ⊗ χ)]`` (d_S, d_S) of one species ([WCCM] eq. (8)); a batch of models is refused."""
    require_single_species(model, "coherent_drive")
    require_one_member(model, "coherent_drive")
    return _coherent_drive(model)


def _coherent_drive(model) -> jnp.ndarray:
    """:func:`coherent_drive` of one species, unchecked (inside the public functions)."""
    cdt = complex_dtype(model)
    d_s, d_a = model.dims
    v = as_complex(model.V, cdt)
    return partial_trace(v @ tensor(jnp.eye(d_s, dtype=cdt), as_complex(model.chi, cdt)), (d_s, d_a), 0)


@model_b
def dissipator(model, rho) -> jnp.ndarray:
    """``D(ρ) = −½ Tr_A[V, [V, ρ ⊗ ρ_A^th]]`` (..., d_S, d_S) of one species ([WCCM] eq. (7)).

    ρ may carry leading batch axes (kept); a batch of models is refused (use :func:`map_over_models`),
    and so is a ρ that is not a density matrix of dimension d_S (``ValueError`` naming ``rho``).
    """
    model = at_state_precision(model, rho)
    require_single_species(model, "dissipator")
    return _dissipator(model, system_state(model, rho, "dissipator"))


def _dissipator(model, x):
    """``D(x)`` of one species for any (..., d_S, d_S) operator x (also the matrix units)."""
    cdt = complex_dtype(model)
    d_s, d_a = model.dims
    v = as_complex(model.V, cdt)
    x = tensor(as_state(x).astype(cdt), _thermal_ancilla(model))
    return -0.5 * partial_trace(commutator(v, commutator(v, x)), (d_s, d_a), 0)


def _species_generator(model, rho):
    """The contribution ``−iλ[G, ρ] + D(ρ)`` of one species."""
    cdt = complex_dtype(model)
    lam = as_real(model.lam, cdt).astype(cdt)
    return -1j * lam * commutator(_coherent_drive(model), rho) + _dissipator(model, rho)


@model_b
def master_equation_rhs(model, rho) -> jnp.ndarray:
    """``dρ/dt = −i[H_S + Σ_j λ_j G_j, ρ] + Σ_j D_j(ρ)`` (d_S, d_S) ([WCCM] eqs. (6), (18)).

    Args:
      model: a :class:`CoherentCollisionModel` or :class:`MultiSpeciesModel`: one member (a batch
        of models is refused with ``ValueError``; use :func:`map_over_models`).
      rho: system state (..., d_S, d_S), a (batch of) density matrices (``ValueError`` naming
        ``rho`` otherwise); leading batch axes are kept.
    """
    model = at_state_precision(model, rho)
    return _master_equation_rhs(model, system_state(model, rho, "master_equation_rhs"))


def _master_equation_rhs(model, x):
    """The right-hand side of the master equation applied to any (..., d_S, d_S) operator x."""
    cdt = complex_dtype(model)
    x = as_state(x).astype(cdt)
    out = -1j * commutator(centered(as_complex(model.H_S, cdt)), x)  # an offset c·1 of H_S adds no rounding ε·c
    for s in model.species:
        out = out + _species_generator(s, x)
    return out


@model_b
@jax.jit
def liouvillian(model) -> jnp.ndarray:
    """The master equation as a superoperator (d_S², d_S²), row-major: ``vec(ρ̇) = 𝓛 vec(ρ)``.

    The superoperator of :func:`master_equation_rhs` (images of the matrix units). Batched models
    (extra leading axes on any field) give (..., d_S², d_S²).
    """
    return map_over_models(_liouvillian_one, model)


def _liouvillian_one(model):
    cdt = complex_dtype(model)
    return superoperator(lambda x: _master_equation_rhs(model, x), model.dims[0], cdt)


@model_b
@qobj_inputs("rho0")
def propagate(model, rho0, times) -> jnp.ndarray:
    """ρ(t) = exp(𝓛t) ρ(0) at the given times, with the exact propagator (docs/coherent.md).

    The Liouvillian is exponentiated, not integrated: for concrete, uniformly spaced times one
    ``expm(𝓛 Δt)`` (plus one for ``times[0]``) is applied step by step in a ``lax.scan``;
    otherwise one ``expm`` per interval. Batched models are vmapped. Long intervals take as many
    squarings as they need, the stationary mode removed first, so ρ(t) reaches the steady state
    to rounding at any t (docs/coherent.md §3); inside ``jit`` with traced times the propagators
    stop at ‖𝓛‖₁Δt ≈ 7·10⁵ (NaN beyond; ``ValueError`` under ``validate="always"``).

    Args:
      model: :class:`CoherentCollisionModel` or :class:`MultiSpeciesModel`, possibly batched.
      rho0: ρ(0) (d_S, d_S), a density matrix shared by the batch of models; a batch of states is
        refused with ``ValueError`` (use ``jax.vmap`` over ``rho0``), and so is a ρ(0) that is not a
        density matrix.
      times: non-decreasing times ≥ 0, shape (T,) (:func:`jaxthermo._validation.check_time_grid`); a non-number
        (None, a string, booleans) is refused with ``TypeError``.

    Returns:
      (..., T, d_S, d_S).
    """
    model = at_state_precision(model, rho0)
    d = model.dims[0]
    if np.ndim(rho0) > 2:
        raise ValueError(
            f"rho0 must be one state of shape ({d}, {d}); got {np.shape(rho0)}: use jax.vmap over rho0 for a batch "
            "of initial states (a batch of models is given through the model's fields)"
        )
    if np.shape(rho0) != (d, d):
        raise ValueError(f"rho0 has shape {np.shape(rho0)} but the model needs one state of shape ({d}, {d})")
    check_density_matrix(rho0, "rho0", dim=d)
    uniform = False
    check_time_grid(times, "times")
    if is_concrete(times):  # decided on the raw input: inside jit, jnp.asarray(np_array) is a tracer
        t = np.asarray(times, dtype=float)
        steps = np.diff(t)
        uniform = t.size > 2 and np.allclose(steps, steps[0], rtol=1e-12, atol=0.0)
    squarings = _propagator_squarings(model, times)
    out = _propagate(model, rho0, jnp.asarray(times), uniform, squarings)
    if not is_concrete(times):
        error_if(
            ~jnp.isfinite(out),
            "times: a step of these traced times exceeds the range of the propagator's squarings (‖𝓛‖₁Δt > 2¹⁷θ ≈ "
            "7e5): pass concrete times to propagate (jit over the model only), or finer times; found {value}",
            out,
        )
    return out


# ‖𝓛‖₁ assumed for a model traced under jax.grad when its propagators' squarings are chosen from
# concrete times; beyond 2¹⁷θ at that norm they take _TRACED_SQUARINGS (up to ‖𝓛‖₁Δt ≈ 2⁶⁴θ ≈ 10²⁰)
_TRACED_NORM = 1e3
_TRACED_SQUARINGS = 64


def _propagator_squarings(model, times) -> int:
    """Static number of squarings for the propagators e^{𝓛Δt} of :func:`propagate` (docs/coherent.md §3).

    expm's default 17 (‖𝓛‖₁Δt ≤ 2¹⁷θ ≈ 7·10⁵) where the longest interval of concrete times (or the first
    time) needs no more, else as many as it needs, the stationary mode removed before squaring. A model
    traced by ``jax.grad`` counts as ‖𝓛‖₁ = 10³ (then at least 64 squarings); traced times (``jit``): 17.
    A product ‖𝓛‖₁Δt that overflows is refused naming ``times``."""
    if not is_concrete(times):
        return DEFAULT_SQUARINGS
    t = np.asarray(times, dtype=float)
    longest = float(max(t[0], np.max(np.diff(t)) if t.size > 1 else 0.0))
    if all(is_concrete(x) for x in jax.tree_util.tree_leaves(model)):
        lv = np.asarray(liouvillian(model))
        rate, floor = float(np.max(np.sum(np.abs(lv), axis=-2))), DEFAULT_SQUARINGS
    else:
        lv, rate, floor = None, _TRACED_NORM, _TRACED_SQUARINGS
    dtype = np.dtype(np.real(lv).dtype if lv is not None else jnp.result_type(float))
    norm = rate * longest  # ‖𝓛Δt‖₁ of the worst member
    if not np.isfinite(norm) or norm > float(np.finfo(dtype).max) / 4:
        raise ValueError(
            f"times: the interval {longest:.3g} times ‖𝓛‖₁ = {rate:.3g} overflows {dtype}; the long-time limit is "
            "steady_state(model)"
        )
    need = int(np.ceil(np.log2(norm / PADE_THETA[dtype.itemsize]))) if norm > 0 else 0
    return DEFAULT_SQUARINGS if need <= DEFAULT_SQUARINGS else max(need, floor)


@partial(jax.jit, static_argnames=("uniform", "squarings"))
def _propagate(model, rho0, times, uniform, squarings=DEFAULT_SQUARINGS):
    d = model.dims[0]
    v0, props = map_over_models(lambda m: _propagators_one(m, rho0, times, uniform, squarings), model)
    batch = v0.shape[:-1]
    n = int(np.prod(batch)) if batch else 1
    # the time loop runs once over the whole batch, batch axis last: elementwise products that
    # vectorise over members (a vmapped scan of tiny matvecs is ~3x slower on CPU)
    v = jnp.moveaxis(v0.reshape(n, d * d), 0, -1)  # (d², B)
    if uniform:
        step = jnp.moveaxis(props.reshape(n, d * d, d * d), 0, -1)  # (d², d², B)
        xs = None
    else:
        step = None
        xs = jnp.moveaxis(props.reshape(n, -1, d * d, d * d), 0, -1)  # (T−1, d², d², B)

    def advance(v, p):
        v = jnp.sum((step if p is None else p) * v[None, :, :], axis=1)
        return v, v

    _, rest = jax.lax.scan(advance, v, xs, length=times.shape[0] - 1)
    out = jnp.concatenate([v[None], rest])  # (T, d², B)
    return jnp.moveaxis(out, -1, 0).reshape(batch + (times.shape[0], d, d))


def _propagators_one(model, rho0, times, uniform, squarings=DEFAULT_SQUARINGS):
    """ρ(times[0]) as a vector and the step propagator(s): expm(𝓛Δt) (d², d²) or (T−1, d², d²).

    With more than expm's default squarings, the stationary mode P = vec(ρ_ss) vec(1)ᵀ is removed
    before squaring (:func:`jaxthermo._linalg.expm`; P = 0 where the steady state is not unique)."""
    lv = _liouvillian_one(model)
    cdt = lv.dtype
    d = model.dims[0]
    times = as_real(times, cdt)
    stationary = None
    if squarings > DEFAULT_SQUARINGS:
        rho_ss, _ = _steady_state_one(model, where_unique=True)
        stationary = jnp.outer(rho_ss.reshape(d * d), jnp.eye(d, dtype=cdt).reshape(d * d))

    def propagator(dt):
        return expm(lv * dt.astype(cdt), squarings, stationary)

    v0 = propagator(times[0]) @ as_state(rho0).astype(cdt).reshape(d * d)
    if uniform:
        return v0, propagator(times[1] - times[0])
    return v0, jax.vmap(propagator)(jnp.diff(times))


@model_b
def steady_state(model) -> jnp.ndarray:
    """The steady state 𝓛 vec(ρ) = 0, Tr ρ = 1 (d_S, d_S) (batched models: (..., d_S, d_S)).

    Solved as a linear system with the first row of 𝓛 replaced by the trace functional
    (differentiable). That system is singular exactly when the steady state is not unique (the
    kernel of 𝓛 has dimension > 1, e.g. zero coupling V = 0, where every energy eigenstate of H_S
    is stationary). Uniqueness is judged on the dissipative scale, not against ‖𝓛‖, which the
    Hamiltonian part dominates at weak coupling (docs/coherent.md §3): where it fails, ``ValueError`` naming ``model`` (concrete models, unless
    ``jaxthermo.config.validate == "off"``); inside ``jit``/``vmap``/``grad`` the same check runs on
    the device with ``validate = "always"`` (:func:`jaxthermo._validation.error_if`).
    """
    rho, cond = _steady_state(model)
    tol = steady_state_rcond(coarsest_dtype(model), model.dims[0])
    if not is_concrete(cond):
        error_if(~(cond >= tol), _NOT_UNIQUE + " (inverse condition {value}, threshold " + f"{tol:.3g})", cond)
    elif value_checks_enabled():
        c = np.asarray(cond)
        bad = ~(c >= tol)
        if np.any(bad):
            shown = np.ravel(c[bad] if c.ndim else c)[:3].tolist()
            raise ValueError(f"{_NOT_UNIQUE} (inverse condition {shown}, threshold {tol:.3g})")
    return rho


_NOT_UNIQUE = (
    "model: the steady state is not unique: the Liouvillian has more than one stationary state "
    "(σ_min/σ_max of the bordered linear system, its Hamiltonian part scaled to the dissipative one, is 0 to "
    "rounding, or not finite), e.g. zero coupling V = 0"
)


def steady_state_rcond(dtype, d: int) -> float:
    """The smallest inverse condition σ_min/σ_max of the bordered (d², d²) system accepted as a unique
    steady state: 100 d² ulp of ``dtype`` (below it the solve returns rounding noise or NaN)."""
    return 100.0 * d * d * float(jnp.finfo(dtype).eps)


def coarsest_dtype(model):
    """The complex dtype of the least precise species: the rounding that decides whether the Liouvillian's kernel is
    resolved. A float32 species beside a float64 one is computed in complex128 but carries float32 rounding (two
    species sharing a dark state: a state was returned under the float64 threshold though none is unique)."""
    return max((complex_dtype(s) for s in model.species), key=lambda t: float(jnp.finfo(t).eps))


@jax.jit
def _steady_state(model):
    return map_over_models(_steady_state_one, model)


def _steady_state_one(model, where_unique: bool = False):
    """(ρ_ss, inverse condition of uniqueness) of one member; with ``where_unique``, ρ_ss = 0 (and no NaN
    in its derivatives) where the steady state is not unique."""
    lv = _liouvillian_one(model)
    d = model.dims[0]
    trace_row = jnp.eye(d, dtype=lv.dtype).reshape(d * d)
    cond = _uniqueness_condition(jax.lax.stop_gradient(model), trace_row)
    unique = cond >= steady_state_rcond(coarsest_dtype(model), d) if where_unique else True

    def solve(row, value):
        # row ``row`` of 𝓛 replaced by ``value`` (the trace functional, or the unit vector fixing one entry to 1)
        pick = jnp.arange(d * d) == row
        a = jnp.where(pick[:, None], value[None, :], lv)
        a, b = jnp.where(unique, a, jnp.eye(d * d, dtype=a.dtype)), jnp.where(unique & pick, 1.0, 0.0).astype(lv.dtype)
        return jnp.linalg.solve(a, b).reshape(d, d)

    # Bordered with Tr ρ = 1, the solve takes ρ_kk of the most populated level as 1 − Σ_{j≠k} ρ_jj, or a small
    # population p as 1 − (1 − p): ~ε absolute, all of e^{−40} lost (0 for the excited level of a cold bath listed
    # first, or the ground level of an inverted bath, and Π = +∞ at that steady state). So the balance equation of
    # the most populated level k (found by a first, bordered solve; a combination of the other diagonal rows, 𝓛
    # preserving the trace) is replaced by ρ_kk = 1 and the solution normalised: each population comes from the
    # balance equations, to its own relative precision.
    first = jax.lax.stop_gradient(solve(0, trace_row))
    k = jnp.argmax(jnp.real(jnp.diagonal(first))) * (d + 1)
    x = solve(k, (jnp.arange(d * d) == k).astype(lv.dtype))
    trace = jnp.trace(x)
    rho = x / jnp.where(unique, trace, 1.0)
    return 0.5 * (rho + jnp.conj(rho.T)), cond


def _uniqueness_condition(model, trace_row):
    """σ_min/σ_max of the bordered system of 𝓛_s = s·𝓛_H + 𝓛_D, s = min(1, ‖𝓛_D‖/‖𝓛_H‖) (docs/coherent.md §3).

    𝓛_H = −i[H_S + Σ_j λ_j G_j, ·] and 𝓛_D = Σ_j D_j are built apart (a difference 𝓛 − 𝓛_H would carry the
    rounding of 𝓛_H, ε‖H‖, into a dissipator that can be far smaller). Scaling the Hamiltonian part leaves
    uniqueness unchanged where a faithful stationary state exists (it holds exactly when the commutant of
    {H, L_k, L_k†} is trivial, which a factor on H does not change: A. Frigerio, Commun. Math. Phys. 63, 269
    (1978)), but brings both parts to the dissipative scale: for weak
    coupling the old σ_min/σ_max(𝓛 bordered) was γ/‖H‖ (5e-15 for the qubit example at g = 1e-7) and the unique
    state was refused. The trace row is scaled to the same size. V = 0 gives 𝓛_s = 0 and NaN (refused)."""
    d = model.dims[0]
    cdt = complex_dtype(model)

    def hamiltonian_part(x):
        h = as_complex(model.H_S, cdt)
        for sp in model.species:
            h = h + as_real(sp.lam, cdt).astype(cdt) * _coherent_drive(sp)
        return -1j * commutator(h, as_state(x).astype(cdt))

    def dissipative_part(x):
        return sum(_dissipator(sp, x) for sp in model.species)

    lh = superoperator(hamiltonian_part, d, cdt)
    ld = superoperator(dissipative_part, d, cdt)
    norm_h, norm_d = jnp.linalg.norm(lh), jnp.linalg.norm(ld)
    scale = jnp.where(norm_d < norm_h, norm_d / jnp.where(norm_h > 0, norm_h, 1.0), 1.0)
    ls = scale * lh + ld
    row = trace_row * (jnp.linalg.norm(ls) / d / jnp.sqrt(jnp.asarray(d, ls.real.dtype)))
    return inverse_condition(ls.at[0].set(row))


# ------------------------------------------------------------------------------------------
# batching over models


def map_over_models(fn, model):
    """``fn(member)`` for every member of a batched model, vmapped; leading axes restored.

    A field is batched when it has more axes than one member needs (``MEMBER_NDIM``); batch
    shapes broadcast. Unbatched fields are shared (``in_axes=None``).
    """
    check_callable(fn, "fn", "a function of one model")
    if not isinstance(model, (CoherentCollisionModel, MultiSpeciesModel)):  # AttributeError: no attribute 'species'
        raise TypeError(
            "model: map_over_models takes a model B, jt.CoherentCollisionModel or jt.MultiSpeciesModel; "
            f"got {type(model).__name__}"
        )
    shapes, batch = batch_shapes(model)
    if batch == ():
        return fn(model)
    n = int(np.prod(batch))
    leaves, treedef = jax.tree_util.tree_flatten(model)
    if len(leaves) != len(shapes):
        raise ValueError("a batched model needs array fields")
    flat, axes = [], []
    for leaf, shape in zip(leaves, shapes):
        if shape == ():
            flat.append(leaf)
            axes.append(None)
        else:
            leaf = jnp.asarray(leaf)
            member = leaf.shape[len(shape) :]
            flat.append(jnp.broadcast_to(leaf, batch + member).reshape((n,) + member))
            axes.append(0)
    out = jax.vmap(lambda *xs: fn(jax.tree_util.tree_unflatten(treedef, xs)), in_axes=tuple(axes))(*flat)
    return jax.tree_util.tree_map(lambda x: x.reshape(batch + x.shape[1:]), out)
