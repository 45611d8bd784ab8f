"""Model B: a system colliding with weakly coherent ancillae (docs/coherent.md; [WCCM] eqs. (1)–(5)).

Each ancilla is prepared in ``ρ_A = ρ_A^th + √τ λ χ`` with ``ρ_A^th = e^{−βH_A}/Z_A`` and χ
Hermitian with no weight on the energy eigenspaces of ``H_A`` (zero diagonal in its eigenbasis).
A collision lasts τ under ``H_SA = H_S + H_A + V/√τ``.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import as_complex, as_real, as_state, complex_dtype_for
from .._host import check_untraced
from .._information import von_neumann_entropy
from .._linalg import DEFAULT_SQUARINGS, PADE_THETA, expm
from .._qudit import Dimensions, dagger, gibbs_populations, gibbs_state, partial_trace, tensor
from .._qutip import as_array, is_qobj, qobj_inputs
from .._validation import (
    check_broadcast,
    check_density_matrix,
    check_finite,
    check_hermitian,
    check_numeric,
    check_positive_int,
    check_real_scalar,
    check_state_dtype,
    eager_constants,
    error_if,
    is_concrete,
    register_checked_dataclass,
    should_validate,
    stages,
    takes_model,
    value_checks_enabled,
)

# number of trailing (per-member) axes of each field; extra leading axes are a batch of models
MEMBER_NDIM = {"H_S": 2, "H_A": 2, "V": 2, "beta": 0, "chi": 2, "lam": 0, "tau": 0}
# two energies of H_A coincide (eigenspaces for the pinching) when their gap is at most DEGENERACY_RTOL times the
# spread of the spectrum, or within its rounding: DEGENERACY_ULPS·d ulp of max|E| (:func:`degeneracy_tolerance`)
DEGENERACY_RTOL = 1e-9
DEGENERACY_ULPS = 16


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class CoherentCollisionModel:
    """Weakly coherent collisional model (docs/coherent.md; [WCCM] eqs. (4)–(5)), any dimensions.

    Args:
      H_S: system Hamiltonian (d_S, d_S).
      H_A: ancilla Hamiltonian (d_A, d_A).
      V: interaction (d_S d_A, d_S d_A), tensor order (system ⊗ ancilla); it enters as ``V/√τ``.
      beta: inverse temperature β of the ancillae, finite, of either sign (β < 0: population-inverted ancillae).
      chi: coherent part χ (d_A, d_A): Hermitian, zero on the eigenspaces of ``H_A``.
      lam: coherence amplitude λ.
      tau: collision time τ > 0.

    Any field may carry extra leading axes (a batch of models, e.g. ``lam`` of shape (B,)); the
    batched functions (:func:`propagate`, :func:`steady_state`, :func:`liouvillian`) broadcast them.
    Inputs are validated once, on concrete values (``ValueError`` naming the parameter); a
    ``UserWarning`` is issued when ``Tr_A(V ρ_th) ≠ 0`` (the master-equation limit assumes it) or
    ``[V, H_S + H_A] ≠ 0`` (the no-global-work statement assumes it).

    Example:
      >>> import jax.numpy as jnp
      >>> sz = jnp.diag(jnp.array([-0.5, 0.5])); sm = jnp.array([[0., 1.], [0., 0.]])
      >>> V = jnp.kron(sm.T, sm) + jnp.kron(sm, sm.T)
      >>> model = CoherentCollisionModel(sz, sz, V, beta=1.0, chi=sm + sm.T, lam=0.2, tau=0.01)
    """

    H_S: Any
    H_A: Any
    V: Any
    beta: Any
    chi: Any
    lam: Any
    tau: Any

    @eager_constants  # built inside jax.jit from concrete values: checked as outside
    def __post_init__(self):
        # QuTiP Qobj fields → arrays, tensor factors checked: V on (d_S, d_A), χ on d_A
        for name in ("H_S", "H_A"):
            object.__setattr__(self, name, as_array(getattr(self, name), name))
        if is_qobj(self.V) or is_qobj(self.chi):
            d_s, d_a = self.dims
            object.__setattr__(self, "V", as_array(self.V, "V", dims=(d_s, d_a)))
            object.__setattr__(self, "chi", as_array(self.chi, "chi", dims=(d_a,)))
        for f in MEMBER_NDIM:
            check_numeric(getattr(self, f), f, real=f in ("beta", "lam", "tau"))
            object.__setattr__(self, f, one_leaf(getattr(self, f)))
        batch_shapes(self)  # batched fields must broadcast (ValueError naming them)
        if all(should_validate(getattr(self, f)) for f in MEMBER_NDIM):
            validate(self)

    def replace(self, **changes) -> CoherentCollisionModel:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def species(self) -> tuple[CoherentCollisionModel, ...]:
        """The ancilla species this model collides with: just itself (see :class:`MultiSpeciesModel`)."""
        return (self,)

    @property
    def dims(self) -> Dimensions:
        """``(d_S, d_A)``: :class:`~jaxthermo.Dimensions` with ``environment`` = d_A of the ancilla."""
        return Dimensions(int(np.shape(self.H_S)[-1]), int(np.shape(self.H_A)[-1]))


def one_leaf(value):
    """A (nested) list or tuple as one array, else ``value`` unchanged: as a field it was a pytree of scalars, one
    tracer each inside ``jit``, and ``H_S=[[-0.5, 0], [0, 0.5]]`` or ``tau=[0.01, 0.02]`` failed in ``steady_state``,
    ``liouvillian``, ``stroboscopic_trajectory`` and ``collision_thermodynamics`` with a TracerArrayConversionError."""
    if not isinstance(value, (list, tuple)):
        return value
    traced = any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value))
    return jnp.asarray(value) if traced else np.asarray(value)


# every public function of model B: ``model`` of the right kind, and a traced model checked by
# check_ancilla_positive (ρ_A ≥ 0, τ > 0; staged under jaxthermo.config.validate == "always"), in one place: a traced
# λ out of range passed steady_state and the rates. Internal code calls the unchecked helpers (_ancilla_state,
# _thermal_ancilla, _coherent_drive), so one call stages one check.
model_b = takes_model(
    lambda: (CoherentCollisionModel, MultiSpeciesModel),
    "a model B, jt.CoherentCollisionModel or jt.MultiSpeciesModel",
    check=lambda model: check_ancilla_positive(model),
)


# ------------------------------------------------------------------------------------------
# dtypes and basic objects (one member)


def batch_shapes(model) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """Per-field batch shapes of a (possibly batched) model, species by species, and their broadcast
    shape: the leading axes a field has beyond what one member needs (``MEMBER_NDIM``). Shapes that
    do not broadcast raise ``ValueError`` naming the fields."""
    shapes, names = [], []
    for j, s in enumerate(model.species):
        prefix = "" if s is model else f"species[{j}]."
        for f, nd in MEMBER_NDIM.items():
            shape = np.shape(getattr(s, f))
            shapes.append(shape[: len(shape) - nd])
            names.append(prefix + f)
    try:
        return shapes, np.broadcast_shapes(*shapes)
    except ValueError:
        fields = ", ".join(f"{n} {shape}" for n, shape in zip(names, shapes) if shape)
        raise ValueError(f"model: the batch shapes of the fields {fields} do not broadcast") from None


def require_one_member(model, function: str) -> None:
    """Raise ``ValueError`` naming ``model`` if it is a batch of models (a field with leading axes).

    The per-member functions of model B take one model: a batch would broadcast its axes against
    the matrix axes (silently wrong when the sizes agree). Checked on shapes, so also under ``jit``.
    """
    _, batch = batch_shapes(model)
    if batch != ():
        raise ValueError(
            f"model: {function} takes one model, got a batch of models with batch shape {batch} (fields with "
            "leading axes); use jaxthermo.coherent.map_over_models or jax.vmap over the members"
        )


def require_single_species(model, function: str) -> None:
    """Raise ``ValueError`` naming ``model`` if it is a :class:`MultiSpeciesModel`: ``function``
    uses the fields of one species (H_A, β, χ, λ)."""
    if model.species[0] is not model:
        raise ValueError(
            f"model: {function} takes a single-species CoherentCollisionModel; got a MultiSpeciesModel with "
            f"{len(model.species)} species (apply it to each of model.species)"
        )


def system_state(model, rho, function: str, name: str = "rho") -> jnp.ndarray:
    """The system state ρ_S (..., d_S, d_S) of a one-member function, checked and in the model's complex dtype.

    Refuses a batch of models (:func:`require_one_member`) and a ρ that is not a (batch of) density
    matrices of dimension d_S (``ValueError`` naming ``name``: shape at once, values when concrete,
    staged under ``jaxthermo.config.validate == "always"``; :func:`jaxthermo._validation.check_density_matrix`).
    Used at the public entry points only: the internal maps also act on matrix units.
    """
    require_one_member(model, function)
    check_density_matrix(rho, name, dim=model.dims[0])
    return as_state(rho).astype(complex_dtype(model))


def complex_dtype(model) -> Any:
    """The complex dtype of a model's computations: the precision of its matrices, promoted over every species (a
    float32 species before a float64 one made the trajectory's carry complex64 and its scan fail with a TypeError)."""
    leaves = [jnp.asarray(getattr(s, f)) for s in model.species for f in ("H_S", "H_A", "V", "chi")]
    return complex_dtype_for(jnp.result_type(*[x.dtype for x in leaves]))


