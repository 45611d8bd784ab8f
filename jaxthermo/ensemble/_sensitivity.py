"""Sensitivities streamed by the ensemble engine: ``jt.ensemble(..., wrt=...)`` (docs/ensemble.md §5).

Forward mode, per configuration: the tangents of the system state, of W, Q, ΔU, of the cumulative work
and of D_α(ρ_{S|r}‖τ_S) with respect to each requested parameter are carried through the kernel's own
``lax.scan`` over collisions (:func:`tangent_stream`): each chunk collision — the fused real qubit
collision or the vmapped :func:`~jaxthermo.collision_step` — runs once under ``jax.jvp``, vmapped over
one tangent per parameter entry with the primal unbatched, and the kernel's plain statistics come
from that primal (one pass).
Every step reduces the tangents over the chunk to moments (mean and M2), which the engine merges like
its other statistics, so memory does not depend on N × n_configs, and results are the same (to
rounding) for every chunk size and device count. Distribution scales (``sigma``, ``width``, ``delta``)
enter through the reparameterised draws δ(ε; σ). Functionals of the mean state get their derivatives
by the chain rule on the host.

``"deltas"`` in ``wrt`` adds the reverse-mode per-configuration gradients ∂W_N/∂δ_r and
∂F_α(ρ_{S|N})/∂δ_r (mean and variance over configurations per collision r).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._information import trace_distance
from .._qudit import thermal_state
from ..inhomogeneous import averaged_reservoir_state, collision_step
from ..inhomogeneous._model import reservoir_parameters_of
from ._kernel import model_divergences, scan_thetas
from ._sampling import sample_chunk, sample_steps
from ._statistics import MeansOverConfigurations, chunk_moments, standard_error, variance

MODEL_FIELDS = ("theta", "beta", "g0")
DELTAS = "deltas"
_PREFIX = "sens_"
_DELTA_PREFIX = "dsens_"
_STREAMED = ("work", "heat", "energy_change", "cumulative_work")


def _field_names(obj):
    return [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []


def check_wrt(model, wrt):
    """Normalise ``wrt`` to a tuple of names; ``ValueError`` naming ``wrt`` for an unknown name, a repeated
    one, and a field of the distribution or coupling that has no derivative: a static field (not a leaf of
    the model pytree) or a value that is not a real number."""
    if isinstance(wrt, str):
        wrt = (wrt,)
    wrt = tuple(wrt)
    dist_fields = _field_names(model.distribution)
    allowed = MODEL_FIELDS + tuple(dist_fields) + tuple(_field_names(model.coupling)) + (DELTAS,)
    for name in wrt:
        if name not in allowed:  # the names that have a derivative (static and non-real fields left out)
            raise ValueError(f"wrt: unknown parameter {name!r}; choose from {', '.join(wrt_names(model))}")
        if name in MODEL_FIELDS or name == DELTAS:
            continue
        owner = model.distribution if name in dist_fields else model.coupling
        value = getattr(owner, name)
        if value is None or not _is_real_number(value):
            raise ValueError(
                f"wrt: {name!r} of {type(owner).__name__} is {value!r}, not a real number: it has no derivative"
            )
        if name not in _leaf_fields(owner):  # a static field: the derivative 0.0 was reported without a word
            raise ValueError(
                f"wrt: {name!r} is a static field of {type(owner).__name__} (not a leaf of the model pytree), "
                "so it has no derivative"
            )
    if len(set(wrt)) != len(wrt):
        raise ValueError(f"wrt: repeated names in {wrt}")
    return wrt


def wrt_names(model) -> tuple:
    """The names :func:`check_wrt` accepts for ``model``, in its order: θ, β, g0, the real-valued leaves of the
    distribution and the coupling, ``"deltas"``."""
    candidates = MODEL_FIELDS + tuple(_field_names(model.distribution)) + tuple(_field_names(model.coupling))
    out = []
    for name in candidates + (DELTAS,):
        try:
            check_wrt(model, (name,))
        except ValueError:
            continue
        out.append(name)
    return tuple(out)


def _leaf_fields(obj):
    """Names of the fields of the dataclass ``obj`` that are leaves of its pytree (not static)."""
    leaves = jax.tree_util.tree_flatten_with_path(obj, is_leaf=lambda x: x is not obj and x is not None)[0]
    names = {path[0].name for path, _ in leaves if path and isinstance(path[0], jax.tree_util.GetAttrKey)}
    if names or not leaves:
        return names
    return {f.name for f in dataclasses.fields(obj) if not f.metadata.get("static", False)}  # unkeyed registration


def _is_real_number(value):
    """Whether ``value`` is a real (integer or float, not boolean) number or array: what the tangents need."""
    try:
        dtype = np.asarray(value).dtype if not hasattr(value, "dtype") else np.dtype(value.dtype)
    except (TypeError, ValueError):
        return False
    return dtype != np.bool_ and (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))


def parameter_names(wrt):
    """The names of ``wrt`` that are forward-mode parameters (everything but ``"deltas"``)."""
    return tuple(n for n in wrt if n != DELTAS)


def _owner(model, name):
    if name in MODEL_FIELDS:
        return "model"
    if dataclasses.is_dataclass(model.distribution) and name in [
        f.name for f in dataclasses.fields(model.distribution)
    ]:
        return "distribution"
    return "coupling"


def parameter_values(model, names, dtype):
    """{name: value} of the parameters ``names`` (arrays of ``dtype``)."""
    out = {}
    for name in names:
        owner = {"model": model, "distribution": model.distribution, "coupling": model.coupling}[_owner(model, name)]
        out[name] = jnp.asarray(getattr(owner, name)).astype(dtype)
    return out


def flatten_parameters(values, names):
    """(flat vector, unravel → {name: value}) with the entries in the order of ``names``."""
    flat, unravel = ravel_pytree([values[n] for n in names])
    return flat, lambda p: dict(zip(names, unravel(p)))


def with_parameters(model, values):
    """A copy of ``model`` with the parameters ``values`` ({name: value}) put in place."""
    groups = {"model": {}, "distribution": {}, "coupling": {}}
    for name, v in values.items():
        groups[_owner(model, name)][name] = v
    changes = dict(groups["model"])
    if groups["distribution"]:
        changes["distribution"] = dataclasses.replace(model.distribution, **groups["distribution"])
    if groups["coupling"]:
        changes["coupling"] = dataclasses.replace(model.coupling, **groups["coupling"])
    return model.replace(**changes) if changes else model


def n_tangents(model, wrt) -> int:
    """Number of forward tangents (entries of every parameter; a θ schedule counts N)."""
    return int(sum(np.size(np.asarray(v)) for v in parameter_values(model, parameter_names(wrt), jnp.float64).values()))


def is_state_function(rho0) -> bool:
    """Whether ``rho0`` is a function of the model, not a state (a QuTiP ``Qobj`` is callable too: it has a
    shape)."""
    return callable(rho0) and not hasattr(rho0, "shape") and not hasattr(rho0, "__array__")


def initial_state(rho0, model, names):
    """``(ρ0, ∂ρ0)`` of ``jt.ensemble``'s ``rho0``: an array as it is (∂ρ0 None), or a function of the model
    (e.g. ``lambda m: jt.thermal_state(m.d, m.beta, m.g0)``) evaluated at ``model``, with its tangents
    (P, d, d) along the parameters ``names`` (forward mode; None where it does not move with them), which
    the engine streams from collision 0 on, so the derivatives include ρ0's dependence (docs/ensemble.md §5)."""
    if not is_state_function(rho0):
        return rho0, None
    try:
        value = rho0(model)
    except Exception as err:
        if type(err) in (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
            raise type(err)(f"rho0: the function of the model raised: {err}") from err
        err.add_note("raised by rho0, the function of the model given as the initial state")
        raise  # another type may take other arguments: as it is, with the note
    names = parameter_names(names)
    if not names or value is None:
        return value, None
    flat, unravel = flatten_parameters(parameter_values(model, names, jnp.float64), names)

    def state(p):
        return jnp.asarray(rho0(with_parameters(model, unravel(p)))).astype(jnp.complex128)

    try:
        tangents = jax.vmap(lambda t: jax.jvp(state, (flat,), (t,))[1])(jnp.eye(flat.shape[0], dtype=flat.dtype))
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError, TypeError) as err:
        raise ValueError(
            f"rho0: with wrt={names}, the function of the model must be written in jax.numpy (it is "
            f"differentiated with respect to the parameters): {type(err).__name__}: {err}"
        ) from err
    tangents = np.asarray(tangents)
    if not np.all(np.isfinite(tangents)):
        raise ValueError(f"rho0: the derivative of the function of the model along {names} is not finite")
    return value, (tangents if np.any(tangents != 0) else None)


