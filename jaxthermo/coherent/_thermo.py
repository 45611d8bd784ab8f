"""Energetics and entropy production of model B (docs/coherent.md; [WCCM] eqs. (3), (12)–(17), (19)–(20)).

Rates (continuous-time limit), per species j:

    Ẇ_C^j = iλ_j⟨[G_j, H_S]⟩         coherent work
    Q̇_inc^j = Tr[H_S D_j(ρ)]          incoherent heat
    d⟨H_S⟩/dt = Σ_j (Ẇ_C^j + Q̇_inc^j)   modified first law (eqs. (13), (19))
    Π = Ṡ(ρ_S) − Σ_j β_j Q̇_inc^j     entropy production rate (eqs. (17), (20)); one species: β(Ẇ_C − Ḟ).

Per collision (finite τ): Σ = I(ρ_SA') + S(ρ_A'‖ρ_A) ≥ 0 (eq. (3)) and, to leading order in τ,
I = −βΔF − ΔC_A (eq. (14)), S(ρ_A'‖ρ_A) = βW_C + ΔC_A (eq. (15)) with W_C = Ẇ_C τ, hence
βW_C ≥ −ΔC_A (eq. (16)). Coherence C is the relative entropy of coherence in the eigenbasis of H_A.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._dtypes import as_complex, as_real
from .._information import (
    entropy_rate_along,
    graded_lower_bound,
    mutual_information,
    relative_entropy,
    resolved_log,
    support_tolerance,
    von_neumann_entropy,
)
from .._qudit import commutator, dagger, expectation, gibbs_populations
from .._qutip import qobj_inputs
from .._validation import is_concrete, value_checks_enabled
from ._master import _coherent_drive, _dissipator, _master_equation_rhs, _species_generator
from ._model import (
    _ancilla_state,
    _pinching_parts,
    at_state_precision,
    centered,
    centered_eigh,
    check_collision_phase,
    complex_dtype,
    model_b,
    pinching,
    require_single_species,
    system_state,
)
from ._stroboscopic import _collide, collision_inputs


def _per_species(model, rate, rho):
    """``rate(species, ρ)`` per species of one model: its value for a single-species model, else
    stacked on a last axis m (after the batch axes of ρ)."""
    values = [rate(s, rho) for s in model.species]
    return values[0] if len(values) == 1 and model.species[0] is model else jnp.stack(values, axis=-1)


def _h_s(model, cdt):
    """H_S − (Tr H_S/d)·1: the rates are expectations of traceless operators ([G, H_S], D(ρ), ρ̇), so an energy
    offset c·1 of H_S changes nothing but their rounding (ε·c, 7e-12 of ⟨H_S⟩' at c = 10⁶), which this removes."""
    return centered(as_complex(model.H_S, cdt))


def _coherent_work(s, rho):
    cdt = complex_dtype(s)
    lam = as_real(s.lam, cdt)
    return lam * expectation(1j * commutator(_coherent_drive(s), _h_s(s, cdt)), rho.astype(cdt))


def _incoherent_heat(s, rho):
    cdt = complex_dtype(s)
    return expectation(_h_s(s, cdt), _dissipator(s, rho.astype(cdt)))


def _ancilla_heat(s, rho):
    cdt = complex_dtype(s)
    return -expectation(_h_s(s, cdt), _species_generator(s, rho.astype(cdt)))


@model_b
def coherent_work_rate(model, rho) -> jnp.ndarray:
    """``Ẇ_C = iλ⟨[G, H_S]⟩`` ([WCCM] eq. (12)): scalar, or (m,) per species for a multi-species model.

    Every rate function here takes one model and ρ (..., d_S, d_S): leading batch axes of ρ are kept
    (per-species values then have shape (..., m)); a batch of models is refused with ``ValueError``
    (use :func:`~jaxthermo.coherent.map_over_models`), and so is a ρ that is not a (batch of) density
    matrices of dimension d_S (``ValueError`` naming ``rho``)."""
    model = at_state_precision(model, rho)
    return _per_species(model, _coherent_work, system_state(model, rho, "coherent_work_rate"))


@model_b
def incoherent_heat_rate(model, rho) -> jnp.ndarray:
    """``Q̇_inc = Tr[H_S D(ρ)]`` ([WCCM] eq. (12)): scalar, or (m,) per species."""
    model = at_state_precision(model, rho)
    return _per_species(model, _incoherent_heat, system_state(model, rho, "incoherent_heat_rate"))


@model_b
def ancilla_heat_rate(model, rho) -> jnp.ndarray:
    """``Q̇_j = −(Ẇ_C^j + Q̇_inc^j)``: energy flowing into the ancillae of each species per unit time
    in the limit τ → 0 ([WCCM] eq. (19)); computed from the species' own generator. The sign is
    [WCCM]'s Q_A (``ancilla_heat``), the opposite of heat into the system."""
    model = at_state_precision(model, rho)
    return _per_species(model, _ancilla_heat, system_state(model, rho, "ancilla_heat_rate"))


@model_b
def energy_rate(model, rho) -> jnp.ndarray:
    """``d⟨H_S⟩/dt = Tr[H_S ρ̇]`` from the master equation (the left side of [WCCM] eq. (13))."""
    model = at_state_precision(model, rho)
    return _energy_rate(model, system_state(model, rho, "energy_rate"))


def _energy_rate(model, rho):
    cdt = complex_dtype(model)
    return expectation(_h_s(model, cdt), _master_equation_rhs(model, rho))


@model_b
def entropy_rate(model, rho) -> jnp.ndarray:
    """``Ṡ(ρ_S) = −Tr(ρ̇ log ρ)`` along the master equation (:func:`jaxthermo._information.entropy_rate_along`).

    +∞ at a rank-deficient ρ whose kernel the dynamics populates (e.g. the ground state when
    β < ∞: the empty level fills like γ⁺t and ``S ≈ −γ⁺t log γ⁺t``); every derivative of it is
    then NaN (flagged, never a finite-looking number). Finite at full rank and at stationary
    pure states, however cold the bath: a ρ certified full rank from its diagonal (thermal and steady
    states in the energy basis, populations e^{−βΔE} ≪ 1e-12 included) has every eigenvalue enter with
    its logarithm; otherwise eigenvalues below the rounding floor ``min(16dε, 1e-12)·‖ρ‖`` are its
    kernel (docs/information.md §4, docs/coherent.md §7)."""
    model = at_state_precision(model, rho)
    return _entropy_rate(model, system_state(model, rho, "entropy_rate"))


def _entropy_rate(model, rho):
    return _flagged_entropy_rate(rho, _master_equation_rhs(model, rho))


@model_b
def entropy_production_rate(model, rho) -> jnp.ndarray:
    """``Π = Ṡ(ρ_S) − Σ_j β_j Q̇_inc^j`` ([WCCM] eqs. (17), (20)): scalar per state (batch axes of ρ kept).

    +∞ (with NaN derivatives) where :func:`entropy_rate` is +∞."""
    model = at_state_precision(model, rho)
    rho = system_state(model, rho, "entropy_production_rate")
    q = jnp.stack([_incoherent_heat(s, rho) for s in model.species], axis=-1)
    betas = jnp.stack([as_real(s.beta, complex_dtype(s)) for s in model.species])
    return _entropy_rate(model, rho) - jnp.sum(betas * q, axis=-1)


@model_b
def free_energy_rate(model, rho) -> jnp.ndarray:
    """``Ḟ = d⟨H_S⟩/dt − Ṡ/β`` for a single species at inverse temperature β ([WCCM] eq. (17)).

    −∞ (with NaN derivatives) where :func:`entropy_rate` is +∞. At β = 0 (infinite temperature) the limit
    β → 0⁺: ∓∞ by the sign of Ṡ, and d⟨H_S⟩/dt where Ṡ = 0."""
    model = at_state_precision(model, rho)
    require_single_species(model, "free_energy_rate")
    rho = system_state(model, rho, "free_energy_rate")
    beta = as_real(model.beta, complex_dtype(model))
    return _energy_rate(model, rho) - _over_beta(_entropy_rate(model, rho), beta)


def _over_beta(entropy, beta):
    """``S/β`` for the free energy ``U − S/β``, as the limit β → 0⁺ at β = 0: ±∞ by the sign of S, and 0 where S = 0
    (0/0 was NaN: Ḟ and ΔF of a stationary state at infinite temperature); the derivatives of S/β elsewhere."""
    zero = (entropy == 0) & (beta == 0)
    return jnp.where(zero, 0.0, entropy / jnp.where(zero, 1.0, beta))


def _nan_derivative_where_infinite(fn):
    """``fn`` whose every derivative is NaN where its value is infinite, in forward and reverse mode."""

    @jax.custom_jvp
    def flagged(*args):
        return fn(*args)

    @flagged.defjvp
    def flagged_jvp(primals, tangents):
        value, dvalue = jax.jvp(fn, primals, tangents)
        flag = jnp.where(jnp.isfinite(value), 0.0, jnp.nan).astype(dvalue.dtype)
        # linear in the tangents (so reverse mode transposes it) and NaN at ±∞ whatever they are
        poison = flag * sum(jnp.sum(jnp.real(t)) for t in tangents)
        return value, dvalue + poison

    return flagged


# Ṡ = −Tr(ρ̇ log ρ), +∞ where ρ̇ feeds the kernel of ρ (its unresolved eigenvalues, docs/information.md §4)
_flagged_entropy_rate = _nan_derivative_where_infinite(entropy_rate_along)


def _ancilla_relative_entropy(rho_out, rho_a, h_a, beta, chi, s):
    """``S(ρ_A'‖ρ_A)`` of one collision, finite wherever ρ_A > 0, however small its populations (docs/coherent.md §1, §7).

    ``rho_a = ρ_th + s χ`` with ``s = √τ λ``. A fixed 1e-12 support tolerance made a cold ancilla
    (βΔE_A ≳ 28, where ρ_th is still full rank) +∞. The generic :func:`~jaxthermo._information.relative_entropy`
    certifies full rank from the diagonal of ρ_A in the basis it is given in; for an H_A not diagonal there,
    neither that diagonal (large and small populations mixed: M nearly singular, +∞) nor ρ_A rotated to H_A's
    eigenbasis in floating point (populations off by ~ε absolute: 1.3e-17 for 4.2e-18 at βΔE_A = 40) serves.
    Here the same bound (:func:`~jaxthermo._information.graded_lower_bound`, the
    clipped logarithm :func:`~jaxthermo._information.log_resolved`) takes the analytic populations p and
    M = 1 + s D^{−1/2}χD^{−1/2} formed in H_A's eigenbasis:

    * s = 0: the value ``S(ρ'‖ρ_th) = −S(ρ') + β(⟨H_A⟩_ρ' − E_0) + log Z'``, since ``log ρ_th = −β(H_A − E_0) − log Z'``
      (``Z' = Σ_j e^{−β(E_j − E_0)}``, E_0 the lowest level for β ≥ 0, the highest for β < 0), exact at every β; its derivatives (of every
      order, in s too) are those of the form below;
    * inside the allowed range: ``−S(ρ') − Tr ρ' log ρ_A``, the eigenvalues of ρ_A clipped from below at
      ``μ_min(M)·p_min/2``, below a lower bound on them (ρ_A = D^{1/2} M D^{1/2} in the eigenbasis of H_A with
      D = diag(p), M = 1 + s D^{−1/2}χD^{−1/2}), not at a fixed 1e-12;
    * at the edge (μ_min(M) below the support tolerance, ρ_A singular): the generic divergence, +∞
      where ρ_A' leaves the support of ρ_A.
    """
    cdt = rho_a.dtype
    e = jnp.linalg.eigvalsh(h_a)
    # the level the exponents are measured from: the lowest for β ≥ 0, the highest for β < 0, so −β(E_j − E_0) ≤ 0
    # and β⟨H_A − E_0⟩ + log Z' does not cancel ±β(E_max − E_min) (β = −30: S(ρ'‖ρ_th) = −7e-15 for 7e-17)
    e0 = jax.lax.stop_gradient(jnp.where(beta >= 0, e[0], e[-1]))
    log_z = jax.scipy.special.logsumexp(-beta * (e - e0))
    entropy_out = von_neumann_entropy(rho_out)
    # ⟨H_A − E_0⟩ from H_A − E_0·1: ⟨H_A⟩ − E_0 lost ε·E_0 to cancellation (an offset of H_A)
    shifted = h_a - e0.astype(h_a.dtype) * jnp.eye(h_a.shape[-1], dtype=h_a.dtype)
    thermal = -entropy_out + beta * expectation(shifted, rho_out) + log_z
    # positivity margin μ_min(M) and the lower bound μ_min(M)·p_min on the spectrum of ρ_A (no derivatives)
    sg = jax.lax.stop_gradient
    e_c, u, keep = sg(_pinching_parts(h_a))
    p = gibbs_populations(e_c, sg(beta))
    root = jnp.sqrt(p)
    pos = root > 0
    inv = jnp.where(pos, 1.0 / jnp.where(pos, root, 1.0), 0.0).astype(cdt)
    k = jnp.where(keep, 0.0, dagger(u) @ sg(chi) @ u) * inv[:, None] * inv[None, :]
    s_c = sg(s)
    # the bound of jaxthermo._information's resolved spectrum, with the analytic p and M (strictly below λ_min)
    margin, floor = graded_lower_bound(jnp.eye(k.shape[-1], dtype=cdt) + s_c.astype(cdt) * k, p)

    def cross(rho, sigma):  # every eigenvalue, clipped at floor
        log_sigma = resolved_log(sigma, jnp.full_like(floor, -jnp.inf), floor)
        return jnp.real(jnp.einsum("...ij,...ji->...", rho, log_sigma))

    coherent = -entropy_out - cross(rho_out, rho_a)
    at_zero = (
        sg(thermal) + coherent - sg(coherent)
    )  # the thermal value, the derivatives of every order of the generic form
    edge = margin <= support_tolerance(cdt)
    return jnp.where(s_c == 0, at_zero, jnp.where(edge, relative_entropy(rho_out, rho_a), coherent))


# S(ρ_A'‖ρ_A), +∞ (with NaN derivatives) where ρ_A' leaves the support of ρ_A
_flagged_ancilla_relative_entropy = _nan_derivative_where_infinite(_ancilla_relative_entropy)


class CollisionThermodynamics(NamedTuple):
    """Entropy and energy terms of one collision ([WCCM] eqs. (3), (14)–(16)), all scalars.

    ``residual_information = I + βΔF + ΔC_A`` (βΔF taken as βΔU − ΔS, finite at β = 0 where
    ``free_energy_change`` is ∓∞ by the sign of ΔS, and ΔU where ΔS = 0: the limit β → 0⁺) and ``residual_relative_entropy =
    S(ρ_A'‖ρ_A) − βW_C − ΔC_A`` vanish to leading order in τ; ``bound_margin = βW_C + ΔC_A``
    is ≥ 0 by eq. (16). The first is computed as ``S(Δ_H[ρ_A']) − S(Δ_H[ρ_A]) + βΔU``, equal since
    S(ρ_SA') = S(ρ_S) + S(ρ_A) for a unitary collision of a product state: the −S(ρ_SA') of I and the S(ρ_A) of
    ΔC_A, whose derivatives diverge where ρ_A is singular (λ at an edge of the allowed range), cancel exactly.
    """

    mutual_information: jnp.ndarray
    ancilla_relative_entropy: jnp.ndarray
    coherence_change: jnp.ndarray
    free_energy_change: jnp.ndarray
    coherent_work: jnp.ndarray
    entropy_production: jnp.ndarray
    residual_information: jnp.ndarray
    residual_relative_entropy: jnp.ndarray
    bound_margin: jnp.ndarray


@model_b
@qobj_inputs("rho")
def collision_thermodynamics(model, rho, n_species: int = 1) -> CollisionThermodynamics:
    """Σ, I(ρ_SA'), S(ρ_A'‖ρ_A), ΔC_A, ΔF, W_C = Ẇ_C τ and the residuals of [WCCM] eqs. (14)–(15) for one
    collision of ρ_S (d_S, d_S) with a fresh ancilla of the single-species ``model``.

    ``F = ⟨H_S⟩ − S(ρ_S)/β`` with the ancillae's β; W_C is evaluated on the incoming ρ_S.

    A :class:`~jaxthermo.coherent.MultiSpeciesModel` is refused; :func:`cycle_thermodynamics` gives its cycle.

    Positivity edge (λ = λ_max or λ_min of :func:`~jaxthermo.coherent.allowed_lambda_range`, where ρ_A is
    singular and the outgoing ancilla leaves its support): ``ancilla_relative_entropy``,
    ``entropy_production`` and ``residual_relative_entropy`` are +∞, and every derivative of them
    (``jax.grad``, ``jax.jvp``, ``jax.jacfwd``) is NaN — flagged, never a finite-looking number. The
    other fields keep finite derivatives in forward mode and under ``jax.grad`` of that field; reverse
    mode over the whole tuple at once (``jax.jacrev``) spreads the NaN to every row (a zero cotangent
    times NaN), so take ``jax.jacfwd`` there.
    """
    model = at_state_precision(model, rho)
    rho, n_species = collision_inputs(model, rho, "collision_thermodynamics", n_species)
    out, eta, _ = _collision_thermodynamics(model, rho, n_species)
    _warn_outside_expansion(eta)
    return out


@model_b
@qobj_inputs("rho")
def cycle_thermodynamics(model, rho) -> CollisionThermodynamics:
    """The terms of :func:`collision_thermodynamics` for each of the m collisions of one :func:`cycle` of ρ_S.

    Species j at its own β_j, the collision lasting τ/m with V_j·m/√τ (W_C^j = Ẇ_C^j τ), on the state the
    collisions before it left; every field has a last axis m (after the batch axes of ρ), one species included
    (m = 1). The cycle's entropy production is ``.entropy_production.sum(-1)`` = I(S : A_1…A_m)' +
    S(ρ_{A_1…A_m}'‖⊗_j ρ_{A_j}) = ΔS_S − Σ_j Tr[(ρ_{A_j}' − ρ_{A_j}) log ρ_{A_j}] ≥ 0, and Σ/τ → Π of
    :func:`entropy_production_rate` as τ → 0 ([WCCM] eqs. (3), (20); docs/coherent.md §9).
    """
    model = at_state_precision(model, rho)
    rho = system_state(model, rho, "cycle_thermodynamics")
    for s in model.species:
        check_collision_phase(s, len(model.species))
    out, eta = _cycle_thermodynamics(model, rho)
    _warn_outside_expansion(eta)
    return out


@jax.jit
def _cycle_thermodynamics(model, rho):
    """The terms of :func:`collision_thermodynamics` for each collision of one cycle of a MultiSpeciesModel, each on
    the system state the previous collisions left (as :func:`~jaxthermo.coherent.cycle`), stacked on a last axis m;
    η the largest of the species'."""
    m = len(model.species)
    outs, etas = [], []
    for s in model.species:
        out, eta, rho = _collision_thermodynamics(s, rho, m)
        outs.append(out)
        etas.append(eta)
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x, axis=-1), *outs), jnp.max(jnp.stack(etas))