def at_state_precision(model, rho):
    """``model`` in the lower of its precision and the state's, for every public function taking ρ: a float32/complex64
    (or narrower) ρ with a float64 model gives the model with its array fields cast to float32 (complex fields to
    complex64), so the call computes what the float32 model computes, number for number; a float32 model stays float32
    whatever ρ. README "Precision": the state's precision sets the result's and nothing promotes silently (a complex64
    ρ with the default float64 model gave complex128 results). Python scalars (β, λ, τ as floats) are weakly typed and
    left as they are; ρ itself is cast by :func:`system_state`."""
    dtype = getattr(rho, "dtype", None)  # a Qobj (complex128) or a list (float64) never lowers the precision
    if is_qobj(rho) or dtype is None or not jnp.issubdtype(dtype, jnp.inexact):
        return model
    if jnp.finfo(dtype).bits > 32 or jnp.finfo(complex_dtype(model)).bits <= 32:
        return model

    def narrow(x):
        if not hasattr(x, "dtype") or not jnp.issubdtype(x.dtype, jnp.inexact):  # integers and flags stay
            return x
        low = jnp.complex64 if jnp.issubdtype(x.dtype, jnp.complexfloating) else jnp.float32
        return x.astype(np.dtype(low)) if isinstance(x, (np.ndarray, np.generic)) else jnp.asarray(x).astype(low)

    return jax.tree_util.tree_map(narrow, model)  # rebuilt without __post_init__: checked once, at construction


@model_b
def thermal_ancilla(model) -> jnp.ndarray:
    """``ρ_A^th = e^{−βH_A}/Z_A`` (d_A, d_A).

    Of one species (a MultiSpeciesModel: ``ValueError`` naming ``model``)."""
    require_single_species(model, "thermal_ancilla")
    return _thermal_ancilla(model)


def _thermal_ancilla(model) -> jnp.ndarray:
    """:func:`thermal_ancilla` of one species, unchecked (inside the public functions)."""
    return gibbs_state(as_complex(model.H_A, complex_dtype(model)), model.beta)