class _TangentStream(NamedTuple):
    # (state tangents with the P tangents on axis 1, tangents (B, P) of the running sums of W, Q and β_r Q_r)
    carry0: object
    xs: object  # per step: (δ tangents (B, P), step index r)
    step: object
    total: object  # the moments of ∂(ΔS_1 + … + ΔS_N) per configuration from the final carry


def tangent_stream(
    model, seed_key, indices, mask, state, layout, *, names, n_steps, alphas, draw_dtype, rho0_tangent=None
):
    """The tangents of the parameters ``names``, carried through the kernel's scan (``wrt``).

    A factory for :func:`~jaxthermo.ensemble._kernel.model_a_chunk`'s ``tangents``: ``step`` runs the
    kernel's chunk collision once under ``jax.jvp`` (vmapped over the P tangent directions, primal
    unbatched) — the fused real qubit collision where the kernel uses it — returns the primal to the
    kernel's plain statistics and reduces the tangents over the chunk to ``sens_work``, ``sens_heat``,
    ``sens_energy_change``, ``sens_cumulative_work`` (means (P,) and M2 per step), ``sens_state``
    ((P, d, d), mean only) and ``sens_divergence`` ((P, n_alpha)); ``total`` reduces the tangents of each
    configuration's ΔS_1 + … + ΔS_N to ``sens_total_entropy_production`` (means (P,) and M2) after the scan.
    ``rho0_tangent``: ∂ρ0 (P, d, d) of a ρ0 that moves with the parameters (:func:`initial_state`), the
    state's tangents at collision 0 (else zero); ``layout`` (:func:`~jaxthermo.ensemble._layout.layout_of`) is how
    the kernel carries the state, and its tangents.
    """
    rdt = jax.tree.leaves(state)[0].real.dtype
    flat, unravel = flatten_parameters(parameter_values(model, names, rdt), names)
    n_par = flat.shape[0]
    basis = jnp.eye(n_par, dtype=rdt)

    def draws(p):
        m = with_parameters(model, unravel(p))
        return sample_steps(m.distribution, seed_key, indices, n_steps, rdt, draw_dtype)

    ddeltas = jax.vmap(lambda t: jax.jvp(draws, (flat,), (t,))[1], out_axes=2)(basis)  # (N, B, P)
    b = indices.shape[0]
    if rho0_tangent is None:
        dstate = jax.tree.map(lambda s: jnp.zeros(s.shape[:1] + (n_par,) + s.shape[1:], s.dtype), state)
    else:  # the same ∂ρ0 for every configuration of the chunk, in the kernel's representation
        d0 = layout.carry(rho0_tangent)  # (P, d, d) → (P, d, d) or real rows, e.g. the qubit's ((P,), (P,), (P,))
        dstate = jax.tree.map(lambda t, s: jnp.broadcast_to(t.astype(s.dtype), s.shape[:1] + t.shape), d0, state)
    zeros = jnp.zeros((b, n_par), rdt)
    carry0 = (dstate, zeros, zeros, zeros)
    xs = (ddeltas, jnp.arange(n_steps))

    def step(physics, state, tcarry, delta, tx):
        dstate, dw, dq, dflow_n = tcarry
        ddelta, r = tx

        def f(p, st, dl):
            m = with_parameters(model, unravel(p))
            theta = jnp.broadcast_to(jnp.asarray(m.theta).astype(rdt), (n_steps,))[r]
            st, e, div = physics(m, st, dl, theta)
            return st, e, div, reservoir_parameters_of(m, dl).beta * e.heat  # the entropy flow β_r Q_r, any kind

        def jvp_k(t, ds, dd):
            return jax.jvp(f, (flat, state, delta), (t, ds, dd))

        (state, e, div, _), (dstate, de, ddiv, dflow) = jax.vmap(jvp_k, in_axes=(0, 1, 1), out_axes=(None, 1))(
            basis, dstate, ddelta
        )
        dw, dq, dflow_n = dw + de.work, dq + de.heat, dflow_n + dflow
        stats = {
            _PREFIX + "work": chunk_moments(de.work, mask),
            _PREFIX + "heat": chunk_moments(de.heat, mask),
            _PREFIX + "energy_change": chunk_moments(de.energy_change, mask),
            _PREFIX + "cumulative_work": chunk_moments(dw, mask),
            _PREFIX + "entropy_flow": chunk_moments(dflow, mask),
            _PREFIX + "state": layout.tangent_mean(dstate, mask),
        }
        if alphas:
            stats[_PREFIX + "divergence"] = chunk_moments(ddiv, mask)
        return state, e, div, (dstate, dw, dq, dflow_n), stats

    def total(production, rho0, state, tcarry, w_n, q_n, flow_n):
        """Moments over the chunk of ∂(ΔS_1 + … + ΔS_N) per configuration: ``production(m, ρ0, state, W_N, Q_N,
        Σ β_r Q_r)`` (the kernel's, :func:`~jaxthermo.ensemble._quantities.total_entropy_production`) under
        ``jax.jvp`` with the final carry's tangents and ∂ρ0 (``flow_n`` None for the Hamiltonian kind)."""
        dstate, dw, dq, dflow_n = tcarry
        drho0 = jnp.zeros((n_par,) + rho0.shape, rho0.dtype) if rho0_tangent is None else rho0_tangent

        def f(p, r0, st, w, q, flow):
            return production(with_parameters(model, unravel(p)), r0, st, w, q, flow)

        def jvp_k(t, dr0, ds, dwk, dqk, dfk):
            flows = (None, None) if flow_n is None else (flow_n, dfk)
            primals, tangents = (flat, rho0, state, w_n, q_n, flows[0]), (t, dr0, ds, dwk, dqk, flows[1])
            return jax.jvp(f, primals, tangents)[1]

        dtotal = jax.vmap(jvp_k, in_axes=(0, 0, 1, 1, 1, 1), out_axes=1)(
            basis, drho0.astype(rho0.dtype), dstate, dw, dq, dflow_n
        )  # (B, P)
        return {_PREFIX + "total_entropy_production": chunk_moments(dtotal, mask)}

    return _TangentStream(carry0, xs, step, total)