# η above which the leading-order identities of [WCCM] eqs. (14)–(16) are not trusted (docs/coherent.md §8)
EXPANSION_LIMIT = 0.1


def _warn_outside_expansion(eta) -> None:
    """``UserWarning`` naming η when the expansion parameter of a concrete evaluation exceeds ``EXPANSION_LIMIT``
    (docs/coherent.md §8): the residuals are then no longer small against the terms (at β = 50, τ = 0.01 the
    residual equals S(ρ_A'‖ρ_A) itself, 0.12, with βW_C + ΔC_A ≈ 0)."""
    if not is_concrete(eta) or not value_checks_enabled():
        return
    worst = float(jnp.max(eta))
    if not worst <= EXPANSION_LIMIT:
        warnings.warn(
            f"collision_thermodynamics: expansion parameter eta = max|(rho_A' - rho_th)_ij|/sqrt(p_i p_j) = "
            f"{worst:.3g} > {EXPANSION_LIMIT} (the ancilla's relative change, in the eigenbasis of H_A with p its "
            "thermal populations): the leading-order identities of [WCCM] eqs. (14)-(16) (residual_information, "
            "residual_relative_entropy, bound_margin) do not hold; the exact Sigma, I and S(rho_A'||rho_A) are "
            "unaffected. eta ~ tau g^2/p_min + sqrt(tau)|lam| max|K|: take a smaller tau or lam",
            UserWarning,
            stacklevel=4,  # the caller of collision_thermodynamics (under its qobj_inputs wrapper)
        )