@model_b
def ancilla_state(model) -> jnp.ndarray:
    """``ρ_A = ρ_A^th + √τ λ χ`` (d_A, d_A) ([WCCM] eq. (5)) of one model (a batch is refused)."""
    require_single_species(model, "ancilla_state")
    require_one_member(model, "ancilla_state")
    return _ancilla_state(model)


def _ancilla_state(model) -> jnp.ndarray:
    """:func:`ancilla_state` of one species, unchecked (inside the public functions)."""
    cdt = complex_dtype(model)
    scale = jnp.sqrt(as_real(model.tau, cdt)) * as_real(model.lam, cdt)
    return _thermal_ancilla(model) + scale.astype(cdt) * as_complex(model.chi, cdt)


def check_ancilla_positive(model) -> None:
    """Run-time check (``jaxthermo.config.validate == "always"``) that a traced model's ancilla state
    ρ_A = ρ_th + √τ λ χ is positive, i.e. λ lies in :func:`allowed_lambda_range`. Concrete models were
    checked at construction; this covers models built from tracers inside ``jit``/``vmap``/``grad``.
    Also stages τ > 0 (where τ ≤ 0 only that error is raised). Both tests are NaN-safe: a NaN λ or τ fails them.
    Every public function of model B calls it (:func:`model_b`); nothing is staged under ``"eager"`` or ``"off"``."""
    for s in model.species:
        tau = jax.lax.stop_gradient(jnp.asarray(s.tau)) if stages(s.tau) else None
        if tau is not None:
            error_if(~(tau > 0), "tau must be > 0; got {value}", tau)
        if stages(*(getattr(s, f) for f in ("lam", "chi", "tau", "beta", "H_A"))):
            # λ against allowed_lambda_range, as validate does: an absolute 1e-10 on ρ_A's smallest eigenvalue let a
            # cold ancilla through with λ 5000 times its limit (p_1 = e^{−40}: ρ_A's eigenvalue p_1 − τλ² ≥ −1e-10)
            cdt = complex_dtype(s)
            lo, hi = jax.lax.stop_gradient(_lambda_range_of(s))
            lam = jax.lax.stop_gradient(as_real(s.lam, cdt))
            margin = lambda_margin(cdt)
            outside = ~((lam <= hi * (1 + margin)) & (lam >= lo * (1 + margin)))
            if tau is not None:  # a τ ≤ 0 is reported above; its range is NaN
                outside = outside & (tau > 0)
            error_if(
                outside,
                "lam: the ancilla state rho_A = rho_th + sqrt(tau) lam chi is not positive semidefinite: "
                "lam = {value} lies outside its allowed range (allowed_lambda_range)",
                jnp.broadcast_to(lam, outside.shape),
            )


def lambda_margin(cdt) -> float:
    """Relative margin on the edges of :func:`allowed_lambda_range` when λ is checked: 1e-12 in complex128, 1e-5 in
    complex64, where λ_max itself is known to ~ε₃₂ (a float32 model refused λ = its own ``allowed_lambda_range``
    edge, rounded up by a few 1e-8, as 'not positive semidefinite', 'too large by a factor 1')."""
    return 1e-12 if cdt == jnp.complex128 else 1e-5


@qobj_inputs("rho", "h")
def pinching(rho, h) -> jnp.ndarray:
    """``Δ_H[ρ] = Σ_E P_E ρ P_E``: dephasing in the eigenbasis of ``h`` (docs/information.md), (d, d).

    Degenerate energies (``|E − F| ≤ 1e-9·(E_max − E_min)``, :func:`degeneracy_tolerance`) keep their block, so
    the result does not depend on the arbitrary eigenbasis ``eigh`` picks inside an eigenspace; relative to the
    spread, so ``h`` in any unit and ``h + c·1`` are dephased alike. Levels the dtype cannot resolve at max|E| are
    refused (``ValueError`` naming ``h``, :func:`check_resolved_levels`). Differentiable in ρ and in
    ``h``: the projectors P_E move with ``h`` (first-order perturbation theory,
    ``dP_E = Σ_{F≠E} (P_F dh P_E + P_E dh P_F)/(E − F)``), finite while the block structure is kept.
    ``rho`` (..., d, d) and ``h`` (..., d, d) may both carry batch axes (they broadcast); ``h`` must be
    Hermitian and both finite, and their d must agree (``ValueError`` naming them).
    """
    check_state_dtype(rho, "rho")  # None failed inside JAX; a boolean or float16 matrix inside LAPACK
    check_state_dtype(h, "h")
    rho, h = jnp.asarray(rho), jnp.asarray(h)
    _check_pinching_inputs(rho, h)
    # a complex h keeps its imaginary part with a real ρ (casting h to ρ's dtype dropped it); ρ's precision
    dtype = complex_dtype_for(rho.dtype) if jnp.iscomplexobj(h) else rho.dtype
    return _pinching(rho.astype(dtype), h.astype(dtype))


def _check_pinching_inputs(rho, h) -> None:
    """Shapes of ρ and ``h`` ((..., d, d) each, the same d, batch axes that broadcast; ``ValueError`` naming
    them) at once; ``h`` Hermitian and both finite where concrete."""
    if np.ndim(rho) < 2 or np.shape(rho)[-1] != np.shape(rho)[-2]:
        raise ValueError(f"rho must be an operator of shape (..., d, d); got shape {np.shape(rho)}")
    check_hermitian(h, "h")
    if np.ndim(h) < 2 or np.shape(h)[-1] != np.shape(h)[-2]:
        raise ValueError(f"h must be a Hermitian matrix of shape (..., d, d); got shape {np.shape(h)}")
    if np.shape(h)[-1] != np.shape(rho)[-1]:
        raise ValueError(f"rho has dimension {np.shape(rho)[-1]} but h has dimension {np.shape(h)[-1]}")
    check_broadcast({"rho": np.shape(rho)[:-2], "h": np.shape(h)[:-2]})
    check_finite(rho, "rho")
    check_finite(h, "h")
    check_resolved_levels(h, "h", jnp.result_type(rho.dtype, jnp.float32))