def delta_chunk(
    model, rho0, seed_key, indices, mask, work_edges, collision_edges, *, n_steps, alphas, coherent, draw_dtype
):
    """Moments over one chunk of the reverse-mode δ gradients (``"deltas"`` in ``wrt``): ``dsens_work`` (N,),
    ``dsens_free_energy`` (N, n_alpha)."""
    rdt = jnp.real(rho0).dtype
    return _delta_moments(model, rho0, seed_key, indices, mask, n_steps, alphas, coherent, draw_dtype, rdt)


def _states_for_divergence(rho, coherent):
    if coherent:
        return rho
    p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
    return p[..., :, None] * jnp.eye(p.shape[-1], dtype=p.dtype)


def _delta_moments(model, rho0, seed_key, indices, mask, n_steps, alphas, coherent, draw_dtype, rdt):
    deltas = sample_chunk(model.distribution, seed_key, indices, n_steps, rdt, draw_dtype)
    theta, thetas = scan_thetas(model, rdt)
    beta = jnp.asarray(model.beta).astype(rdt)

    def final(dl):
        def step(carry, x):
            rho, w = carry
            rho, e = collision_step(model, rho, x[0], theta if x[1] is None else x[1])
            return (rho, w + e.work), None

        (rho, w), _ = jax.lax.scan(step, (rho0, jnp.zeros((), rdt)), (dl, thetas))
        if alphas:
            f = model_divergences(model, _states_for_divergence(rho, coherent), alphas, coherent) / beta
        else:
            f = jnp.zeros((0,), rdt)
        return w, f

    gw, gf = jax.vmap(jax.jacrev(final))(deltas)  # (B, N), (B, n_alpha, N)
    out = {_DELTA_PREFIX + "work": chunk_moments(gw, mask)}
    if alphas:
        out[_DELTA_PREFIX + "free_energy"] = chunk_moments(jnp.swapaxes(gf, 1, 2), mask)
    return out


