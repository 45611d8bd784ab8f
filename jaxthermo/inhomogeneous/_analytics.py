"""Ensemble analytics of model A: averaged state and dynamics, exact mean energetics, small-δ
expansions, the sin²θ = c N^{−ξ} scaling and the ε of the approximate second laws
(docs/inhomogeneous.md).

All functions take the model (d, β, g0, θ, kind) and a distribution G(δ) (a :class:`Distribution`:
``Gaussian``, ``Uniform``, ``TwoPoint``, ``Empirical`` or a user's own; by default ``model.distribution``) and integrate over
G by its own quadrature or exact sum. Nothing here samples: these are the deterministic
references that the Monte-Carlo routes are tested against.
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._collision import Energetics
from .._dtypes import as_state, cast_floats, float_dtype_of, real_dtype_for
from .._host import check_untraced
from .._information import trace_distance
from .._qudit import populations
from .._validation import (
    check_nonnegative,
    check_numeric,
    check_positive_int,
    check_real_scalar,
    should_validate,
)
from ._distributions import check_distribution, is_centred, stage_scale_checks
from ._dynamics import (
    CollisionStep,
    Trajectory,
    _check_theta,
    _check_trajectory_coupling,
    _collide,
    _partial_swap,
    _require_scalar_theta,
    _validate,
)
from ._model import (
    ExactUnitary,
    InhomogeneousReservoir,
    PartialSwap,
    has_closed_form,
    level_offsets,
    model_a,
    reservoir_populations,
)


@model_a
def distribution_of(model: InhomogeneousReservoir, distribution=None):
    """The distribution G(δ) to use: ``distribution`` if given, else ``model.distribution``.

    A given law gets the checks it would get in the model (:class:`InhomogeneousReservoir`: overflow of
    the reservoir's parameters over the law's δ's, ``ValueError``; the temperature kind's β_r < 0, a
    warning): passed here it bypassed them (β = 10³⁰⁰ with Gaussian(10¹⁰): τ̄ = (½, ½) and W̄ = NaN without
    a word; kind="temperature" with Uniform(3): no warning of β_r < 0)."""
    check_distribution(distribution)
    if distribution is not None and distribution is not model.distribution:
        model.replace(distribution=distribution)  # the constructor's checks, with this law
    distribution = model.distribution if distribution is None else distribution
    if distribution is None:
        raise ValueError(
            "distribution: this ensemble function needs G(δ); pass distribution=... or build "
            "InhomogeneousReservoir(..., distribution=Gaussian(sigma))"
        )
    stage_scale_checks(distribution)  # a traced σ < 0 (jax.grad over the model) under validate="always"
    return distribution


@model_a
def averaged_reservoir_populations(model: InhomogeneousReservoir, distribution=None):
    """Populations of τ̄ = ∫ G(δ) τ(δ) dδ (docs/inhomogeneous.md), shape (d,).

    [ATO-preprint] eq. (10): an ensemble of configurations drawn afresh acts as if every reservoir qudit
    were in τ̄. For qubits τ̄ is thermal at a higher temperature; for d > 2 in general it is not.
    """
    distribution = distribution_of(model, distribution)
    return over_reservoir_qudits(model, distribution, lambda deltas: reservoir_populations(model, deltas))


def over_reservoir_qudits(model: InhomogeneousReservoir, distribution, f, kink_at_zero: bool = False):
    """``∫ G(δ) f(δ) dδ`` for an ``f`` built from τ(δ). For either kind τ(δ) depends on δ through
    x = βg0(1 + δ) and turns from the ground state to the inverted one around δ = −1, within
    36/|βg0| (a relative e⁻³⁶ ≈ 2·10⁻¹⁶ beyond); its populations are analytic within 2π/(d|βg0|)
    of the real axis, so 6d panels resolve the turn. Plain Gauss–Hermite missed it by up to 5 %
    for a cold reservoir (βg0σ ≳ 5). ``kink_at_zero`` is for functions of |q_j(δ) − q_j(0)|
    (distances to τ_S = τ(0)): the rule is split at δ = 0 and, for d ≥ 3, at the other δ where a
    middle population returns to q_j(0) (:func:`population_returns`)."""
    # where the rule refines is not a function of the parameters for differentiation (a fixed rule's
    # derivative; through 36/|βg0| it was NaN at β = 0 and 10⁻³⁰⁰: d/dβ of τ̄, ε)
    beta_g = jax.lax.stop_gradient(jnp.abs(jnp.asarray(model.beta) * jnp.asarray(model.g0)))
    reach = 36.0 / jnp.maximum(beta_g, 1e-300)
    kink = {}  # laws written before these options keep working
    if kink_at_zero:
        kink = {"kink_at_zero": True, **({"kinks": population_returns(model)} if model.d > 2 else {})}
    if "growth" in inspect.signature(distribution.expectation_with_step).parameters:
        # q_j(δ)/q_j(0) grows up to e^{|βg0|(d − 1)|δ|} toward δ = −1: the small populations of a cold τ̄ come
        # from G's tail (qubit βg0 = 100, σ = 0.1: q̄_1 68 % low from a rule cut at 9σ)
        kink["growth"] = beta_g * (model.d - 1)
    return distribution.expectation_with_step(f, -1.0, reach, n_panels=6 * model.d, **kink)


def population_returns(model: InhomogeneousReservoir):
    """The δ ≠ 0 at which a middle population of τ(δ) returns to its value at δ = 0, (d − 2,)
    (docs/inhomogeneous.md §8): the kinks of |q_j(δ) − q_j(0)| besides δ = 0.

    q_j depends on δ through y = βg0(1 + δ) only, and log q_j(y) = −y m_j − log Σ_k e^{−y m_k} is
    concave in y (its slope ⟨m⟩_y − m_j decreases), with its maximum where ⟨m⟩_y = m_j. The ground and
    top levels are monotonic; a middle level j takes the value q_j(βg0) once more, on the other side
    of that maximum (δ = −2 for d = 3, where q_1 is symmetric about δ = −1). Both points are found by
    bisection. The result carries no derivative: the integrand vanishes at its kinks, so an integral
    split there does not depend on where the split lies. βg0 = 0 (τ(δ) maximally mixed): zeros.
    """
    dtype = jnp.result_type(jnp.asarray(model.beta), jnp.asarray(model.g0), float)
    y0 = jax.lax.stop_gradient(jnp.asarray(model.beta, dtype) * jnp.asarray(model.g0, dtype))
    m = level_offsets(model, dtype)
    log_q = lambda y, j: -y * m[j] - jax.nn.logsumexp(-y * m)

    def bisect(decreasing, lo, hi):  # the zero of a decreasing function on [lo, hi]
        def halve(_, ends):
            mid = 0.5 * (ends[0] + ends[1])
            above = decreasing(mid) > 0
            return jnp.where(above, mid, ends[0]), jnp.where(above, ends[1], mid)

        return 0.5 * sum(jax.lax.fori_loop(0, 200, halve, (lo, hi)))

    def other_root(j):
        peak = bisect(
            lambda y: jnp.sum(m * jax.nn.softmax(-y * m)) - m[j], jnp.asarray(-100.0, dtype), jnp.asarray(100.0, dtype)
        )
        side = jnp.sign(y0 - peak)  # the other root lies at peak − side·u, u > 0
        gap = lambda u: log_q(peak - side * u, j) - log_q(y0, j)  # decreasing in u from ≥ 0
        reach = 2.0 ** jnp.arange(64, dtype=dtype)
        outer = reach[jnp.argmax(jax.vmap(gap)(reach) < 0)]
        return peak - side * bisect(gap, jnp.zeros((), dtype), outer)

    roots = jax.vmap(other_root)(jnp.arange(1, model.d - 1))
    safe = jnp.where(y0 == 0, 1.0, y0)
    return jnp.where(y0 == 0, 0.0, roots / safe - 1.0)


@model_a
def averaged_reservoir_state(model: InhomogeneousReservoir, distribution=None):
    """τ̄ as a real diagonal (d, d) matrix ([ATO-preprint] eq. (9))."""
    q = averaged_reservoir_populations(model, distribution)
    return q[:, None] * jnp.eye(model.d, dtype=q.dtype)


@model_a
def mean_collision(model: InhomogeneousReservoir, rho, distribution=None, theta=None) -> CollisionStep:
    """Ensemble average of one collision from ``rho`` over δ ~ G, by quadrature (docs/inhomogeneous.md).

    Returns a :class:`CollisionStep` ``(state, energetics)``: the averaged state ρ̄' (d, d) and
    the exact mean W, Q, ΔU (unpacks as ``rho_bar, e``). The map
    is linear in ρ and the δ_r are i.i.d., so iterating it gives the ensemble-averaged dynamics
    for any coupling (for the partial swap, ρ̄' = partial swap with τ̄).
    """
    distribution = distribution_of(model, distribution)
    _validate(model, rho, 0.0)
    if theta is None:
        _require_scalar_theta(model, "use averaged_trajectory for a θ schedule")
    _check_theta(theta)
    rho = as_state(rho)
    rdt = real_dtype_for(rho.dtype)
    theta = jnp.asarray(model.theta if theta is None else theta).astype(rdt)
    check_coupling_over_law(model, distribution, theta, rdt)
    return _averaged_collision(model, distribution, rdt).collide(rho, theta)


# a user's coupling is checked at up to this many angles of a θ schedule (× every quadrature node of the law)
_CHECKED_ANGLES = 16


def law_nodes(model: InhomogeneousReservoir, distribution, dtype):
    """The δ's at which :func:`over_reservoir_qudits` evaluates its integrand for this model and law, (n,)
    in ``dtype`` (the nodes of the law's rule or its exact support; concrete parameters)."""
    seen = []

    def record(deltas):
        seen.append(jnp.ravel(jnp.asarray(deltas)))
        return jnp.zeros(np.shape(deltas)[:1], jnp.asarray(deltas).dtype)

    over_reservoir_qudits(model, distribution, record)
    return jnp.concatenate(seen).astype(dtype)


def check_coupling_over_law(model: InhomogeneousReservoir, distribution, thetas, dtype) -> None:
    """A user's :class:`~jaxthermo.Coupling` (neither :class:`PartialSwap` nor :class:`ExactUnitary`) averaged over
    the law: its U must be unitary at every quadrature node of the law and at up to 16 angles of ``thetas``, else
    ``ValueError`` naming ``<Coupling>.unitary``. The averaged collision builds U under ``vmap``, where
    :func:`~jaxthermo._validation.check_unitary` cannot look: a coupling returning 2U gave a mean heat 4× the
    unitary one without a word (docs/inhomogeneous.md §12)."""
    if has_closed_form(model.coupling) or type(model.coupling) is ExactUnitary:
        return
    if not all(should_validate(leaf) for leaf in jax.tree_util.tree_leaves((model, distribution, thetas))):
        return  # traced: nothing to look at
    angles = np.unique(np.ravel(np.asarray(thetas, float)))
    angles = angles[np.linspace(0, angles.size - 1, min(angles.size, _CHECKED_ANGLES)).astype(int)]
    nodes = np.asarray(law_nodes(model, distribution, dtype), float)
    deltas, angles = (np.ravel(a) for a in np.meshgrid(nodes, angles))
    _check_trajectory_coupling(
        model, jnp.asarray(deltas, dtype), jnp.asarray(angles, dtype), "the law's quadrature nodes"
    )


class _AveragedCollision(NamedTuple):
    """The averaged collision Φ̄: ``collide(rho, theta) -> CollisionStep``; for the partial swap also
    ``deviation_step(D, theta) -> (D', Energetics)`` on D = ρ − τ̄ and the populations ``q_bar`` of τ̄ (else None)."""

    collide: Any
    deviation_step: Any
    q_bar: Any


def _averaged_collision(model, distribution, rdt) -> _AveragedCollision:
    """The averaged collision Φ̄ with its exact mean energetics (:class:`_AveragedCollision`).

    Partial swap: the closed form (docs/inhomogeneous.md §2) is linear in τ(δ) and in g_r τ(δ), so
    three averages over G taken once give it exactly: q̄, E[(g_r − g0)(q(δ) − q(0))] (from
    :func:`population_shifts`, no cancellation) and E[g_r − g0] (exactly 0 for the centred built-in laws).
    W̄ = −sin²θ Σ_j m_j (E[(g_r − g0)(q_j(δ) − q_j(0))] + E[g_r − g0](q_j(0) − p_j)); from E[g_r q] − g0 q̄ it
    cancelled to ε·q̄: a float32 qubit at βg0 = 40, σ = 0.1 had W̄ = 1.3·10⁻⁹ for 4.4·10⁻¹⁶ (float64 0.3 %
    off), and the temperature kind a W̄ ≠ 0. ``deviation_step`` maps D = ρ − τ̄ to
    D' = cos²θ D + i sinθ cosθ [τ̄, D] (τ̄ is the fixed point), so no rounding accumulates in τ̄ itself
    (:func:`averaged_trajectory`). Other couplings average the collision over the quadrature nodes at every call.
    """
    if not has_closed_form(model.coupling):

        def collide_on_nodes(rho, theta):
            per_delta = lambda deltas: jax.vmap(lambda x: _collide(model, rho, x, theta))(deltas)
            rho_new, e = over_reservoir_qudits(model, distribution, per_delta)
            return CollisionStep(rho_new, Energetics(*e))

        return _AveragedCollision(collide_on_nodes, None, None)

    def moments(deltas):  # g_r − g0 = g0 δ (Hamiltonian kind) or 0 (temperature kind), not g0(1 + δ) − g0
        q = reservoir_populations(model, deltas)
        q_s = reservoir_populations(model, jnp.zeros((), deltas.dtype))
        dg = jnp.asarray(model.g0).astype(deltas.dtype) * deltas if model.kind == "hamiltonian" else 0.0 * deltas
        return q, dg[:, None] * population_shifts(model, deltas, q_s), dg

    q_bar, dgq_bar, dg_bar = (v.astype(rdt) for v in over_reservoir_qudits(model, distribution, moments))
    if is_centred(distribution):  # E[δ] = 0 exactly (the rule's E[δ] is ε σ, which made W̄ depend on ρ)
        dg_bar = jnp.zeros_like(dg_bar)
    g0, m = jnp.asarray(model.g0).astype(rdt), level_offsets(model, rdt)
    q_s = reservoir_populations(model, jnp.zeros((), rdt)).astype(rdt)

    def energetics(q_minus_p, theta):  # from q̄ − p
        s2 = jnp.sin(theta) ** 2
        shift = jnp.sum(m * q_minus_p)  # E[Σ_j m_j (q_j − p_j)]
        extra = jnp.sum(m * (dgq_bar + dg_bar * ((q_s - q_bar) + q_minus_p)))  # E[(g_r − g0) Σ_j m_j (q_j − p_j)]
        return Energetics(work=-extra * s2, heat=(g0 * shift + extra) * s2, energy_change=g0 * shift * s2)

    def collide_averaged(rho, theta):
        return CollisionStep(_partial_swap(rho, q_bar, theta, source=True), energetics(q_bar - populations(rho), theta))

    def deviation_step(dev, theta):
        return _partial_swap(dev, q_bar, theta, source=False), energetics(-populations(dev), theta)

    return _AveragedCollision(collide_averaged, deviation_step, q_bar)


@model_a
def mean_work(model: InhomogeneousReservoir, rho, distribution=None):
    """Exact mean work of one collision from ``rho``, ``∫ G(δ) W(δ; ρ) dδ`` (docs/inhomogeneous.md), scalar.

    Zero for the temperature kind. For a centred G it does not depend on ρ ([ATO19] eq. (17)).
    """
    return mean_collision(model, rho, distribution).work


@model_a
def mean_heat(model: InhomogeneousReservoir, rho, distribution=None):
    """Exact mean heat into the system of one collision from ``rho``, ``∫ G(δ) Q(δ; ρ) dδ``, scalar."""
    return mean_collision(model, rho, distribution).heat


@model_a
def averaged_trajectory(model: InhomogeneousReservoir, rho0, n_steps: int, distribution=None) -> Trajectory:
    """Ensemble-averaged dynamics and mean energetics over N collisions (docs/inhomogeneous.md).

    ``states[r]`` is ρ̄_r (for the partial swap and a diagonal ρ_0, ρ̄_r = τ̄ − (τ̄ − ρ_0) cos^{2r}θ,
    [ATO-preprint] eq. (10); coherences decay as (c² + i s c (q̄_j − q̄_k))^r); ``work[r−1]``, ``heat[r−1]``, ``energy_change[r−1]`` are the exact ensemble means
    of collision r. ``model.theta`` may be an (N,) schedule.

    Returns:
      :class:`Trajectory` with states (N+1, d, d) and mean energetics (N,).
    """
    distribution = distribution_of(model, distribution)
    _validate(model, rho0, 0.0, "rho0")
    n_steps = check_positive_int(n_steps, "n_steps")
    rho0 = as_state(rho0)
    rdt = real_dtype_for(rho0.dtype)
    theta = jnp.asarray(model.theta).astype(rdt)
    if theta.ndim not in (0, 1) or (theta.ndim == 1 and theta.shape != (n_steps,)):
        raise ValueError(f"theta must be a scalar or have shape ({n_steps},); got {theta.shape}")
    thetas = jnp.broadcast_to(theta, (n_steps,))
    # a user's U at every node of the law (it was checked at δ = 0 only: U(1 + δ/2) ran without a word)
    check_coupling_over_law(model, distribution, thetas, rdt)
    return _averaged_scan(model, distribution, rho0, thetas)


@jax.jit
def _averaged_scan(model, distribution, rho0, thetas):
    """The scan of :func:`averaged_trajectory`, compiled once per model structure, N and dtype: a
    loop over β, σ or ρ_0 reuses it (eagerly, the scan was traced and compiled at every call)."""
    averaged = _averaged_collision(model, distribution, real_dtype_for(rho0.dtype))
    if averaged.deviation_step is None:

        def step(rho, theta):
            rho_new, e = averaged.collide(rho, theta)
            # Φ̄ preserves the trace, but U only to ~ε: Tr ρ̄ drifted and its excess entered every later heat
            # through Tr[ρ'_R H_r] (float32 ExactUnitary(5), θ = 0.01, 2·10⁴ collisions: Tr ρ̄ − 1 = 8.6·10⁻⁴,
            # Σ Q̄ 2.13 for 0.00223); renormalised as in trajectory
            rho_new = rho_new / jnp.trace(rho_new)
            return rho_new, (rho_new, e)

        _, (states, e) = jax.lax.scan(step, rho0, thetas)
    else:  # the deviation from τ̄ (it decays), not ρ̄: ρ̄ ← cos²θ ρ̄ + sin²θ τ̄ in float32 drifted by ~ε/sin²θ
        tau_bar = jnp.diag(averaged.q_bar).astype(rho0.dtype)

        def step(dev, theta):
            dev_new, e = averaged.deviation_step(dev, theta)
            return dev_new, (dev_new, e)

        _, (devs, e) = jax.lax.scan(step, rho0 - tau_bar, thetas)
        states = tau_bar + devs
    states = jnp.concatenate([rho0[None], states], axis=0)
    return Trajectory(states, e.work, e.heat, e.energy_change)


@model_a
def population_derivatives_closed_form(model: InhomogeneousReservoir):
    """``q_j'(0)`` in closed form ([ATO-preprint], text after eq. (14)), shape (d,).

    ``q_j'(0) = −βg0 a^j/(1−a^d)² [ j − (1+j)a + (d−j)a^d − (d−j−1)a^{d+1} ]``, ``a = e^{−βg0}``,
    which is ``−βg0 q_j (m_j − ⟨m⟩)`` (m_j = j − (d−1)/2, ⟨m⟩ = Σ_k m_k q_k; with
    q_j = a^j (1−a)/(1−a^d) and ⟨j⟩ = a/(1−a) − d a^d/(1−a^d) the bracket is (j − ⟨j⟩)(1−a)(1−a^d)).
    Evaluated in that second form: the first is 0/0 once a rounds to 1 (βg0 ≲ 10⁻¹⁶: NaN, and
    digits lost well above) and inf/inf for βg0 ≲ −710/d (NaN). q comes from the softmax of
    :func:`reservoir_populations`, and m_j − ⟨m⟩ the better of two sums for each j: ``Σ_k q_k (j − k)``
    (its terms share one sign for the level a cold reservoir fills, where m_j − ⟨m⟩ would cancel) and
    m_j − ⟨m⟩ with ⟨m⟩ = Σ_{m_k>0} m_k (q_k − q_{d−1−k}) from differences free of cancellation,
    ``q_k − q_{d−1−k} = q_{d−1−k} expm1(−2βg0 m_k)`` (βg0 ≥ 0; mirrored below; the middle level of odd d
    near βg0 = 0). Each entry keeps its relative precision except near the βg0 where q_j peaks
    (q_j'(0) = 0 there, as the bracket says).
    As βg0 → 0, ``q_j'(0) → −βg0 m_j/d``; β g0 beyond the largest number over d is clipped as in
    :func:`~jaxthermo.thermal_populations` (the limit, 0).
    """
    x, q, _, _, centred = _centred_levels(model)
    return -x * q * centred


def _centred_levels(model):
    """``(βg0, q, m, ⟨m⟩, m − ⟨m⟩)`` at δ = 0, each free of cancellation
    (:func:`population_derivatives_closed_form`)."""
    d = model.d
    dtype = jnp.result_type(jnp.asarray(model.beta), jnp.asarray(model.g0))  # the precision of βg0
    largest = float(jnp.finfo(dtype).max) / d
    x = jnp.clip(jnp.asarray(model.beta).astype(dtype) * jnp.asarray(model.g0).astype(dtype), -largest, largest)
    q = reservoir_populations(model, jnp.zeros((), dtype))
    m = level_offsets(model, dtype)
    up = np.arange(d // 2 + d % 2, d)  # the levels with m_k > 0; their mirrors d − 1 − k have −m_k
    sign = jnp.where(x >= 0, 1.0, -1.0).astype(dtype)
    shrink = jnp.expm1(-2.0 * sign * x * m[up])  # in [−1, 0]: both branches finite (and their gradients)
    diff = jnp.where(x >= 0, q[d - 1 - up] * shrink, -q[up] * shrink)  # q_k − q_{d−1−k}
    mean_m = jnp.sum(m[up] * diff)
    steps = m[:, None] - m[None, :]  # j − k
    terms = q[None, :] * steps
    above = jnp.sum(jnp.where(steps > 0, terms, 0.0), axis=-1)
    below = jnp.sum(jnp.where(steps < 0, -terms, 0.0), axis=-1)
    # the same number two ways; the one whose terms cancel less (rounding ≈ ε × the sum of |terms|)
    centred = jnp.where(above + below <= jnp.abs(m) + jnp.abs(mean_m), above - below, m - mean_m)
    return x, q, m, mean_m, centred


class PopulationDerivatives(NamedTuple):
    """``q'(0)`` (d,) and ``q''(0)`` (d,): δ-derivatives of the reservoir populations at δ = 0."""

    first: jnp.ndarray
    second: jnp.ndarray


@model_a
def population_derivatives(model: InhomogeneousReservoir) -> PopulationDerivatives:
    """``(q'(0), q''(0))``: first and second δ-derivatives of the reservoir populations at δ = 0.

    q_j depends on δ through y = βg0(1 + δ), so ``q_j'(0) = −βg0 q_j (m_j − ⟨m⟩)``
    (:func:`population_derivatives_closed_form`) and ``q_j''(0) = (βg0)² q_j [(m_j − ⟨m⟩)² − Var m]``,
    evaluated as ``(βg0)² q_j Σ_k q_k (m_j − m_k)(m_j + m_k − 2⟨m⟩)`` with the last factor the better of
    (m_j + m_k) − 2⟨m⟩ and (m_j − ⟨m⟩) + (m_k − ⟨m⟩) (qubits: q_0'' = −(βg0)² q_0 q_1 tanh(βg0/2)).
    Forward-mode autodiff of the populations lost ε/βg0 relative to cancellation (qubit q''(0) 5·10⁻⁴ off at
    βg0 = 10⁻¹², 75 % at 10⁻¹⁵, and 0 below, so the temperature kind's heat support was NaN; q'(0) of d ≥ 3
    3·10⁻⁴ off at 10⁻¹²).
    """
    x, q, m, mean_m, centred = _centred_levels(model)
    steps = m[:, None] - m[None, :]  # m_j − m_k
    plain = (m[:, None] + m[None, :]) - 2.0 * mean_m
    paired = centred[:, None] + centred[None, :]
    # the smaller rounding bound: |m_j + m_k| + 2|⟨m⟩| (mirror levels: −2⟨m⟩ exactly) or |c_j| + |c_k|
    size_plain = jnp.abs(m[:, None] + m[None, :]) + 2.0 * jnp.abs(mean_m)
    size_paired = jnp.abs(centred[:, None]) + jnp.abs(centred[None, :])
    spread = jnp.sum(q[None, :] * steps * jnp.where(size_plain <= size_paired, plain, paired), axis=-1)
    return PopulationDerivatives(-x * q * centred, x * (x * (q * spread)))  # x·(x·…): x² overflowed at |βg0| ~ 1e155


@model_a
def small_delta_mean_work(model: InhomogeneousReservoir, variance):
    """Mean work per collision to order σ² ([ATO-preprint] eq. (14)), Hamiltonian kind.

    ``W̄_r = −g0 σ² sin²θ Σ_j j q_j'(0)``; for qubits ``g0 q0'(0) σ² sin²θ > 0``. It does not
    depend on r or on the system state. Zero for the temperature kind (no work is generated).
    """
    check_nonnegative(variance, "variance")
    if model.kind == "temperature":  # 0 in the precision the Hamiltonian kind's formula has (float32 stays float32)
        params = (jnp.asarray(model.g0), jnp.asarray(model.beta), jnp.asarray(model.theta), variance)
        return jnp.zeros(np.shape(variance), float_dtype_of(*params))  # one 0 per σ² (a (2,) σ² gave one 0)
    dq = population_derivatives_closed_form(model)
    j = jnp.arange(model.d, dtype=dq.dtype)
    s2 = jnp.sin(jnp.asarray(model.theta)) ** 2
    return -jnp.asarray(model.g0) * variance * s2 * jnp.sum(j * dq)


@model_a
def small_delta_mean_heat(model: InhomogeneousReservoir, rho, variance):
    """Mean heat into the system of one collision from ``rho`` to order σ² (docs/inhomogeneous.md), scalar.

    ``Q̄ = g0 sin²θ Σ_j m_j [q_j − p_j + (q_j'(0) + ½ q_j''(0)) σ²]`` (Hamiltonian kind) and
    ``g0 sin²θ Σ_j m_j [q_j − p_j + ½ q_j''(0) σ²]`` (temperature kind), m_j = j − (d−1)/2.
    [ATO19] eq. (26) prints ``q_j'' σ²`` without the ½ (a misprint: docs/misprints.md).
    """
    return _small_delta_energy(model, rho, variance, heat=True)


@model_a
def small_delta_mean_energy_change(model: InhomogeneousReservoir, rho, variance):
    """Mean ΔU of one collision to order σ²: ``g0 sin²θ Σ m_j [q_j − p_j + ½ q_j''(0) σ²]``.

    The same for both kinds (the averaged dynamics is). [ATO19] eq. (28) drops the ½ (docs/misprints.md).
    """
    return _small_delta_energy(model, rho, variance, heat=False)


def _small_delta_energy(model, rho, variance, heat):
    check_nonnegative(variance, "variance")
    if np.ndim(variance) != 0:  # broadcast against the levels j: the mean over two laws, or a shape error
        raise ValueError(f"variance: one σ² (a scalar); got shape {np.shape(variance)} (map over laws with jax.vmap)")
    _validate(model, rho, 0.0)  # a trace-2 or boolean ρ was taken as given
    rho = as_state(rho)
    model = cast_floats(model, real_dtype_for(rho.dtype))  # the state's precision sets the result's
    dq, ddq = population_derivatives(model)
    q = reservoir_populations(model, jnp.zeros((), dq.dtype))
    p = populations(as_state(rho)).astype(dq.dtype)
    m = level_offsets(model, dq.dtype)
    second = 0.5 * ddq
    if heat and model.kind == "hamiltonian":
        second = second + dq  # from ⟨δ q_j(δ)⟩ = q_j'(0) σ² in g_r = g0(1 + δ)
    s2 = jnp.sin(jnp.asarray(model.theta)) ** 2
    return jnp.asarray(model.g0) * s2 * jnp.sum(m * (q - p + second * variance))


@model_a
def accumulated_mean_work(model: InhomogeneousReservoir, rho0, n_steps: int, distribution=None):
    """Exact ensemble-mean work accumulated over N collisions, ``W̄_N = Σ_r W̄_r``, scalar.

    By quadrature along the averaged dynamics (any G, any coupling, θ schedules allowed). For a
    centred G and the partial swap, ``W̄_N = N W̄_r`` with ``W̄_r ≈ g0 q0'(0) σ² sin²θ > 0`` for
    qubits ([ATO-preprint] eq. (15); [ATO19] eq. (19) has a stray minus sign, docs/misprints.md).
    """
    return jnp.sum(averaged_trajectory(model, rho0, n_steps, distribution).work)


class CollisionScaling(NamedTuple):
    """The scaling sin²θ = c N^{−ξ}: per N, the angle, W̄_N and D(ρ̄_N, τ̄), and the c → limits."""

    n: np.ndarray
    theta: np.ndarray
    accumulated_work: np.ndarray
    trace_distance: np.ndarray
    work_limit: float
    trace_distance_limit: float
    work_limit_small_sigma: float


@model_a
def collision_number_scaling(
    model: InhomogeneousReservoir, rho0, n_values, c: float, xi: float = 1.0, distribution=None
):
    """Accumulated mean work and distance to τ̄ with sin²θ = c N^{−ξ} ([ATO-preprint] eqs. (16)–(17)).

    For each N: θ_N = arcsin √(c N^{−ξ}), exact W̄_N (quadrature along the averaged dynamics) and
    D(ρ̄_N, τ̄). ``work_limit`` and ``trace_distance_limit`` are the ξ = 1, N → ∞ limits of the partial swap
    (docs/inhomogeneous.md §5). ``work_limit`` is exact, from the law by quadrature:
    c W̄(π/2; τ̄) + (1 − e^{−c}) [W̄(π/2; ρ_0) − W̄(π/2; τ̄)], W̄(π/2; ρ) the mean work of a full swap from ρ
    (the second term vanishes for a centred law, whose W̄ does not depend on ρ); ``work_limit_small_sigma`` is
    its O(σ²) form g0 c σ² (−Σ_j j q_j'(0)) ([ATO-preprint] eq. (17)), which ``work_limit`` was
    (0.4 % low at σ = 0.2, βg0 = 1). ``trace_distance_limit``: the deviation ρ_0 − τ̄ with
    each entry jk multiplied by exp(−c + c (q̄_j − q̄_k)²/2), the limit of |c² + i s c (q̄_j − q̄_k)|^N
    (the phases, √(cN)(q̄_j − q̄_k), are a diagonal unitary, which D does not see), so e^{−c} D(ρ_0, τ̄)
    for a diagonal ρ_0; a coherent ρ_0 came out as e^{−c} D(ρ_0, τ̄) too (|+⟩, βg0 = 1, σ = 0.2, c = 1:
    0.2024 for 0.2211). ξ > 1 freezes the dynamics (W̄_N → 0, D → D(ρ_0, τ̄)); ξ < 1 makes W̄_N grow
    without bound.
    """
    check_untraced(
        "collision_number_scaling",
        "it loops over N. Differentiate accumulated_mean_work(model.replace(theta=arcsin √(c N^(-xi))), rho0, N) "
        "for each N instead",
        model=model,
        rho0=rho0,
        c=c,
        xi=xi,
        distribution=distribution,
    )
    distribution = distribution_of(model, distribution)
    _validate(model, rho0, 0.0, "rho0")
    rho0 = as_state(rho0)
    tau_bar = averaged_reservoir_state(model, distribution).astype(rho0.dtype)
    # c, ξ one real number each and N a list: an array c failed with NumPy's "truth value of an array is
    # ambiguous", a string c with "ufunc 'isfinite' not supported", a 2-d n_values deep in the loop
    check_numeric(n_values, "n_values")
    for value, name in ((c, "c"), (xi, "xi")):
        check_numeric(value, name)
        check_real_scalar(value, name, positive=name == "c")
    n_values = np.atleast_1d(np.asarray(n_values))
    if n_values.ndim != 1 or n_values.size == 0 or np.any(n_values < 1) or np.any(n_values != np.round(n_values)):
        raise ValueError(f"n_values must be a 1-d list of positive integers; got {n_values.tolist()}")
    n_values = n_values.astype(int)
    c, xi = float(c), float(xi)
    if np.any(c * n_values.astype(float) ** (-xi) > 1):
        raise ValueError(f"c={c}: sin²θ = c N^(-xi) must be <= 1 for every N in n_values")
    thetas = np.arcsin(np.sqrt(c * n_values.astype(float) ** (-xi)))
    works, dists = [], []
    for n, theta in zip(n_values, thetas):
        traj = averaged_trajectory(model.replace(theta=float(theta)), rho0, int(n), distribution)
        works.append(float(jnp.sum(traj.work)))
        dists.append(float(trace_distance(traj.states[-1], tau_bar)))
    w_small = float(small_delta_mean_work(model.replace(theta=np.pi / 2), distribution.variance)) * c
    w_limit = _work_limit(model, rho0, tau_bar, c, distribution)
    gap = jnp.diagonal(tau_bar)[:, None] - jnp.diagonal(tau_bar)[None, :]
    decay = jnp.exp(-c + 0.5 * c * jnp.abs(gap) ** 2)  # entry jk of ρ̄_N − τ̄, in modulus, N → ∞
    d_limit = float(trace_distance(tau_bar + decay * (rho0 - tau_bar), tau_bar))
    rdt = np.dtype(real_dtype_for(rho0.dtype))  # the state's precision (float32 in, float32 out)
    limits = (rdt.type(x) for x in (w_limit, d_limit, w_small))  # NumPy scalars of the state's precision
    return CollisionScaling(n_values, thetas.astype(rdt), np.array(works, rdt), np.array(dists, rdt), *limits)


def _work_limit(model, rho0, tau_bar, c, distribution):
    """lim_{N→∞} W̄_N for sin²θ = c/N, partial swap (docs/inhomogeneous.md §5). Collision r from p̄_{r−1} does
    W̄_r = sin²θ W̄(π/2; p̄_{r−1}), affine in p̄: W̄(π/2; p) = W̄(π/2; τ̄) + [W̄(π/2; ρ_0) − W̄(π/2; τ̄)] t for
    p = τ̄ + (ρ_0 − τ̄) t, and p̄_{r−1} has t = cos^{2(r−1)}θ, whose sum times sin²θ is 1 − cos^{2N}θ → 1 − e^{−c}."""
    full = model.replace(theta=np.pi / 2, coupling=PartialSwap())
    at_tau = float(mean_work(full, tau_bar, distribution))
    at_rho0 = float(mean_work(full, rho0, distribution))
    return c * at_tau + (1.0 - np.exp(-c)) * (at_rho0 - at_tau)


class SecondLawEpsilon(NamedTuple):
    """ε of the approximate second laws ([ATO19] Sec. V) and its two estimates."""

    epsilon: jnp.ndarray  # D(τ_S, τ̄), exact by quadrature
    upper_bound: jnp.ndarray  # E_G[D(τ_S, τ(δ))] ≥ ε (convexity of the trace distance)
    small_sigma: jnp.ndarray  # E_G|δ| · ½ Σ_j |q_j'(0)|; qubits, Gaussian: √(2/π) βg0 a/(1+a)² σ


@model_a
def approximate_second_law_epsilon(model: InhomogeneousReservoir, distribution=None) -> SecondLawEpsilon:
    """ε = D(τ_S, τ̄) ≤ E_G[D(τ_S, τ(δ))] ≈ √(2/π) βg0 a/(1+a)² σ for qubits (docs/inhomogeneous.md).

    Both from one rule over the differences q(δ) − q(0) (:func:`population_shifts`, free of the
    cancellation of two nearly equal populations), ε as ½ Σ_j |E_G[q_j(δ) − q_j(0)]|: so ε ≤ the bound
    also in rounding. From q̄ − q(0) the two gave ε = 4.5·10⁻⁸ > bound = 0 for a float32 β = 10⁻³⁰
    (true ε ≈ β²σ² ≈ 0), and the bound underflowed to 0 for βg0σ ≲ 10⁻¹⁷ (float32 β = 10⁻⁸, σ = 0.1:
    7·10⁻¹⁵ for 2.7·10⁻¹⁰), its β-derivative 0 for ≈ 0.02.

    At exactly βg0 = 0 or σ = 0 the bound and ``small_sigma`` have a kink (they grow as |βg0| and σ):
    their JAX derivatives there are 0, a subgradient, not the positive one-sided derivatives into
    β ≥ 0, σ ≥ 0, (E_G|δ|/σ)·½ Σ_j |q_j'(0)| in σ and |g0| E_G|δ| ½ Σ_j |m_j|/d in β, which any β, σ > 0
    gives by continuity (docs/inhomogeneous.md §8: no linear JVP gives a one-sided derivative of |s|
    at s = 0). ε grows as β² and σ² there: its derivative 0 is the true one.
    """
    distribution = distribution_of(model, distribution)

    def moments(deltas):  # in the precision of the law's nodes, as τ̄
        q_s = reservoir_populations(model, jnp.zeros((), deltas.dtype))
        shifts = population_shifts(model, deltas, q_s)
        return shifts, 0.5 * jnp.sum(jnp.abs(shifts), axis=-1)

    mean_shift, bound = over_reservoir_qudits(model, distribution, moments, kink_at_zero=True)
    epsilon = 0.5 * jnp.sum(jnp.abs(mean_shift))
    mean_abs = distribution.expectation(jnp.abs, kink_at_zero=True)
    slope = 0.5 * jnp.sum(jnp.abs(population_derivatives_closed_form(model)))
    return SecondLawEpsilon(epsilon, bound, mean_abs * slope)


def population_shifts(model: InhomogeneousReservoir, deltas, q_s):
    """``q(δ) − q(0)`` for (n,) δ's, shape (n, d), given ``q_s = q(0)`` (docs/inhomogeneous.md §8).

    τ(δ) depends on δ through y = βg0(1 + δ) only, and with Σ_k q_k = 1,
    ``q_j(δ) − q_j(0) = Σ_k [q_j(δ) q_k(0) − q_j(0) q_k(δ)]``, where the two products differ by the factor
    e^{u}, u = Δ(m_j − m_k), Δ = βg0 δ. Each term is the smaller product times expm1(−|u|) (up to sign),
    finite for every Δ and free of the cancellation of two nearly equal populations (the plain difference
    of a level a cold reservoir fills was 0 in float32: ε of a qudit at βg0 = 60 too small by half); the
    terms share one sign except for a level near its largest population.
    """
    dtype = q_s.dtype
    deltas = jnp.asarray(deltas).astype(dtype)
    y0 = jnp.asarray(model.beta).astype(dtype) * jnp.asarray(model.g0).astype(dtype)
    m = level_offsets(model, dtype)
    u = (y0 * deltas)[:, None, None] * (m[:, None] - m[None, :])  # (n, j, k)
    falls = u <= 0
    shrink = jnp.expm1(jnp.where(falls, u, -u))  # in [−1, 0]: both choices finite, with their gradients
    q = reservoir_populations(model, deltas)
    first = q[:, :, None] * q_s[None, None, :]  # q_j(δ) q_k(0)
    second = q_s[None, :, None] * q[:, None, :]  # q_j(0) q_k(δ)
    return jnp.sum(jnp.where(falls, -first * shrink, second * shrink), axis=-1)