def degeneracy_tolerance(e):
    """The gap (shape (...,)) below which two of the energies e (..., d) count as one level: ``DEGENERACY_RTOL`` times the
    spread ``max E − min E`` of the spectrum, or its rounding ``DEGENERACY_ULPS·d·ε·max|E|`` if larger.

    Relative to the spread, so ``h`` and ``h + c·1`` have the same blocks (relative to max|E|, the old scale, an
    offset of 10⁹ merged a qubit's two levels: ``energy_coherence`` of |+⟩ was 0 for log 2) and ``h`` in any unit
    is treated alike. The floor is the resolution of the computed energies at max|E| (ε ≈ 2.2·10⁻¹⁶ in float64):
    a gap below it cannot be told from a degeneracy; :func:`check_resolved_levels` refuses concrete ``h`` where
    that decides a block."""
    e = jnp.asarray(e)
    d = e.shape[-1]
    spread = jnp.max(e, axis=-1) - jnp.min(e, axis=-1)
    floor = DEGENERACY_ULPS * d * float(jnp.finfo(e.dtype).eps) * jnp.max(jnp.abs(e), axis=-1)
    return jnp.maximum(DEGENERACY_RTOL * spread, floor)


def same_energy(e):
    """``|E_i − E_j| ≤ degeneracy_tolerance(e)`` (..., d, d) for energies e (..., d): the blocks of degenerate
    levels, the same for ``h`` and ``h + c·1`` and for ``h`` in any unit; h ∝ 1 is one block."""
    tol = degeneracy_tolerance(e)[..., None, None]
    return jnp.abs(e[..., :, None] - e[..., None, :]) <= tol


def check_resolved_levels(h, name: str, dtype=None) -> None:
    """``ValueError`` naming ``name`` where the rounding floor of :func:`degeneracy_tolerance` decides whether two
    levels of a concrete Hermitian ``h`` (..., d, d) are degenerate: a gap above ``DEGENERACY_RTOL`` times the
    spread but within ``DEGENERACY_ULPS·d·ε·max|E|``, which the dtype cannot resolve at that offset (e.g. a gap of
    10⁻⁷ on top of 10⁹·1 in float64, or a degenerate pair of a rotated ``h + 10⁹·1`` split by its rounding).
    Such levels would be merged without a word; subtracting the offset (``h − (Tr h/d)·1``) before rounding
    resolves them. ``dtype``: the precision the energies are computed in (default ``h``'s). Skipped for traced ``h``."""
    if not is_concrete(h) or not value_checks_enabled():
        return
    h = np.asarray(h)
    real = np.finfo(np.result_type(h.dtype if dtype is None else dtype, np.float32)).dtype
    e = np.linalg.eigvalsh(h.astype(np.result_type(real, np.complex64)))
    e = e.reshape(-1, h.shape[-1])
    d = e.shape[-1]
    top = np.max(np.abs(e), axis=-1)
    floor = DEGENERACY_ULPS * d * float(np.finfo(e.dtype).eps) * top
    gaps = np.diff(e, axis=-1)
    bad = (gaps > DEGENERACY_RTOL * (e[:, -1] - e[:, 0])[:, None]) & (gaps <= floor[:, None])
    if np.any(bad):
        i, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise ValueError(
            f"{name}: two of its energies differ by {gaps[i, j]:.3g}, within the resolution {DEGENERACY_ULPS * d}·ε·max|E| "
            f"= {floor[i]:.3g} of {e.dtype} at max|E| = {top[i]:.3g}, so it cannot be told whether they are "
            "degenerate (an offset c·1 large against the spread of the spectrum); subtract the offset, e.g. "
            "h − (Tr h/d)·1, before the energies are rounded"
        )


def centered(h):
    """``h − (Re Tr h/d)·1``: the same commutators, and the same expectations of traceless operators (ρ' − ρ, ρ̇,
    D(ρ)), without the rounding ε·c that an energy offset c·1 adds to them (c = 10⁹: the work of an
    energy-conserving collision 5.5·10⁻⁸ for 0)."""
    h = jnp.asarray(h)
    d = h.shape[-1]
    mu = jnp.real(jnp.trace(h, axis1=-2, axis2=-1)) / d
    return h - mu[..., None, None].astype(h.dtype) * jnp.eye(d, dtype=h.dtype)


def centered_eigh(h):
    """``eigh`` of ``h − μ·1`` (μ = Re Tr h/d), μ added back to the energies: an offset c·1 does not enter the
    rounding of the eigenvectors (``eigh(h + 10⁹·1)``'s were ~50 times further from those of the rounded h than
    its own rounding, ε·c/gap, accounts for)."""
    h = jnp.asarray(h)
    mu = jnp.real(jnp.trace(h, axis1=-2, axis2=-1)) / h.shape[-1]
    e, u = jnp.linalg.eigh(centered(h))
    return e + mu[..., None].astype(e.dtype), u


def _pinching_parts(h):
    """Eigenvectors u of ``h``, the block mask ``keep`` (same energy) and the energies e."""
    e, u = centered_eigh(h)
    return e, u, same_energy(e)


@jax.custom_jvp
def _pinching(rho, h):
    _, u, keep = _pinching_parts(h)
    return u @ jnp.where(keep, dagger(u) @ rho @ u, 0.0) @ dagger(u)