# ----------------------------------------------------------------------------- results


def _entropy_sensitivity(model, stats, result, fields, alphas, name, pick) -> dict:
    """∂/∂``name`` of the result's entropy fields (docs/ensemble.md §2, "Entropy"): the streamed flow tangent's
    moments, and ∂⟨ΔS_r⟩ = ∂(β⟨ΔU_r⟩) − (∂⟨D_1⟩_r − ∂⟨D_1⟩_{r−1}) − ∂⟨β_r Q_r⟩ (∂β/∂name = 1 for β only)
    wherever the result reports ⟨ΔS_r⟩; {} where it reports no flow."""
    if result.mean_entropy_flow is None or _PREFIX + "entropy_flow" not in stats:
        return {}
    mom = stats[_PREFIX + "entropy_flow"]
    out = dict(mean_entropy_flow=pick(mom.mean), var_entropy_flow=pick(variance(mom)))
    if result.mean_entropy_production is None:
        return out
    d_u = fields["mean_energy_change"]  # ∂⟨ΔU_r⟩, (N,) or (N, entries)
    along = lambda x: np.reshape(x, np.shape(x) + (1,) * (d_u.ndim - np.ndim(x)))
    d_beta = 1.0 if name == "beta" else 0.0
    beta = np.asarray(model.beta, d_u.dtype)
    d_bu = d_beta * along(result.mean_energy_change) + beta * d_u  # ∂(β⟨ΔU_r⟩)
    d_d1 = fields["mean_divergence"][:, alphas.index(1.0)]  # ∂⟨D_1⟩_r, r = 0…N
    out["mean_entropy_production"] = d_bu - (d_d1[1:] - d_d1[:-1]) - out["mean_entropy_flow"]
    out["mean_cumulative_entropy_production"] = (
        np.cumsum(d_bu, axis=0) - (d_d1[1:] - d_d1[0]) - np.cumsum(out["mean_entropy_flow"], axis=0)
    )
    return out