def _expansion_parameter(rho_out, h_a, beta):
    """η = max_ij |(ρ_A' − ρ_th)_ij|/√(p_i p_j) in the eigenbasis of H_A (p its thermal populations, from their
    logarithms: finite where they underflow): the relative change of the ancilla around which [WCCM] (S33)–(S40)
    expand log ρ. Entries within the rounding 16·d·ε of ρ_A' are dropped. No derivatives."""
    sg = jax.lax.stop_gradient
    rho_out, h_a, beta = sg(rho_out), sg(h_a), sg(beta)
    e, u = centered_eigh(h_a)
    log_p = jax.nn.log_softmax(-beta * (e - e[..., :1]), axis=-1)
    d = dagger(u) @ rho_out @ u - jnp.diag(jnp.exp(log_p)).astype(rho_out.dtype)
    size = jnp.abs(d)
    floor = 16 * d.shape[-1] * float(jnp.finfo(size.dtype).eps)
    keep = size > floor
    log_ratio = jnp.log(jnp.where(keep, size, 1.0)) - 0.5 * (log_p[..., :, None] + log_p[..., None, :])
    return jnp.exp(jnp.max(jnp.where(keep, log_ratio, -jnp.inf), axis=(-2, -1)))


@partial(jax.jit, static_argnames="n_species")
def _collision_thermodynamics(model, rho, n_species: int):
    cdt = complex_dtype(model)
    beta = as_real(model.beta, cdt)
    c = _collide(model, rho, n_species)
    rho_a = _ancilla_state(model)
    info = mutual_information(c.joint, model.dims)
    s_amp = jnp.sqrt(as_real(model.tau, cdt)) * as_real(model.lam, cdt)
    h_a, chi = as_complex(model.H_A, cdt), as_complex(model.chi, cdt)
    rel = _flagged_ancilla_relative_entropy(c.ancilla, rho_a, h_a, beta, chi, s_amp)
    # S(Δ_H[ρ_A']) and S(Δ_H[ρ_A]): ΔC_A and the residual below from the same two entropies
    s_dephased_out = von_neumann_entropy(pinching(c.ancilla, model.H_A))
    s_dephased = von_neumann_entropy(pinching(rho_a, model.H_A))
    dc = (s_dephased_out - von_neumann_entropy(c.ancilla)) - (s_dephased - von_neumann_entropy(rho_a))
    ds = von_neumann_entropy(c.system) - von_neumann_entropy(rho)
    df = c.energy_change - _over_beta(ds, beta)
    wc = _coherent_work(model, rho) * as_real(model.tau, cdt)
    eta = _expansion_parameter(c.ancilla, h_a, beta)
    return (
        CollisionThermodynamics(
            mutual_information=info,
            ancilla_relative_entropy=rel,
            coherence_change=dc,
            free_energy_change=df,
            coherent_work=wc,
            entropy_production=info + rel,
            # I + βΔU − ΔS + ΔC_A with S(ρ_SA') = S(ρ_S) + S(ρ_A) (a unitary on a product): no S(ρ_A), whose
            # derivative diverges at the edge of the λ range, and finite at β = 0
            residual_information=s_dephased_out - s_dephased + beta * c.energy_change,
            residual_relative_entropy=rel - beta * wc - dc,
            bound_margin=beta * wc + dc,
        ),
        eta,
        c.system,
    )
