"""Any finite global model H = H_S + H_I + H_E under exact unitary dynamics (docs/assignment.md).

* :func:`energy_assignment`: Ũ_X, Q̃_X, W̃_X (X = S, I, E) and the bare and interaction
  assignments along ρ(t) = e^{−iHt} ρ(0) e^{iHt}.
* :func:`reduced_map`: the exact reduced dynamical map Φ_t(ρ_S) = Tr_E[U_t (ρ_S ⊗ ρ_E) U_t†] and
  its time derivative Φ̇_t (from U̇_t = −iH U_t, not finite differences), as (d_S², d_S²)
  superoperators; :func:`exact_generator` gives L_t = Φ̇_t Φ_t^{−1}.
* :func:`minimal_dissipation`: K_S(t) of the canonical form of L_t and U^md, Q^md, W^md, with
  the times where Φ_t is (nearly) non-invertible detected and reported.

For constant H, Q̃_X(t) = ΔŨ_X(t) exactly and W̃_X = 0. A driven H_S(t) = H_S + V(t) (``drive``)
is supported by :func:`energy_assignment` (RK4, with a step-doubling error estimate); the map-based
functions need constant H.
Tensor order (system ⊗ environment), index ``a*d_E + e`` (docs/conventions.md). Times follow the
package's one rule (non-decreasing, ≥ 0); the integrals start at ``times[0]`` and a zero-length
interval contributes 0.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import complex_dtype_for
from .._linalg import inverse_condition
from .._qudit import Dimensions, dagger, expectation, tensor
from .._qutip import as_array, is_qobj
from .._superoperators import apply_superoperator, map_images
from .._validation import (
    check_density_matrix,
    check_finite,
    check_hermitian,
    check_inexact_dtype,
    check_numeric,
    check_positive_int,
    check_real_cast,
    check_real_scalar,
    check_time_grid,
    error_if,
    is_concrete,
    is_numeric_tracer,
    register_checked_dataclass,
    should_validate,
    stage_hermitian,
    stages,
    takes_model,
    value_checks_enabled,
)
from ._assignment import (
    Assignment,
    _bare_assignment,
    _interaction_assignment,
    check_quadrature_tol,
    heat_error,
    heat_rule_points,
    local_minimum_times,
    minimal_dissipation_assignment,
    warn_quadrature_error,
)
from ._generator import TimeInterval, canonical_form_of_images, grid_intervals
from ._propagator import propagator_rows, spectral_decomposition, warn_phase_rounding


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class GlobalModel:
    """H = H_S ⊗ 1 + H_I + 1 ⊗ H_E on C^{d_S} ⊗ C^{d_E} (docs/assignment.md).

    Args:
      h_system: H_S (d_S, d_S), Hermitian.
      h_interaction: H_I (d_S d_E, d_S d_E), Hermitian, tensor order (system ⊗ environment).
      h_environment: H_E (d_E, d_E), Hermitian.
      drive: optional ``t ↦ V(t)`` (d_S, d_S) Hermitian, differentiable in t (static): then
        ``H_S(t) = h_system + V(t)``. Only :func:`energy_assignment` accepts a driven model; the
        reduced map and the minimal-dissipation functions need a constant H.
      drive_params: optional pytree of the drive's parameters (an amplitude, a frequency, …): then
        the drive is called as ``drive(t, drive_params)``. They are traced, not static, so a sweep
        over them reuses one compiled program and ``jax.grad`` reaches them (docs/assignment.md).
        A drive closing over its parameters instead is a new static function per value, and
        :func:`energy_assignment` recompiles for each.
    """

    h_system: Any
    h_interaction: Any
    h_environment: Any
    drive: Callable | None = dataclasses.field(default=None, metadata=dict(static=True))
    drive_params: Any = None

    def __post_init__(self):
        # QuTiP Qobj fields → arrays; H_I's tensor factors checked against (d_S, d_E)
        for name in ("h_system", "h_environment"):
            object.__setattr__(self, name, as_array(getattr(self, name), name))
        if is_qobj(self.h_interaction):
            object.__setattr__(self, "h_interaction", as_array(self.h_interaction, "h_interaction", dims=self.dims))
        for name in ("h_system", "h_interaction", "h_environment"):
            value = getattr(self, name)
            check_numeric(value, name, real=False)
            if isinstance(value, (list, tuple)):  # one leaf, not a pytree of scalars: under jit a nested list
                value = np.asarray(value)  # became a list of tracers, and np.shape failed with
                object.__setattr__(self, name, value)  # TracerArrayConversionError
            if should_validate(value) or is_numeric_tracer(value):  # shapes of tracers too
                if np.ndim(value) != 2:
                    raise ValueError(
                        f"{name} must be one matrix (d, d); got shape {np.shape(value)}: a GlobalModel is one "
                        "model (use jax.vmap over models built inside it for a batch)"
                    )
                if np.shape(value)[0] < 1:
                    raise ValueError(f"{name} must be a (d, d) matrix with d >= 1; got shape {np.shape(value)}")
                check_hermitian(value, name)  # concrete: at once
                stage_hermitian(value, name)  # traced: staged under validate="always" (a NaN gave NaN heats)
        if self.drive is not None and not callable(self.drive):  # an int was accepted until energy_assignment
            raise TypeError(f"drive must be a callable t ↦ V(t) (d_S, d_S), or None; got {type(self.drive).__name__}")
        if self.drive_params is not None:
            if self.drive is None:
                raise ValueError("drive_params: given without a drive (drive=None)")
            for leaf in jax.tree_util.tree_leaves(self.drive_params):
                check_numeric(leaf, "drive_params", real=False)
                check_finite(leaf, "drive_params")
        if all(
            should_validate(x) or is_numeric_tracer(x) for x in (self.h_system, self.h_interaction, self.h_environment)
        ):
            d_s, d_e = self.dims
            d = d_s * d_e
            if np.shape(self.h_interaction)[-2:] != (d, d):  # d_S, d_E named by where they come from
                raise ValueError(
                    f"h_interaction has shape {np.shape(self.h_interaction)} but h_system ({d_s}×{d_s}) and "
                    f"h_environment ({d_e}×{d_e}) need ({d}, {d}), d_S·d_E = {d}"
                )

    def drive_at(self, t):
        """V(t): ``drive(t)``, or ``drive(t, drive_params)`` when the model has drive parameters."""
        return self.drive(t) if self.drive_params is None else self.drive(t, self.drive_params)

    def replace(self, **changes) -> GlobalModel:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def dims(self) -> Dimensions:
        """(d_S, d_E)."""
        return Dimensions(int(np.shape(self.h_system)[-1]), int(np.shape(self.h_environment)[-1]))

    def local_hamiltonians(self, dtype=jnp.complex128):
        """(H_S ⊗ 1, H_I, 1 ⊗ H_E) on the global space, shape (3, D, D). ``dtype``: float32, float64, complex64
        or complex128, real only for real Hamiltonians (int32 gave zeros, float64 dropped H_I = σ_x ⊗ σ_y)."""
        dtype = check_inexact_dtype(dtype)
        for name in ("h_system", "h_interaction", "h_environment"):
            check_real_cast(getattr(self, name), dtype, name)
        d_s, d_e = self.dims
        h_s = tensor(jnp.asarray(self.h_system).astype(dtype), jnp.eye(d_e, dtype=dtype))
        h_e = tensor(jnp.eye(d_s, dtype=dtype), jnp.asarray(self.h_environment).astype(dtype))
        return jnp.stack([h_s, jnp.asarray(self.h_interaction).astype(dtype), h_e])

    def hamiltonian(self, dtype=jnp.complex128):
        """The global H (D, D)."""
        return jnp.sum(self.local_hamiltonians(dtype), axis=0)


global_model = takes_model(GlobalModel, "a jt.GlobalModel")


class GlobalEnergetics(NamedTuple):
    """Global bookkeeping along the exact dynamics; arrays (3, T) are ordered X = (S, I, E)."""

    times: jnp.ndarray  # (T,)
    energies: jnp.ndarray  # Ũ_X(t)  (3, T)
    heats: jnp.ndarray  # Q̃_X(t) = ∫_0^t Tr{H_X ρ̇}  (3, T)
    works: jnp.ndarray  # W̃_X(t) = ∫_0^t Tr{Ḣ_X ρ}  (3, T), zero for constant H
    bare: Assignment
    interaction: Assignment
    # (T,) estimated error at t of every array above (docs/assignment.md §7): driven H, RK4 step doubling (NaN
    # where estimate_error=False skipped it); constant H, the rounding of e^{−iHt}, 4ε·max‖H_X‖·(max|E|·t + D)
    integration_error: jnp.ndarray

    @property
    def weak_coupling_heat(self) -> jnp.ndarray:
        """``∫Tr{H_S(t) ρ̇_S} = Q̃_S``, the weak-coupling heat evaluated on the exact state (T,): ``ΔŨ_S`` for a
        constant H_S (docs/assignment.md §2), as :attr:`QuadraticEnergetics.weak_coupling_heat`."""
        return self.heats[0]


def one_state(rho, name: str, d: int) -> jnp.ndarray:
    """``rho`` as an array after checking it is one density matrix (d, d) (``ValueError`` naming
    ``name``): the functions of model C take one state, a batch is refused (use ``jax.vmap``).
    A traced state is checked at run time under ``jaxthermo.config.validate == "always"``.
    A QuTiP ``Qobj`` is converted."""
    rho = as_array(rho, name)
    if np.shape(rho) != (d, d):
        raise ValueError(f"{name} must be one state of shape ({d}, {d}); got {np.shape(rho)}: use jax.vmap for a batch")
    check_density_matrix(rho, name, dim=d)  # concrete: at once; traced: staged under validate="always"
    return jnp.asarray(rho)


def _require_constant(model):
    if model.drive is not None:
        raise ValueError("drive: the exact reduced map and minimal dissipation need a constant H (drive=None)")


@global_model
def energy_assignment(
    model: GlobalModel,
    rho0,
    times,
    *,
    substeps: int = 8,
    estimate_error: bool = True,
    integration_tol=None,
) -> GlobalEnergetics:
    """Ũ_X, Q̃_X, W̃_X and the bare/interaction assignments of the system (docs/assignment.md).

    Args:
      model: :class:`GlobalModel`.
      rho0: global state at t = 0 (D, D), D = d_S d_E (any state, correlated or not); for a driven model
        with ``times[0]`` > 0, RK4 carries it to ``times[0]`` first (:func:`prefix_steps`).
      times: (T,) non-decreasing, ≥ 0; Q̃ and W̃ are accumulated from ``times[0]``.
      substeps: RK4 steps per interval of ``times`` for a driven model (ignored otherwise).
      estimate_error: driven model: also integrate with ``2·substeps`` (step doubling) for
        ``integration_error`` (three RK4 steps per step of the result instead of one); False skips it
        (``integration_error`` is then NaN: not known, not zero). The returned values do not depend on it.
      integration_tol: None (default, no check) or a finite number > 0: a ``RuntimeWarning`` (outside
        ``jit``) naming the intervals where the estimate grows most when ``integration_error`` exceeds it.

    Returns:
      :class:`GlobalEnergetics`. Constant H: ρ(t) = e^{−iHt}ρ(0)e^{iHt} exactly, Q̃_X = ΔŨ_X,
      W̃_X = 0; Σ_X Q̃_X = 0 and each assignment's first law hold to rounding. Driven H_S(t):
      ρ and the integrals Q̃_X, W̃_S are integrated together by classical RK4 (error O(h⁴));
      Σ_X Q̃_X = 0 still holds to rounding (Σ_X Tr{H_X ρ̇} = Tr{H[−iH, ρ]} = 0 at every stage),
      the first laws to O(h⁴).

      ``integration_error`` (T,) estimates the error at each time of every array of the result (Ũ_X,
      Q̃_X, W̃_X and both assignments' fields): ``2·max |y_h − y_{h/2}|`` over them, y_{h/2} the same run
      with ``2·substeps`` (docs/assignment.md §7). It bounds the error wherever halving the step at least
      halves it (RK4's asymptotic regime divides it by 16; the estimate is then ≈ 1.9 × the error): measured
      against SciPy's ``solve_ivp``, 1.7–2.4 × the true error for smooth and for fast drives alike (a cosine
      drive 100 times faster than the Bohr frequencies with an error of 13, a pulse between grid times), in
      float64; float32 rounding below ≈ 1e-6 can exceed it. Not a bound for a feature of the drive that
      falls between the stage times of both runs (a pulse narrower than h/4). A constant H has no step error,
      only rounding: ``4ε·max_X‖H_X‖·(max|E|·t + D)`` (ε of the run's precision, D = d_S d_E; measured 4.7–1500 ×
      the true error, median 90 ×, docs/assignment.md §7), whatever ``estimate_error``.
    """
    d = model.dims[0] * model.dims[1]
    check_time_grid(times)
    substeps = check_positive_int(substeps, "substeps")
    check_quadrature_tol(integration_tol, estimate_error, name="integration_tol")
    rho0 = one_state(as_array(rho0, "rho0", dims=model.dims), "rho0", d)  # a Qobj: dims checked against (d_S, d_E)
    cdt = complex_dtype_for(rho0.dtype)  # the state sets the precision; the times follow it (README "Precision")
    rho0 = rho0.astype(cdt)
    times = jnp.asarray(times).astype(jnp.real(rho0).dtype)
    if model.drive is not None:
        d_s = model.dims[0]
        call = "drive(t)" if model.drive_params is None else "drive(t, drive_params)"
        try:
            shape = jax.eval_shape(model.drive_at, jnp.asarray(times)[0]).shape
        except jax.errors.JAXTypeError as exc:  # NumPy on the traced t, or Python branching on its value
            raise ValueError(
                f"drive: must be a JAX-traceable function (jax.numpy, jnp.where for branches; no NumPy conversion "
                f"or Python `if` on t); tracing {call} failed: {str(exc).splitlines()[0]}"
            ) from None
        except TypeError as exc:  # the wrong signature: drive(t) given drive_params, or the reverse
            raise TypeError(f"drive: the model calls {call}; it failed: {exc}") from None
        if shape != (d_s, d_s):
            raise ValueError(f"drive(t) must return one ({d_s}, {d_s}) matrix (d_S = {d_s}); got shape {shape}")
        # the RK4 step checks need concrete Hamiltonians (jax.grad or vmap over an entry of H_S, H_I, H_E failed there
        # with TracerArrayConversionError)
        concrete_h = should_validate(model.hamiltonian())
        if should_validate(times) or stages(times, *jax.tree_util.tree_leaves(model.drive_params)):
            values = jax.vmap(model.drive_at)(jnp.asarray(times))  # V(t) at every time of the grid
            if should_validate(values) and should_validate(times):
                check_hermitian(np.asarray(values), "drive(t)")
                # eigendecompositions: skipped under validate="off" and for traced Hamiltonians
                if value_checks_enabled() and concrete_h:
                    check_rk4_step(model, np.asarray(times, dtype=float), np.asarray(values), substeps)
            else:  # traced times or drive parameters: finite and Hermitian staged under validate="always" (the RK4
                # step check needs concrete values); not where a drive parameter is NaN, reported as drive_params
                leaves = [jnp.asarray(x) for x in jax.tree_util.tree_leaves(model.drive_params)]
                params_finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves] + [jnp.array(True)]))
                stage_hermitian(values, "drive(t)", when=jax.lax.stop_gradient(params_finite))
        prefix = prefix_steps(times, substeps)
        if prefix and should_validate(times) and value_checks_enabled():  # the run from t = 0 to times[0]
            start = jnp.stack([jnp.zeros_like(times[0]), times[0]])
            values = jax.vmap(model.drive_at)(start)
            if should_validate(values) and concrete_h:
                check_rk4_step(model, np.asarray(start, dtype=float), np.asarray(values), prefix)
        result = _driven_energy_assignment(model, rho0, jnp.asarray(times), substeps, bool(estimate_error), prefix)
        warn_quadrature_error(
            result.integration_error,
            result.times,
            integration_tol,
            what="the estimated RK4 integration error of the driven energetics",
            name="integration_tol",
            remedy="raise substeps or refine the time grid there (refine_times)",
        )
        return result
    times = jnp.asarray(times)
    warn_phase_rounding(model.hamiltonian(cdt), times, times.dtype)
    energies, error = _local_energies(model.local_hamiltonians(cdt), rho0, times)  # (3, T), (T,)
    heats = energies - energies[:, :1]
    result = _energetics(times, energies, heats, jnp.zeros_like(energies), error)
    warn_quadrature_error(
        result.integration_error,
        result.times,
        integration_tol,
        what="the estimated rounding error of the energetics of a constant H",
        name="integration_tol",
        remedy="use float64 inputs or shorter times (docs/assignment.md §7)",
    )
    return result


def _energetics(times, energies, heats, works, integration_error) -> GlobalEnergetics:
    """:class:`GlobalEnergetics` with both assignments from Ũ_X, Q̃_X, W̃_X (3, T)."""
    args = (energies[0], energies[1], heats[0], heats[1], works[0])
    return GlobalEnergetics(
        times, energies, heats, works, _bare_assignment(*args), _interaction_assignment(*args), integration_error
    )


def prefix_steps(times, substeps: int) -> int:
    """RK4 steps that carry a driven model's ρ(0) from t = 0 to ``times[0]`` (docs/assignment.md §1): ρ0 is the
    state at t = 0, as for a constant H (e^{−iHt}ρ(0)e^{iHt}) and in every other function of the package.

    0 when ``times[0]`` = 0; otherwise ``substeps`` per span of the grid's longest interval, so the step is no
    longer than the grid's. Traced times: ``substeps`` (a zero-length prefix is the identity); the step-doubling
    estimate then includes the prefix's error."""
    if not is_concrete(times):
        return substeps
    t = np.asarray(times, dtype=float)
    if t[0] == 0.0:
        return 0
    span = float(np.max(np.diff(t))) if t.size > 1 else 0.0
    span = span if span > 0 else float(t[0])
    return substeps * max(1, int(np.ceil(t[0] / span)))


def step_doubling_error(coarse: GlobalEnergetics, fine: GlobalEnergetics):
    """``2·max |coarse − fine|`` at each time over every array of the result but ``times`` (T,), with ``fine`` the
    same run at half the step (docs/assignment.md §7). With e_h the error of the coarse run, |e_h| ≤ 2|y_h − y_{h/2}|
    whenever |e_{h/2}| ≤ |e_h|/2 (RK4: e_{h/2} ≈ e_h/16 once the step resolves the dynamics, the estimate then
    ≈ 1.9|e_h|). A non-finite difference (a run that blew up) gives ``inf``."""
    pick = lambda r: jax.tree_util.tree_leaves((r.energies, r.heats, r.works, r.bare, r.interaction))
    t = coarse.times.shape[0]
    diff = jnp.concatenate([jnp.abs(a - b).reshape(-1, t) for a, b in zip(pick(coarse), pick(fine))])
    diff = jnp.max(diff, axis=0)
    return 2 * jnp.where(jnp.isfinite(diff), diff, jnp.inf)


# constant H: integration_error = ROUNDING_FACTOR · ε · max_X ‖H_X‖ · (max|E|·t + D) (docs/assignment.md §7)
ROUNDING_FACTOR = 4.0


@jax.jit
def _local_energies(h_x, rho0, times):
    """Ũ_X(t) = Tr{H_X ρ(t)} for X = S, I, E under ρ(t) = e^{−iHt}ρ(0)e^{iHt}, (3, T), and the rounding
    estimate of every array of the result (T,) (:data:`ROUNDING_FACTOR`; docs/assignment.md §7); compiled
    once per dimensions, T and dtype (a closure in ``lax.map`` was compiled at every call: 0.6 s in a sweep)."""
    h = jnp.sum(h_x, axis=0)
    w, v = spectral_decomposition(h)

    def energies_at(t):
        u = propagator_rows(h, t, w, v, h.shape[0])
        return expectation(h_x, u @ rho0 @ dagger(u))

    energies = jnp.transpose(jax.lax.map(energies_at, times))
    # e^{−iHt} = V e^{−iwt} V† is that of an H off by ≈ ε·max|E| (each phase off by ε·max|E|·t) with V unitary to
    # ≈ ε·D, and |δ Tr{H_X ρ}| ≤ 2‖H_X‖‖δU‖; the heats and the assignments add up to four such errors
    eps = jnp.finfo(times.dtype).eps
    scale = jnp.max(jnp.abs(jnp.linalg.eigvalsh(jax.lax.stop_gradient(h_x))))
    error = ROUNDING_FACTOR * eps * scale * (jnp.max(jnp.abs(w)) * jnp.abs(times) + h.shape[0])
    return energies, jax.lax.stop_gradient(error).astype(times.dtype)


# RK4 on ρ̇ = −i[H, ρ]: a Bohr frequency ω with y = ωh is amplified by |R(iy)| per step, R(z) = Σ_{k≤4} z^k/k!;
# |R(iy)|² = 1 − y⁶/72 + y⁸/576 > 1 exactly when |y| > 2√2 (the scheme then grows without bound)
RK4_STABILITY = 2.0 * np.sqrt(2.0)
# warn when the estimated phase error of the fastest Bohr frequency over the run exceeds this (radians)
RK4_PHASE_WARNING = 1e-2


def check_rk4_step(model, times, drive_values, substeps: int) -> None:
    """Refuse or flag an RK4 step too long for the spectrum of H(t) = H_0 + V(t) ⊗ 1 (docs/assignment.md §1).

    With ω_max(t) the spread of the eigenvalues of H(t) at the grid times (the fastest Bohr frequency of
    ρ̇ = −i[H, ρ]) and y = ω_max h per substep h = Δt/``substeps``: ``ValueError`` naming ``substeps`` where
    y > 2√2 (the step amplifies that component; the result grows exponentially, 1e46 for y ≈ 4 over 40
    steps, with Σ_X Q̃_X = 0 still exact), and a ``RuntimeWarning`` where the phase error of that component
    accumulated over the run, Σ (substeps · y⁵/120), exceeds 1e-2 rad (RK4's local phase error is y⁵/120).
    Both say how many substeps suffice. Concrete inputs only (skipped under ``jit`` or traced drive parameters).
    """
    if times.size < 2:
        return
    d_e = model.dims[1]
    h0 = np.asarray(model.hamiltonian(), dtype=complex)
    v = np.asarray(drive_values, dtype=complex)
    full = h0[None] + np.einsum("tab,ce->tacbe", v, np.eye(d_e)).reshape((len(times),) + h0.shape)
    e = np.linalg.eigvalsh(full)
    spread = e[:, -1] - e[:, 0]
    y = np.maximum(spread[:-1], spread[1:]) * np.diff(times) / substeps
    worst = float(np.max(y))
    if worst > RK4_STABILITY:
        need = int(np.ceil(substeps * worst / RK4_STABILITY))
        raise ValueError(
            f"substeps={substeps}: an RK4 step h = Δt/substeps of this time grid spans ω_max·h = {worst:.3g} > 2√2 "
            "(ω_max the spread of the eigenvalues of H(t)), where RK4 amplifies ρ without bound; the result would be "
            f"exponentially wrong. Use substeps >= {need} for stability, more for accuracy (or a finer time grid)"
        )
    drift = float(np.sum(substeps * y**5 / 120.0))
    if drift > RK4_PHASE_WARNING:
        need = int(np.ceil(substeps * (drift / 1e-3) ** 0.25))
        warnings.warn(
            f"substeps={substeps}: the RK4 phase error of the fastest Bohr frequency of H(t) accumulates to about "
            f"{drift:.2g} rad over this time grid (largest ω_max·h = {worst:.3g}); the energies, heats and works can be "
            f"off by a comparable relative amount. substeps >= {need} brings it to 1e-3",
            RuntimeWarning,
            stacklevel=3,
        )


def _rk4_step(rhs, t, h, state):
    """One classical RK4 step of ``state`` (a pytree) from t to t + h."""
    add = lambda a, b, c: jax.tree_util.tree_map(lambda x, y: x + c * y, a, b)
    k1 = rhs(t, state)
    k2 = rhs(t + h / 2, add(state, k1, h / 2))
    k3 = rhs(t + h / 2, add(state, k2, h / 2))
    k4 = rhs(t + h, add(state, k3, h))
    incr = jax.tree_util.tree_map(lambda a, b, c, e: (a + 2 * b + 2 * c + e) * (h / 6), k1, k2, k3, k4)
    return add(state, incr, 1.0)


@partial(jax.jit, static_argnames=("substeps", "estimate_error", "prefix"))
def _driven_energy_assignment(model, rho0, times, substeps, estimate_error=True, prefix=0):
    """RK4 for (ρ, Q̃_X, W̃_S) with H_S(t) = h_system + drive(t); see :func:`energy_assignment`. With
    ``estimate_error`` the same run with half the step follows (step doubling, :func:`step_doubling_error`).
    ρ0 is the state at t = 0: ``prefix`` RK4 steps (:func:`prefix_steps`) carry it to ``times[0]``, where the
    integrals start."""
    cdt = rho0.dtype
    h_x0 = model.local_hamiltonians(cdt)
    d_e = model.dims[1]
    eye_e = jnp.eye(d_e, dtype=cdt)

    def drive_full(t):
        return tensor(jnp.asarray(model.drive_at(t)).astype(cdt), eye_e)

    def local(t):
        return h_x0.at[0].add(drive_full(t))

    def rhs(t, state):
        rho = state[0]
        h_x = local(t)
        rho_dot = -1j * (jnp.sum(h_x, 0) @ rho - rho @ jnp.sum(h_x, 0))
        _, v_dot = jax.jvp(drive_full, (t,), (jnp.ones_like(t),))
        return rho_dot, expectation(h_x, rho_dot), expectation(v_dot, rho)

    real = jnp.real(rho0).dtype

    def run(steps) -> GlobalEnergetics:
        init = (rho0, jnp.zeros((3,), real), jnp.zeros((), real))
        if prefix:  # ρ(0) → ρ(times[0]); the integrals start at times[0]
            n0 = prefix * (steps // substeps)
            h0 = times[0] / n0
            rho_start = jax.lax.fori_loop(0, n0, lambda k, s: _rk4_step(rhs, k * h0, h0, s), init)[0]
            init = (rho_start,) + init[1:]

        def interval(state, bounds):
            t0, t1 = bounds
            h = (t1 - t0) / steps
            state = jax.lax.fori_loop(0, steps, lambda k, s: _rk4_step(rhs, t0 + k * h, h, s), state)
            return state, state

        _, (rhos, heats, work_s) = jax.lax.scan(interval, init, (times[:-1], times[1:]))
        rhos = jnp.concatenate([init[0][None], rhos])
        heats = jnp.concatenate([jnp.zeros((1, 3), real), heats]).T
        work_s = jnp.concatenate([jnp.zeros((1,), real), work_s])
        energies = expectation(jax.vmap(local)(times), rhos[:, None]).T
        works = jnp.zeros_like(energies).at[0].set(work_s)
        return _energetics(times, energies, heats, works, jnp.full(times.shape, jnp.nan, real))

    result = run(substeps)
    if not estimate_error:
        return result
    return result._replace(integration_error=step_doubling_error(result, run(2 * substeps)))


class Propagator(NamedTuple):
    """``U_t = e^{−iHt}`` and ``U̇_t = −iH U_t``, each (D, D)."""

    u: jnp.ndarray
    u_dot: jnp.ndarray


class ReducedMap(NamedTuple):
    """The exact reduced map Φ_t and its time derivative Φ̇_t, (d_S², d_S²) superoperators (row-major vec)."""

    phi: jnp.ndarray
    phi_dot: jnp.ndarray


def _propagator_and_derivative(h, w, v, t) -> Propagator:
    u = propagator_rows(h, t, w, v, h.shape[-1])
    return Propagator(u, -1j * (h @ u))


def _map_from_propagator(u, u_dot, rho_e, dims) -> ReducedMap:
    d_s, d_e = dims
    u4 = u.reshape(d_s, d_e, d_s, d_e)
    ud4 = u_dot.reshape(d_s, d_e, d_s, d_e)
    spec = "aecf,fg,bedg->abcd"
    phi = jnp.einsum(spec, u4, rho_e, jnp.conj(u4))
    phi_dot = jnp.einsum(spec, ud4, rho_e, jnp.conj(u4)) + jnp.einsum(spec, u4, rho_e, jnp.conj(ud4))
    n = d_s * d_s
    return ReducedMap(phi.reshape(n, n), phi_dot.reshape(n, n))


@global_model
def reduced_map(model: GlobalModel, rho_env, t) -> ReducedMap:
    """Exact reduced map Φ_t and its derivative Φ̇_t as (d_S², d_S²) superoperators (row-major vec).

    Φ_t(ρ_S) = Tr_E[U_t (ρ_S ⊗ ρ_E) U_t†]; Φ̇_t uses U̇_t = −iH U_t (exact, no finite differences).
    """
    _require_constant(model)
    check_numeric(t, "t")  # None and strings failed inside JAX, naming nothing; True ran as t = 1
    check_real_scalar(t, "t")
    if should_validate(t) and float(np.asarray(t)) < 0:  # the package's times are >= 0 (module docstring)
        raise ValueError(
            f"t={float(np.asarray(t))!r}: must be >= 0, the time since the product state ρ_S ⊗ ρ_E was prepared "
            "(a negative t gave the backward map, whose generator has negative rates that are no backflow)"
        )
    if stages(t):  # traced: a finite t >= 0, staged under validate="always"
        t_value = jax.lax.stop_gradient(jnp.asarray(t))
        error_if(~(t_value >= 0), "t must be a finite time >= 0; got {value}", t_value)
    rho_env = one_state(rho_env, "rho_env", model.dims[1])
    # the state sets the precision and t follows it (README "Precision"): a float32 state with any t,
    # Python or NumPy float64, runs in complex64 (jnp.asarray(t).dtype made such a run complex128)
    cdt = complex_dtype_for(rho_env.dtype)
    h = model.hamiltonian(cdt)
    warn_phase_rounding(h, t, jnp.real(h).dtype, "t")
    w, v = spectral_decomposition(h)
    u, u_dot = _propagator_and_derivative(h, w, v, jnp.asarray(t).astype(jnp.real(h).dtype))
    return _map_from_propagator(u, u_dot, rho_env.astype(cdt), model.dims)


# σ_min/σ_max below this many units of roundoff of the run's precision is rounding, whatever rcond says
RCOND_ROUNDING = 100.0


def resolvable_rcond(rcond, dtype):
    """``max(rcond, 100 ε)`` with ε of the real ``dtype`` of the run (docs/assignment.md §3): σ_min/σ_max of a
    matrix computed in that precision carries an error ≈ ε, so a smaller threshold flags nothing (float32 at a
    singular Φ_t: σ_min/σ_max = 1.2·10⁻⁷ > 10⁻⁸, K_S = 2·10⁶ of rounding returned as finite). float64: 2.2·10⁻¹⁴,
    below the default 10⁻⁸."""
    return jnp.maximum(rcond, RCOND_ROUNDING * jnp.finfo(dtype).eps)


def check_rcond(rcond, ratio: str = "σ_min/σ_max(Φ_t)") -> None:
    """``rcond``: a finite real number in (0, 1) (``ValueError`` naming it otherwise; traced: skipped). The ratio it
    thresholds, σ_min/σ_max of Φ_t or σ_min of the contraction G(t), is at most 1, so ``rcond`` >= 1 flagged every
    time, t = 0 (the identity map) included, and made every minimal-dissipation result NaN (docs/assignment.md §3)."""
    check_real_scalar(rcond, "rcond", positive=True)
    if should_validate(rcond) and float(np.asarray(rcond)) >= 1.0:
        raise ValueError(
            f"rcond={rcond!r}: must be < 1; {ratio} is at most 1, so rcond >= 1 flags every time (t = 0 too) as "
            "singular and every minimal-dissipation result would be NaN"
        )
    if stages(rcond):  # traced: staged under validate="always"
        r = jax.lax.stop_gradient(jnp.asarray(rcond))
        error_if(~((r > 0) & (r < 1)), "rcond must be a finite number in (0, 1); got {value}", r)


def generator_from_map(phi, phi_dot):
    """L_t = Φ̇_t Φ_t^{−1} for (n, n) superoperators (a linear solve, no explicit inverse).

    ``phi`` and ``phi_dot`` are (n, n) matrices of one shape (``ValueError`` naming them), finite when concrete
    (staged under ``jaxthermo.config.validate == "always"``). Where Φ_t is (nearly) non-invertible,
    σ_min/σ_max < 10⁻⁸ (raised to 100 ε of its precision), L_t diverges and a ``RuntimeWarning`` is issued, as by
    :func:`exact_generator` (concrete ``phi`` only): a singular Φ_t returned NaN or inf without a word.
    """
    for name, x in (("phi", phi), ("phi_dot", phi_dot)):
        check_numeric(x, name, real=False)
        if np.ndim(x) != 2 or np.shape(x)[0] != np.shape(x)[1]:
            raise ValueError(f"{name} must be a square (n, n) superoperator; got shape {np.shape(x)}")
    if np.shape(phi_dot) != np.shape(phi):
        raise ValueError(f"phi_dot has shape {np.shape(phi_dot)} but phi has {np.shape(phi)}: both are (n, n)")
    check_finite(phi, "phi")
    check_finite(phi_dot, "phi_dot")
    phi, phi_dot = jnp.asarray(phi), jnp.asarray(phi_dot)
    if should_validate(phi) and value_checks_enabled():
        warn_not_invertible(phi, 1e-8, "phi (Φ_t)")
    return _generator_from_map(phi, phi_dot)


def _generator_from_map(phi, phi_dot):
    """:func:`generator_from_map` unchecked (inside the functions that report a singular Φ_t themselves)."""
    return jnp.linalg.solve(phi.T, phi_dot.T).T


def warn_not_invertible(phi, rcond, what: str, where: str = "") -> None:
    """``RuntimeWarning`` where a concrete, finite Φ_t has σ_min/σ_max below ``rcond`` (raised to 100 ε of its
    precision, :func:`resolvable_rcond`): L_t = Φ̇_t Φ_t^{−1} diverges there."""
    rc = float(inverse_condition(phi))
    real = jnp.real(phi).dtype
    threshold = float(resolvable_rcond(rcond, real if jnp.issubdtype(real, jnp.floating) else jnp.float64))
    if not rc >= threshold:
        warnings.warn(
            f"{what} is (nearly) non-invertible{where} (σ_min/σ_max = {rc:.3g} < rcond = {threshold:g}): "
            "L_t diverges there and the returned generator is dominated by rounding",
            RuntimeWarning,
            stacklevel=3,
        )


@global_model
def exact_generator(model: GlobalModel, rho_env, t, *, rcond: float = 1e-8):
    """L_t = Φ̇_t ∘ Φ_t^{−1}, the exact time-local generator of the reduced dynamics, (d_S², d_S²).

    L_t diverges where Φ_t is singular (docs/assignment.md §3): there the solve returns rounding noise of
    arbitrary size (2e11 at a singular point of a 2 ⊗ 3 model), so a ``RuntimeWarning`` is issued when
    ``σ_min(Φ_t)/σ_max(Φ_t) < rcond`` (a finite number in (0, 1), default 1e-8 as in :func:`minimal_dissipation`, raised
    to 100 ε of the run's precision, 1.2e-5 in float32; concrete ``t`` only, skipped under ``jit``).
    """
    check_rcond(rcond)
    phi, phi_dot = reduced_map(model, rho_env, t)
    if should_validate(phi):
        if not np.all(np.isfinite(np.asarray(phi))):  # inverse_condition would name its own argument, `matrix`
            raise ValueError(f"t={float(t)!r}: the reduced map Φ_t is not finite there (the phases e^(-iEt) overflow)")
        warn_not_invertible(phi, rcond, "Φ_t", f" at t = {float(t)!r}")
    return _generator_from_map(phi, phi_dot)


# MinimalDissipation.non_markovian_intervals: a rate counts as negative below −RATE_ROUNDING·ε·scale/(σ_min/σ_max)
RATE_ROUNDING = 200.0


class MinimalDissipation(NamedTuple):
    """Minimal-dissipation thermodynamics of the system along the exact dynamics ([CB22]; docs/assignment.md)."""

    times: jnp.ndarray  # (T,)
    hamiltonian: jnp.ndarray  # K_S(t) (T, d, d); NaN where Φ_t is not invertible
    state: jnp.ndarray  # ρ_S(t) (T, d, d)
    rates: jnp.ndarray  # canonical rates γ_k(t) (T, d²−1); negative = non-Markovian; NaN where singular
    assignment: Assignment  # W^md, Q^md, ΔU^md, U^md (T,)
    inverse_condition: jnp.ndarray  # σ_min(Φ_t)/σ_max(Φ_t) on the grid (T,); NaN where Φ_t is not finite
    singular: jnp.ndarray  # (T,) grid points with inverse_condition < rcond or NaN
    # (T−1, order) nodes with inverse_condition < rcond, or next to a sign change of det Φ_t
    singular_nodes: jnp.ndarray
    nodes: jnp.ndarray  # (T−1, order) the quadrature nodes
    # (T,) estimated error of assignment.heat (and .work): Σ |G_order − G_{order+1}| over the intervals up
    # to t (docs/assignment.md §6); NaN where the heat is NaN
    quadrature_error: jnp.ndarray

    @property
    def non_markovian_intervals(self) -> list[TimeInterval]:
        """Grid intervals where some canonical rate γ_k(t) is below −tol_t (information backflow), with
        ``tol_t = max(10⁻⁹, 200 ε (max_k|γ_k(t)| + max|K_S(t) − Tr K_S/d|) / (σ_min/σ_max)(Φ_t))``, ε of the
        run's precision: the rounding of L_t = Φ̇_tΦ_t⁻¹ (measured ≤ 32 ε of that scale over random float32
        models). A fixed −10⁻⁹ took the float32 rounding of a zero rate (−1.3·10⁻⁷) for backflow, and so would
        float64 at energies of 10⁸ (docs/assignment.md §3).

        At a singular grid time (``singular``: Φ_t not invertible, rates NaN) L_t does not exist, so it belongs
        to no interval and ends any interval it falls in; a ``RuntimeWarning`` names such times (they are in
        ``peak_times`` too). The dynamics is not divisible across such a time wherever Φ_t regains rank after it
        (no linear map takes Φ_{t*} to Φ_t), whatever the signs of the rates around it."""
        rates = np.asarray(self.rates)
        if rates.shape[-1] == 0:  # d_S = 1: no canonical rates, no backflow (a reduction over them raised)
            return []
        undefined = np.any(np.isnan(rates), axis=-1)
        if np.any(undefined):
            warnings.warn(
                f"the canonical rates are undefined (Φ_t singular) at {int(np.sum(undefined))} grid time(s), first "
                f"{np.asarray(self.times)[undefined][:3].tolist()}: left out of the non-Markovian intervals, which "
                "end there; the dynamics is not divisible across them where Φ_t regains rank",
                RuntimeWarning,
                stacklevel=2,
            )
        safe = np.where(np.isnan(rates), 0.0, rates)
        k = np.asarray(self.hamiltonian)
        d = k.shape[-1]
        traceless = k - np.trace(k, axis1=-2, axis2=-1)[..., None, None] / d * np.eye(d)
        scale = np.max(np.abs(safe), axis=-1) + np.max(np.abs(np.nan_to_num(traceless)), axis=(-2, -1))
        with np.errstate(divide="ignore", invalid="ignore"):  # σ_min/σ_max = 0 or NaN: singular, undefined above
            tol = np.maximum(
                1e-9, RATE_ROUNDING * np.finfo(rates.dtype).eps * scale / np.asarray(self.inverse_condition)
            )
        negative = np.where(undefined, False, np.min(safe, axis=-1) < -tol)
        return grid_intervals(np.asarray(self.times), negative)

    @property
    def peak_times(self) -> np.ndarray:
        """Times where K_S peaks, sorted: where Φ_t is (nearly) non-invertible (``singular``, ``singular_nodes``),
        and the grid's interior local minima of σ_min/σ_max(Φ_t), the near-peaks of a sharp but finite K_S
        that fall between samples (for ``refine_times``; docs/assignment.md §3)."""
        grid = np.asarray(self.times)[np.asarray(self.singular)]
        nodes = np.asarray(self.nodes)[np.asarray(self.singular_nodes)]
        near = local_minimum_times(self.times, self.inverse_condition)
        return np.unique(np.concatenate([grid, nodes, near]))


@global_model
def minimal_dissipation(
    model: GlobalModel,
    rho_s0,
    rho_env,
    times,
    *,
    order: int = 4,
    rcond: float = 1e-8,
    trace=None,
    quadrature_tol=None,
    estimate_error: bool = True,
) -> MinimalDissipation:
    """Minimal-dissipation U^md, Q^md, W^md of the system for ρ(0) = ρ_S ⊗ ρ_E ([CB22]; docs/assignment.md).

    K_S(t) is the Hamiltonian of the canonical form of L_t = Φ̇_t Φ_t^{−1}. Convention for its
    undetermined multiple of the identity: ``Tr K_S = trace``, default ``Tr H_S`` (so
    K_S = K_traceless + (Tr H_S/d)·1, and K_S(0) = H_S when Tr_E(H_I ρ_E) = 0); Q^md does not
    depend on it. Q^md = ∫Tr{K_S ρ̇_S} uses composite Gauss–Legendre quadrature with ``order``
    nodes per interval of ``times`` (error O(h^{2·order}) for smooth K_S); W^md = ΔU^md − Q^md.
    ``quadrature_error`` estimates its error at every grid time: the rule of ``order + 1`` nodes runs on
    the same intervals and ``Σ |G_order − G_{order+1}|`` up to t is reported (docs/assignment.md §6;
    ``order + 1`` more evaluations per interval, two to three times the cost). With ``quadrature_tol``
    set, a ``RuntimeWarning`` (outside ``jit``) names the intervals to refine when the estimate exceeds it.

    Times where ``σ_min(Φ_t)/σ_max(Φ_t) < rcond`` (grid or quadrature nodes) are flagged in
    ``singular``/``singular_nodes`` and ``peak_times``; there K_S and U^md are NaN, and Q^md,
    W^md are NaN from that interval on. A ``RuntimeWarning`` names those times (outside ``jit``).

    Args:
      model: :class:`GlobalModel`.
      rho_s0: (d_S, d_S) initial system state.
      rho_env: (d_E, d_E) initial environment state.
      times: (T,) non-decreasing, ≥ 0.
      order: Gauss–Legendre nodes per interval (positive integer).
      rcond: threshold on σ_min(Φ_t)/σ_max(Φ_t), a finite number in (0, 1); at least 100 ε of the run's precision is
        used (1.2e-5 in float32, where σ_min/σ_max is rounding below ≈ 1e-7; docs/assignment.md §3).
      trace: Tr K_S, a finite real scalar (default Tr H_S).
      quadrature_tol: None (default: warn only where the estimate exceeds a tenth of the largest |Q^md|
        plus √ε: no reliable digit, docs/assignment.md §3) or a finite number > 0: warn when ``quadrature_error``
        exceeds it anywhere on the grid.
      estimate_error: False skips the check rule (``order`` instead of ``2·order + 1`` evaluations per
        interval, for sweeps where speed matters); ``quadrature_error`` is then NaN.
    """
    _require_constant(model)
    check_quadrature_tol(quadrature_tol, estimate_error)
    d_s, d_e = model.dims
    check_time_grid(times)
    order = check_positive_int(order, "order")
    check_rcond(rcond)
    rho_s0, rho_env = one_state(rho_s0, "rho_s0", d_s), one_state(rho_env, "rho_env", d_e)
    cdt = complex_dtype_for(jnp.result_type(jnp.asarray(rho_s0).dtype, jnp.asarray(rho_env).dtype))  # the states'
    rho_s0 = jnp.asarray(rho_s0).astype(cdt)
    rho_env = jnp.asarray(rho_env).astype(cdt)
    times = jnp.asarray(times).astype(jnp.real(rho_s0).dtype)  # precision; the times follow it (README "Precision")
    given = trace is not None
    if trace is None:
        trace = jnp.real(jnp.trace(jnp.asarray(model.h_system)))
    check_real_scalar(trace, "trace")
    if given and stages(trace):  # staged under validate="always" (the default follows h_system, checked there)
        check_finite(trace, "trace")
    # in the run's precision: canonical_form computes in the dtype of trace (a Python 0.0 is float64)
    trace = jnp.asarray(trace).astype(jnp.real(rho_s0).dtype)
    warn_phase_rounding(model.hamiltonian(cdt), times, times.dtype)
    rcond = resolvable_rcond(rcond, times.dtype)
    result = _minimal_dissipation_core(model, rho_s0, rho_env, times, trace, rcond, order, bool(estimate_error))
    warn_singular(result.singular, result.singular_nodes, result.times, result.nodes, "Φ_t")
    warn_quadrature_error(
        result.quadrature_error,
        result.times,
        quadrature_tol,
        values=result.assignment.heat,
    )
    return result


class _MapSlice(NamedTuple):
    """Everything :func:`minimal_dissipation` needs at one time."""

    hamiltonian: jnp.ndarray  # K_S(t)
    rates: jnp.ndarray  # γ_k(t)
    state: jnp.ndarray  # ρ_S(t)
    state_derivative: jnp.ndarray  # ρ̇_S(t)
    inverse_condition: jnp.ndarray  # σ_min/σ_max of Φ_t
    det_sign: jnp.ndarray  # sign of det Φ_t (real: Φ_t preserves Hermiticity)


@partial(jax.jit, static_argnames=("order", "estimate_error"))
def _minimal_dissipation_core(model, rho_s0, rho_env, times, trace, rcond, order, estimate_error=True):
    d_s, d_e = model.dims
    cdt = rho_s0.dtype
    h = model.hamiltonian(cdt)
    w, v = spectral_decomposition(h)
    n = d_s * d_s

    def at_time(t) -> _MapSlice:
        u, u_dot = _propagator_and_derivative(h, w, v, t)
        phi, phi_dot = _map_from_propagator(u, u_dot, rho_env, (d_s, d_e))
        rc = inverse_condition(phi)
        gen = _generator_from_map(phi, phi_dot)
        images = map_images(partial(apply_superoperator, gen), d_s, gen.dtype)
        form = canonical_form_of_images(images, d_s, trace, gen.dtype)
        rho = (phi @ rho_s0.reshape(n)).reshape(d_s, d_s)
        rho_dot = (phi_dot @ rho_s0.reshape(n)).reshape(d_s, d_s)
        sign = jnp.real(jnp.linalg.slogdet(jax.lax.stop_gradient(phi))[0])
        return _MapSlice(form.hamiltonian, form.rates, rho, rho_dot, rc, sign)

    k, rates, rho, _, rc, sign = jax.lax.map(at_time, times)
    nodes, weights, check, points = heat_rule_points(times, order, estimate_error)
    n_q = nodes.size  # both rules' nodes in one pass
    both = jax.lax.map(at_time, points)
    k_n, _, _, rho_dot_n, rc_n, sign_n = jax.tree_util.tree_map(lambda x: x[:n_q], both)
    heat_rate_c = expectation(both.hamiltonian[n_q:], both.state_derivative[n_q:])
    shape = nodes.shape
    # NaN (Φ_t not finite) counts as singular: rc < rcond is False for NaN, and K_S was NaN without a word
    singular = ~(rc >= rcond)
    singular_nodes = ~(rc_n >= rcond).reshape(shape) | sign_change_nodes(sign, sign_n.reshape(shape))
    energy = expectation(k, rho)
    heat_rate = expectation(k_n, rho_dot_n).reshape(shape)
    assignment = minimal_dissipation_assignment(energy, heat_rate, weights, singular, singular_nodes)
    error = heat_error(assignment.heat, heat_rate, weights, check, heat_rate_c)
    k = jnp.where(singular[:, None, None], jnp.nan, k)
    rates = jnp.where(singular[:, None], jnp.nan, rates)
    return MinimalDissipation(times, k, rho, rates, assignment, rc, singular, singular_nodes, nodes, error)


def sign_change_nodes(sign_grid, sign_nodes):
    """(T−1, order) quadrature nodes next to a sign change of det Φ_t between consecutive samples.

    Φ_t preserves Hermiticity, so its matrix in a basis of Hermitian operators is real and det Φ_t is real: it
    changes sign where Φ_t passes through a singular point, which generically falls between the samples (the
    grid and the nodes), where σ_min/σ_max never drops below ``rcond``. K_S diverges there like 1/(t − t_0) and
    the integral of Q^md through it is undefined (a random 2 ⊗ 3 model with two such points on [0, 12]
    gave Q^md(12) = −8.96, −0.64 or 0.81 on 13, 1201 or 4801 grid points, none flagged). The nodes on each
    side of the change are flagged (docs/assignment.md §3); an even number of changes between two samples
    cancels and stays unseen.
    """
    seq = jnp.concatenate([sign_grid[:-1, None], sign_nodes, sign_grid[1:, None]], axis=1)  # (T−1, order+2)
    flips = seq[:, 1:] * seq[:, :-1] < 0  # between consecutive samples, (T−1, order+1)
    return flips[:, :-1] | flips[:, 1:]


def warn_singular(singular, singular_nodes, times, nodes, what: str) -> None:
    """Warn (outside jit) naming the times where ``what`` is (nearly) non-invertible.

    The times are read without their derivative (``stop_gradient``), so this also runs under
    ``jax.grad`` with respect to the time grid outside ``jit``; inside ``jit`` it is skipped."""
    times, nodes = jax.lax.stop_gradient((times, nodes))
    if not all(should_validate(x) for x in (singular, singular_nodes, times, nodes)):
        return
    grid = np.asarray(times)[np.asarray(singular)]
    inner = np.asarray(nodes)[np.asarray(singular_nodes)]
    bad = np.sort(np.concatenate([grid, inner]))
    if bad.size:
        warnings.warn(
            f"{what} is (nearly) non-invertible or not finite at {bad.size} time(s), first {bad[:5].tolist()}: "
            "K_S diverges there (minimal-dissipation peak); U^md is NaN there and Q^md, W^md from there on",
            RuntimeWarning,
            stacklevel=3,
        )