@dataclasses.dataclass(frozen=True)
class Sensitivity(MeansOverConfigurations):
    """Derivatives of an ensemble's streamed means with respect to one parameter (docs/ensemble.md §5).

    Same field names and shapes as :class:`~jaxthermo.EnsembleResult`, with a trailing axis for a
    parameter with several entries (a θ schedule: (…, N)). ``mean_x`` is ∂⟨x⟩/∂parameter (the mean
    over configurations of the per-configuration derivative) and ``var_x`` the variance of the
    per-configuration derivative; :meth:`standard_error` gives √(var/n). The mean-state functionals
    (``mean_state_divergence``, ``mean_state_trace_distance``, ``mean_state_thermal_trace_distance``)
    are derivatives by the chain rule through ∂ρ̄_r (no separate error).
    """

    name: str
    n_configs: int
    mean_work: np.ndarray
    var_work: np.ndarray
    mean_heat: np.ndarray
    var_heat: np.ndarray
    mean_energy_change: np.ndarray
    var_energy_change: np.ndarray
    mean_cumulative_work: np.ndarray
    var_cumulative_work: np.ndarray
    mean_state: np.ndarray
    mean_divergence: np.ndarray
    var_divergence: np.ndarray
    mean_state_divergence: np.ndarray
    mean_state_trace_distance: np.ndarray
    mean_state_thermal_trace_distance: np.ndarray
    # ∂⟨β_r Q_r⟩ (mean and variance of the per-configuration derivative) and ∂⟨ΔS_r⟩, ∂⟨ΔS_1 + … + ΔS_r⟩ by the
    # chain rule through ⟨ΔU_r⟩, the frozen ⟨D_1⟩ and the flow (None where the result has none; older files)
    mean_entropy_flow: np.ndarray = None
    var_entropy_flow: np.ndarray = None
    mean_entropy_production: np.ndarray = None
    mean_cumulative_entropy_production: np.ndarray = None
    # ∂(ΔS_1 + … + ΔS_N): mean and variance of each configuration's derivative, streamed for every run whatever
    # the alphas (None in older files and checkpoints)
    mean_total_entropy_production: np.ndarray = None
    var_total_entropy_production: np.ndarray = None


class DeltaSensitivity(NamedTuple):
    """Per collision r: mean and variance over configurations of ∂W_N/∂δ_r (N,) and of
    ∂F_α(ρ_{S|N}‖τ_S)/∂δ_r (N, n_alpha) — which reservoir qudits matter."""

    mean_work: np.ndarray
    var_work: np.ndarray
    mean_free_energy: np.ndarray
    var_free_energy: np.ndarray
    n_configs: int

    def standard_error(self, name: str):
        """√(var/n) of ``mean_work`` (``"work"``) or ``mean_free_energy`` (``"free_energy"``)."""
        return standard_error(getattr(self, f"var_{name}"), self.n_configs)