@_pinching.defjvp
def _pinching_jvp(primals, tangents):
    # Δ = U (M∘ρ̃) U†, ρ̃ = U†ρU, M the block mask; dU = UΩ with Ω_ij = (U† dh U)_ij/(e_j − e_i)
    # across blocks and 0 inside them (a rotation inside a block leaves Δ unchanged). Then
    # dΔ = U([Ω, M∘ρ̃] + M∘(U† dρ U + [ρ̃, Ω])) U†.
    rho, h = primals
    d_rho, d_h = tangents
    e, u, keep = _pinching_parts(h)
    ud = dagger(u)
    rotated = ud @ rho @ u
    kept = jnp.where(keep, rotated, 0.0)
    gap = e[..., None, :] - e[..., :, None]
    omega = jnp.where(keep, 0.0, (ud @ d_h @ u) / jnp.where(keep, 1.0, gap).astype(rho.dtype))
    inner = omega @ kept - kept @ omega + jnp.where(keep, ud @ d_rho @ u + rotated @ omega - omega @ rotated, 0.0)
    return u @ kept @ ud, u @ inner @ ud


@qobj_inputs("rho", "h")
def energy_coherence(rho, h) -> jnp.ndarray:
    """Relative entropy of coherence in the eigenbasis of ``h``: ``S(Δ_H[ρ]) − S(ρ)`` (docs/information.md).

    For a non-degenerate ``h`` this is :func:`jaxthermo.coherence` of ρ rotated into the
    eigenbasis of ``h``; degenerate eigenspaces are dephased as blocks.

    Degeneracy has a fixed resolution (docs/coherent.md §1): two levels are one block when their gap is at most
    ``1e-9·(E_max − E_min)`` (or the rounding floor ``16·d·ε·max|E|``, :func:`degeneracy_tolerance`). The value is
    continuous in ρ, and in ``h`` while no gap crosses that threshold; where one does, it jumps by the coherence
    between the two levels, as the definition itself does at an exact degeneracy: ``h = diag(0, δ, 1)``,
    ρ = |+⟩⟨+| on the first two levels gives log 2 for δ > 1e-9 and 0 for δ < 1e-9. Two levels alone (d = 2) have
    the gap as their spread, so they are one block only at δ = 0 (log 2 for every δ > 0).
    """
    check_state_dtype(rho, "rho")
    rho = jnp.asarray(rho)
    return von_neumann_entropy(pinching(rho, h)) - von_neumann_entropy(rho)


@model_b
def collision_unitary(model, n_species: int = 1) -> jnp.ndarray:
    """``U = exp[−i (τ/m)(H_S + H_A) − i √τ V]`` (d_S d_A, d_S d_A) ([WCCM] eq. (4)).

    With m = ``n_species`` = 1 this is ``exp(−iτ H_SA)``, ``H_SA = H_S + H_A + V/√τ``; with m
    species each collision lasts τ/m and V is rescaled by m/√τ ([WCCM], multiple environments).
    One model (a batch is refused); m a positive integer (``ValueError`` naming ``n_species``: m = 0 gave a NaN
    unitary, m = −1 the backward collision, without a word). An energy offset c·1 enters as a global phase only;
    ``ValueError`` naming ``tau`` where τ·ΔE exceeds the exponential's range (docs/coherent.md §2).
    """
    require_single_species(model, "collision_unitary")
    require_one_member(model, "collision_unitary")
    n_species = check_positive_int(n_species, "n_species")
    check_collision_phase(model, n_species)
    return _collision_unitary(model, n_species)


def _collision_generator(model, n_species):
    """``(τ/m)(H_S + H_A − μ·1) + √τ V`` and the phase ``(τ/m)μ``, μ = Tr H_S/d_S + Tr H_A/d_A: the offset of
    the energies taken out, so U's squarings see the spread of H_S + H_A, not an offset c·1."""
    cdt = complex_dtype(model)
    h_s, h_a, v = as_complex(model.H_S, cdt), as_complex(model.H_A, cdt), as_complex(model.V, cdt)
    tau = as_real(model.tau, cdt)
    d_s, d_a = h_s.shape[-1], h_a.shape[-1]
    mu_s, mu_a = jnp.real(jnp.trace(h_s)) / d_s, jnp.real(jnp.trace(h_a)) / d_a
    h_s = h_s - mu_s.astype(cdt) * jnp.eye(d_s, dtype=cdt)
    h_a = h_a - mu_a.astype(cdt) * jnp.eye(d_a, dtype=cdt)
    h0 = tensor(h_s, jnp.eye(d_a, dtype=cdt)) + tensor(jnp.eye(d_s, dtype=cdt), h_a)
    step = tau / n_species
    return step.astype(cdt) * h0 + jnp.sqrt(tau).astype(cdt) * v, step * (mu_s + mu_a)


def _collision_unitary(model, n_species: int = 1) -> jnp.ndarray:
    """:func:`collision_unitary` unchecked (inside ``jit``): ``e^{−iφ} expm(−i·generator)``. The offset μ of the
    energies enters as the global phase only, so ``H_A + 10⁹·1`` at τ = 0.01 gives the collision of ``H_A``
    (expm of the whole generator needed ‖τ(H_S + H_A)‖₁ ≤ 2¹⁷θ ≈ 7·10⁵ and was NaN beyond)."""
    generator, phase = _collision_generator(model, n_species)
    cdt = generator.dtype
    return jnp.exp(-1j * phase.astype(cdt)) * expm(-1j * generator)