def sensitivities_from_stats(model, stats, info, result, wrt):
    """``({name: Sensitivity}, DeltaSensitivity | None)`` of one grid point from merged reductions."""
    names = parameter_names(wrt)
    n = int(info["n_configs"])
    rho0 = jnp.asarray(info["rho0"])
    rdt = jnp.real(rho0).dtype
    alphas = tuple(float(a) for a in np.atleast_1d(info["alphas"]))
    coherent = bool(info["coherent"])
    sens = {}
    if names:
        values = parameter_values(model, names, rdt)
        flat, unravel = flatten_parameters(values, names)
        n_par = flat.shape[0]
        basis = jnp.eye(n_par, dtype=rdt)
        mean_state = jnp.asarray(result.mean_state)
        moving = info.get("rho0_tangents")  # ∂ρ0 (P, d, d) of a ρ0 that moves with the parameters
        d_state0 = jnp.zeros((n_par,) + rho0.shape, rho0.dtype) if moving is None else jnp.asarray(moving)
        d_state = jnp.concatenate(
            [d_state0[None].astype(rho0.dtype), jnp.asarray(stats[_PREFIX + "state"].mean)], axis=0
        )  # (N+1, P, d, d)

        def functionals(p, rho_bar):
            m = with_parameters(model, unravel(p))
            if alphas:
                div = model_divergences(m, _states_for_divergence(rho_bar, coherent), alphas, coherent)
                div0 = div[0]  # D_α(ρ0‖τ_S): ρ̄_0 = ρ0, with its tangent ∂ρ0
            else:
                div = jnp.zeros(rho_bar.shape[:1] + (0,), rdt)
                div0 = jnp.zeros((0,), rdt)
            tau_bar = averaged_reservoir_state(m, m.distribution).astype(rho_bar.dtype)
            beta, g0 = jnp.asarray(m.beta).astype(rdt), jnp.asarray(m.g0).astype(rdt)
            tau_s = thermal_state(model.d, beta, g0).astype(rho_bar.dtype)
            return div, trace_distance(rho_bar, tau_bar), trace_distance(rho_bar, tau_s), div0

        tangents = jax.vmap(lambda t, ds: jax.jvp(functionals, (flat, mean_state), (t, ds))[1], (0, 1))(basis, d_state)
        d_div, d_td, d_tds, d_div0 = (np.moveaxis(np.asarray(x), 0, -1) for x in tangents)  # P last
        offset = 0
        for name in names:
            size = int(np.size(np.asarray(values[name])))
            sl = slice(offset, offset + size)
            offset += size
            is_scalar = np.ndim(values[name]) == 0

            def pick(x, sl=sl, scalar=is_scalar):
                x = np.asarray(x)[..., sl]
                return x[..., 0] if scalar else x

            fields = {}
            for field in _STREAMED:
                mom = stats[_PREFIX + field]
                fields[f"mean_{field}"] = pick(mom.mean)
                fields[f"var_{field}"] = pick(variance(mom))
            fields["mean_state"] = pick(np.moveaxis(np.asarray(d_state), 1, -1))
            if alphas:
                mom = stats[_PREFIX + "divergence"]
                mean_div = np.concatenate([d_div0[None], np.swapaxes(np.asarray(mom.mean), 1, 2)], axis=0)
                var_div = np.concatenate([np.zeros_like(d_div0)[None], np.swapaxes(variance(mom), 1, 2)], axis=0)
                # rows the result does not report (divergence_every > 1) are NaN here too
                skipped = np.isnan(np.asarray(result.mean_divergence))[..., None]
                mean_div, var_div = np.where(skipped, np.nan, mean_div), np.where(skipped, np.nan, var_div)
            else:
                mean_div = var_div = np.zeros((int(info["n_steps"]) + 1, 0, n_par), np.dtype(str(rdt)))
            fields["mean_divergence"] = pick(mean_div)
            fields["var_divergence"] = pick(var_div)
            fields["mean_state_divergence"] = pick(d_div)
            fields["mean_state_trace_distance"] = pick(d_td)
            fields["mean_state_thermal_trace_distance"] = pick(d_tds)
            fields.update(_entropy_sensitivity(model, stats, result, fields, alphas, name, pick))
            if _PREFIX + "total_entropy_production" in stats:  # absent from a checkpoint written before it
                mom = stats[_PREFIX + "total_entropy_production"]
                fields.update(
                    mean_total_entropy_production=pick(mom.mean), var_total_entropy_production=pick(variance(mom))
                )
            sens[name] = Sensitivity(name=name, n_configs=n, **fields)
    delta = None
    if DELTAS in wrt:
        mw = stats[_DELTA_PREFIX + "work"]
        if alphas:
            mf = stats[_DELTA_PREFIX + "free_energy"]
            mean_f, var_f = np.asarray(mf.mean), variance(mf)
        else:
            mean_f = var_f = np.zeros((int(info["n_steps"]), 0))
        delta = DeltaSensitivity(np.asarray(mw.mean), variance(mw), mean_f, var_f, n)
    return sens, delta