def check_collision_phase(model, n_species: int = 1) -> None:
    """``ValueError`` naming ``tau`` where the collision's generator ``(τ/m)(H_S + H_A) + √τ V``, its offset
    removed, has ‖·‖₁ beyond the 2¹⁷θ ≈ 7·10⁵ of the exponential's squarings (U was NaN without a word); only
    for concrete models (inside ``jit`` U is NaN there)."""
    if not all(is_concrete(getattr(model, f)) for f in ("H_S", "H_A", "V", "tau")) or np.ndim(model.tau) > 0:
        return
    h_s, h_a, v = (np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V"))
    d_s, d_a = h_s.shape[-1], h_a.shape[-1]
    h_s = h_s - np.trace(h_s).real / d_s * np.eye(d_s)
    h_a = h_a - np.trace(h_a).real / d_a * np.eye(d_a)
    tau = float(model.tau)
    g = tau / n_species * (np.kron(h_s, np.eye(d_a)) + np.kron(np.eye(d_s), h_a)) + np.sqrt(tau) * v
    norm = float(np.max(np.sum(np.abs(g), axis=-2)))
    limit = 2.0**DEFAULT_SQUARINGS * PADE_THETA[np.finfo(complex_dtype(model)).dtype.itemsize]
    if not norm <= limit:
        raise ValueError(
            f"tau: one collision's generator (τ/m)(H_S + H_A) + √τ V has ‖·‖₁ = {norm:.3g} (its energy offset "
            f"removed), beyond the {limit:.3g} its exponential resolves: the collision phase τ·ΔE is too large; "
            "take a smaller tau"
        )


# ------------------------------------------------------------------------------------------
# validation (concrete inputs, NumPy)


class LambdaRange(NamedTuple):
    """The interval ``[lower, upper]`` of coherence amplitudes λ allowed by positivity of ρ_A."""

    lower: jnp.ndarray
    upper: jnp.ndarray


@model_b
def allowed_lambda_range(model) -> LambdaRange:
    """``LambdaRange(λ_min, λ_max)``: the interval of λ keeping ``ρ_th + √τ λ χ ≥ 0`` at the model's τ.

    With ``K = ρ_th^{−1/2} χ ρ_th^{−1/2}`` (in the eigenbasis of H_A, where ρ_th is diagonal):
    ``λ_max = 1/(√τ max(−k_min, 0))``, ``λ_min = −1/(√τ max(k_max, 0))`` (±∞ for χ = 0; docs/coherent.md §1).
    A JAX function: traces under ``jit``/``vmap``/``grad`` and is differentiable in β, τ and χ (the
    derivative of the extreme eigenvalue of K, finite where it is simple); broadcasts over batched
    fields; the dtype of the model's matrices (float32 in, float32 out). K is formed from the
    log-populations and scaled by its largest entry, so it stays finite where p_j = e^{−βE_j}/Z underflows
    (float64: βΔE ≳ 708, XLA flushes subnormal numbers to zero) and where K's entries exceed the float
    range; the range is ``[−0, 0]`` once ``λ_max`` underflows (float64: λ_max ∝ e^{−βΔE/2} below the
    smallest normal number 2.2·10⁻³⁰⁸, χ coupling a level of population ≲ e^{−1417}; docs/coherent.md §1).
    """
    require_single_species(model, "allowed_lambda_range")
    return _lambda_range_of(model)


def _lambda_range_of(model) -> LambdaRange:
    """:func:`allowed_lambda_range` of one species, unchecked."""
    cdt = complex_dtype(model)
    return _lambda_range(
        as_complex(model.H_A, cdt), as_real(model.beta, cdt), as_complex(model.chi, cdt), as_real(model.tau, cdt)
    )


@jax.jit
def _lambda_range(h_a, beta, chi, tau) -> LambdaRange:
    e, u = centered_eigh(h_a)
    chi_e = dagger(u) @ chi @ u
    # χ is zero on the eigenspaces of H_A (checked by validate): drop the rounding of the rotation there
    chi_e = jnp.where(same_energy(e), 0.0, chi_e)
    # K_ij = χ_ij / √(p_i p_j) with log p from a log-softmax: p_j = e^{−βE_j}/Z underflows to 0 for
    # βΔE ≳ 745 (0/0 made the range NaN and let any λ pass) while √(p_i p_j) often does not
    log_p = jax.nn.log_softmax(-beta[..., None] * (e - jax.lax.stop_gradient(e[..., :1])), axis=-1)
    exponent = -0.5 * (log_p[..., :, None] + log_p[..., None, :])
    # K = e^m K' with m the largest log|K_ij| (no gradient: the factor cancels), so no entry overflows: K has
    # entries up to e^{βΔE/2}, beyond the float range once χ couples a level of population ≲ e^{−1418};
    # λ_max = e^{−m}/(√τ max(−k'_min, 0)) then underflows to 0 (only λ = 0 keeps ρ_A ≥ 0 to float precision)
    zero = chi_e == 0
    log_k = jnp.where(zero, -jnp.inf, jnp.log(jnp.where(zero, 1.0, jnp.abs(chi_e))) + exponent)
    m = jax.lax.stop_gradient(jnp.max(log_k, axis=(-2, -1)))
    m = jnp.where(jnp.isfinite(m), m, 0.0)  # χ = 0: K = 0
    k = jnp.where(zero, 0.0, chi_e * jnp.exp(jnp.where(zero, 0.0, exponent - m[..., None, None])).astype(chi_e.dtype))
    kw = jnp.linalg.eigvalsh(k)
    scale = jnp.exp(-m) / jnp.sqrt(tau)
    lam_max = scale / jnp.maximum(-kw[..., 0], 0.0)
    lam_min = -scale / jnp.maximum(kw[..., -1], 0.0)
    return LambdaRange(lam_min, lam_max)


@model_b
def validate(model, atol: float = 1e-10) -> None:
    """Check a model's inputs (docs/coherent.md); raise ``ValueError`` naming the parameter, warn on assumptions.

    β may have either sign (β < 0: a population-inverted bath). Under ``jaxthermo.config.validate == "off"`` only
    shapes and the sign of τ are checked:
    Hermiticity, finiteness, χ's zero weight on the energy eigenspaces, the λ range (positivity of
    ρ_A) and the warnings, which need eigendecompositions, are skipped. One species (a MultiSpeciesModel validated
    its species when they were built). ``atol``: a finite real number >= 0 (``ValueError`` naming it; a NaN let a
    non-Hermitian H_S pass)."""
    require_single_species(model, "validate")
    check_tolerance(atol, "atol")
    check_untraced(
        "validate",
        'it checks values. Call it on concrete values, or set jaxthermo.config.validate = "always" for checks '
        "staged into the traced computation",
        model=model,
    )
    names = ("H_S", "H_A", "V", "chi")
    for name in names:
        check_hermitian(getattr(model, name), name, atol=atol)
    for name in ("beta", "lam", "tau"):
        value = np.asarray(getattr(model, name))
        check_finite(value, name)
        if np.iscomplexobj(value):
            raise ValueError(f"{name} must be real; got a complex value")
    h_s, h_a, v, chi = (np.asarray(getattr(model, n), dtype=complex) for n in names)
    d_s, d_a = h_s.shape[-1], h_a.shape[-1]
    if v.shape[-1] != d_s * d_a:
        d_chi = chi.shape[-1]
        odd = (  # the one input that disagrees with the other three, where the sizes tell
            f"H_A: V and chi fit d_A = {d_chi}"
            if v.shape[-1] == d_s * d_chi
            else "one of V, H_S, H_A has the wrong dimension"
        )
        raise ValueError(
            f"V has shape {v.shape[-2:]} but H_S ({d_s}×{d_s}) and H_A ({d_a}×{d_a}) give d_S·d_A = {d_s * d_a}"
            f" (chi is {d_chi}×{d_chi}): {odd}"
        )
    if chi.shape[-1] != d_a:
        raise ValueError(f"chi has dimension {chi.shape[-1]} but H_A has d_A = {d_a}")
    tau = np.asarray(model.tau, dtype=float)
    if np.any(tau <= 0):
        raise ValueError(f"tau must be > 0; got {np.ravel(tau)[:3].tolist()}")
    # β < 0 (a population-inverted bath) is a model like any other: ρ_th = e^{−βH_A}/Z_A, detailed balance
    # γ⁺/γ⁻ = e^{−βω}, the steady state e^{−βH_S}/Z and Σ ≥ 0 hold for either sign (docs/coherent.md §1)
    beta = np.asarray(model.beta, dtype=float)
    if not value_checks_enabled():  # validate="off": types, shapes and signs only, no decompositions
        return
    # χ: no weight on the energy eigenspaces of H_A
    check_resolved_levels(model.H_A, "H_A", complex_dtype(model))
    e, u = (np.asarray(x) for x in centered_eigh(h_a))
    chi_e = np.conj(np.swapaxes(u, -1, -2)) @ chi @ u
    same = np.asarray(same_energy(e))
    # H_A's eigenvectors are known to its resolution over the smallest gap between levels (an offset c·1 rounds
    # its entries to ε·c): a χ off-shell for the exact H_A keeps that much weight on the rounded one's eigenspaces
    gap = np.min(np.where(same, np.inf, np.abs(e[..., :, None] - e[..., None, :])), axis=(-2, -1))
    # ε of the model's precision: float64's refused a rotated float32 χ (diagonal 8.5e-9 in H_A's eigenbasis)
    resolution = DEGENERACY_ULPS * d_a * np.finfo(complex_dtype(model)).eps * np.max(np.abs(e), axis=-1)
    chi_size = np.max(np.abs(chi))
    allowed = atol * max(1.0, float(chi_size)) + chi_size * np.where(np.isfinite(gap), resolution / gap, 0.0)
    on_shell = np.max(np.abs(np.where(same, chi_e, 0.0)), axis=(-2, -1))
    if np.any(on_shell > allowed):
        raise ValueError(
            "chi must have zero diagonal in the eigenbasis of H_A (no weight on its energy "
            f"eigenspaces); largest such entry {float(np.max(on_shell)):.3g}"
        )
    # positivity of ρ_A = ρ_th + √τ λ χ
    lam = np.asarray(model.lam, dtype=float)
    # the edge in float64 whatever the model's dtype, the margin that of the model's precision (as under jit)
    lam_min, lam_max = (np.asarray(x) for x in _lambda_range(h_a, beta, chi, tau))
    margin = lambda_margin(complex_dtype(model))
    bad = (lam > lam_max * (1 + margin)) | (lam < lam_min * (1 + margin))
    if np.any(bad):
        lam_b, lo_b, hi_b = np.broadcast_arrays(lam, lam_min, lam_max)
        i = np.argmax(np.ravel(bad))
        tau_x = np.asarray(model.tau, dtype=float)[..., None, None]  # ρ_A per batch element
        rho_a = np.asarray(_thermal_ancilla(model)) + np.sqrt(tau_x) * lam[..., None, None] * np.asarray(model.chi)
        w = np.linalg.eigvalsh(rho_a)[..., 0]
        wmin = float(np.ravel(np.broadcast_to(w, np.broadcast_shapes(w.shape, bad.shape)))[i]) if w.ndim else float(w)
        lam_i, lo_i, hi_i = (float(np.ravel(x)[i]) for x in (lam_b, lo_b, hi_b))
        limit = hi_i if lam_i > 0 else lo_i
        factor = f", too large by a factor {lam_i / limit:.4g}" if limit != 0 else ""
        raise ValueError(
            "lam: the ancilla state rho_A = rho_th + sqrt(tau) lam chi is not positive "
            f"semidefinite (smallest eigenvalue {wmin:.3g}); lam = {lam_i:.6g} lies outside the "
            f"allowed range [{lo_i:.6g}, {hi_i:.6g}] for this tau and chi{factor}"
        )
    # assumptions of the paper: warn, do not refuse
    p = np.asarray(gibbs_populations(e, beta))
    rho_th = (u * p[..., None, :]) @ np.conj(np.swapaxes(u, -1, -2))
    first_moment = np.asarray(partial_trace(v @ np.kron(np.eye(d_s), rho_th), (d_s, d_a), 0))
    v_size = float(np.max(np.abs(v)))
    # relative 1e-8, or 100 ε of the model's precision if coarser: a float32 model rounds [V, H_S + H_A] to ~1e-8
    rtol = max(1e-8, 100 * float(np.finfo(complex_dtype(model)).eps))
    _warn_if_nonzero(
        first_moment,
        v_size,
        "Tr_A(V rho_th) != 0",
        "the master-equation limit of [WCCM] eq. (6) assumes it vanishes",
        rtol,
    )
    h0 = np.kron(np.asarray(centered(h_s)), np.eye(d_a)) + np.kron(np.eye(d_s), np.asarray(centered(h_a)))
    _warn_if_nonzero(
        v @ h0 - h0 @ v,
        v_size * float(np.max(np.abs(h0))),
        "[V, H_S + H_A] != 0",
        "the collisions do global work; W = 0 (docs/coherent.md) assumes strict energy conservation",
        rtol,
    )


def check_tolerance(atol, name: str) -> None:
    """A concrete absolute tolerance: a finite real number >= 0 (``TypeError`` for a non-number, ``ValueError`` for
    another value, both naming ``name``)."""
    check_numeric(atol, name)
    check_real_scalar(atol, name)
    if should_validate(atol) and not np.asarray(atol) >= 0:
        raise ValueError(f"{name}={atol!r}: must be a finite real number >= 0")


def _warn_if_nonzero(x, scale, what, consequence, rtol=1e-8):
    """A ``UserWarning`` when ``max|x|`` exceeds ``rtol`` (1e-8; 100 ε₃₂ for a float32 model, whose own rounding
    warned) of ``scale`` (max|V|, or max|V|·max|H_S + H_A − μ| for the commutator): relative, so energies in any
    unit are judged alike (a floor of 1 on max|V| silenced both warnings for energies in units of 10⁻¹²)."""
    size = float(np.max(np.abs(x)))
    if size > rtol * scale:
        warnings.warn(f"{what} (max entry {size:.3g}): {consequence}", UserWarning, stacklevel=4)


# ------------------------------------------------------------------------------------------
# several species


def _same_matrix(a, b) -> bool:
    """``max|a − b| ≤ max(10⁻¹², 100 ε)·max|b|`` (ε of the coarser dtype): equal to their own precision. The old
    ``np.allclose(a, b, atol=1e-12)`` (rtol 10⁻⁵) took σ_z and (1 + 4·10⁻⁶)σ_z, or any two H_S in units of 10⁻¹²,
    for one H_S, and each species' collisions then used its own H_S while the master equation used the first."""
    a, b = np.asarray(a), np.asarray(b)
    eps = max(float(np.finfo(np.result_type(x.dtype, np.float32)).eps) for x in (a, b))
    return bool(np.max(np.abs(a - b), initial=0.0) <= max(1e-12, 100 * eps) * np.max(np.abs(b), initial=0.0))


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class MultiSpeciesModel:
    """A system colliding in turn with m species of ancillae A, B, C, … (docs/coherent.md; [WCCM] eq. (18)).

    Each species is a :class:`CoherentCollisionModel` with its own H_A, V, β, χ, λ; all share the
    system Hamiltonian and the cycle time τ. In the stroboscopic map each collision lasts τ/m with
    V_j rescaled by m/√τ; the continuous-time limit is additive over species.

    Example:
      >>> hot, cold = qubit_example(beta=0.5), qubit_example(beta=2.0)
      >>> pair = MultiSpeciesModel((hot, cold))
    """

    species: tuple

    def __post_init__(self):
        if not isinstance(self.species, (tuple, list)):
            raise TypeError(f"species must be a tuple of CoherentCollisionModel; got {type(self.species).__name__}")
        species = tuple(self.species)
        object.__setattr__(self, "species", species)  # a list stayed a list (unhashable, a pytree of another kind)
        if len(species) < 1:
            raise ValueError("species must hold at least one CoherentCollisionModel")
        if not all(isinstance(s, CoherentCollisionModel) for s in species):
            raise TypeError("species must be CoherentCollisionModel instances")
        first = species[0]
        if all(should_validate(getattr(s, f)) for s in species for f in ("H_S", "tau")):
            for j, s in enumerate(species[1:], start=1):
                if np.shape(s.H_S) != np.shape(first.H_S) or not _same_matrix(s.H_S, first.H_S):
                    raise ValueError(f"species[{j}].H_S differs from species[0].H_S: all species share H_S")
                # to the precision of the coarser τ (rtol 1e-12 refused float32(0.01) against 0.01)
                if not _same_matrix(s.tau, first.tau):
                    raise ValueError(f"species[{j}].tau differs from species[0].tau: all species share tau")

    def replace(self, **changes) -> MultiSpeciesModel:
        """A copy with some fields changed (validated again), e.g. ``pair.replace(species=(hot, cold))``."""
        return dataclasses.replace(self, **changes)

    @property
    def H_S(self):
        """The shared system Hamiltonian (d_S, d_S)."""
        return self.species[0].H_S

    @property
    def tau(self):
        """The shared cycle time τ (each of the m collisions lasts τ/m)."""
        return self.species[0].tau

    @property
    def dims(self) -> Dimensions:
        """``(d_S, d_A)`` of the first species."""
        return self.species[0].dims
