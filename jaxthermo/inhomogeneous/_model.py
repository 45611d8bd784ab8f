"""Model A: a qudit colliding with inhomogeneous reservoir qudits (docs/inhomogeneous.md).

The reservoir qudit of collision r is thermal for ``g_r s_z`` at inverse temperature ``β_r``:

* ``kind="hamiltonian"``: ``g_r = g0 (1 + δ_r)``, ``β_r = β`` (resource operation, work generated);
* ``kind="temperature"``: ``β_r = β (1 + δ_r)``, ``g_r = g0`` (resource state, no work).

Both give ``τ(δ) = diag q_j(δ)`` with ``a(δ) = e^{−βg0(1+δ)}``.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import complex_dtype_for
from .._linalg import expm
from .._qudit import partial_swap, spin_z, spin_z_diagonal, swap, tensor, thermal_populations
from .._validation import (
    check_choice,
    check_dimension,
    check_finite,
    check_numeric,
    is_concrete,
    refuse_overflow,
    register_checked_dataclass,
    should_validate,
    takes_model,
)
from ._distributions import check_distribution, largest_delta

KINDS = ("hamiltonian", "temperature")


class Coupling(abc.ABC):
    """Base class of the system–reservoir couplings (the extension point for a user's own unitary).

    A coupling gives the two-body unitary of one collision, ``unitary(model, theta, delta)``, a
    (d², d²) complex matrix on system ⊗ reservoir qudit (docs/conventions.md: tensor order), for the
    mixing angle θ of this collision and the inhomogeneity δ of this reservoir qudit (scalars of the
    run's real dtype; the model gives d, β, g0, kind, and :func:`reservoir_parameters`). Collisions
    with any coupling other than :class:`PartialSwap` go through the full density matrix
    (:func:`~jaxthermo.inhomogeneous.collide_generic`); only :class:`PartialSwap` itself takes the
    closed-form fast path. Like the distributions, a coupling must be a JAX pytree::

        @jax.tree_util.register_dataclass
        @dataclasses.dataclass(frozen=True)
        class MyCoupling(jaxthermo.Coupling):
            strength: float = 1.0

            def unitary(self, model, theta, delta):
                ...  # (d², d²) unitary

    (a coupling without fields still needs the two decorators). Another shape, or a matrix that is not
    unitary to rounding, raises a ``ValueError`` naming ``MyCoupling.unitary`` (docs/inhomogeneous.md §12).
    """

    @abc.abstractmethod
    def unitary(self, model, theta, delta):
        """The (d², d²) unitary of one collision."""


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class PartialSwap(Coupling):
    """Coupling ``U(θ) = cos θ · I + i sin θ · S`` (docs/conventions.md); has a closed-form fast path."""

    def unitary(self, model, theta, delta):
        return partial_swap(model.d, theta)


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class ExactUnitary(Coupling):
    """Coupling ``U = exp(−i t_int (H_S + H_r + H_int))``, ``H_int = −g_int S``, ``t_int = θ/g_int``.

    [ATO-preprint] appendix A1: this reduces to the partial swap when σ ≪ 2 g_int/(g0 (d − 1)).
    """

    g_int: Any = 1.0

    def __post_init__(self):
        check_numeric(self.g_int, "g_int")
        if should_validate(self.g_int):
            check_finite(self.g_int, "g_int")
            if np.any(np.asarray(self.g_int, dtype=float) == 0):
                raise ValueError("g_int must be non-zero (θ = g_int t_int)")

    def unitary(self, model, theta, delta):
        """``exp(−i t_int (H_S + H_r + H_int))`` as ``exp(−i t_int H_0) · exp(−i t_int X)`` with
        ``H_0 = g0(s_z ⊗ 1 + 1 ⊗ s_z)`` and ``X = (g_r − g0) 1 ⊗ s_z − g_int S`` (docs/inhomogeneous.md
        §11: H_0 commutes with S and with 1 ⊗ s_z, so the factorisation is exact). The first factor is
        diagonal, its phases computed one by one; only X goes through the matrix exponential, whose
        norm |θ|(|δ g0|(d − 1)/2 + |g_int|)/|g_int| is smaller by about δ than that of the whole
        exponent. The whole exponent in one matrix exponential returned NaN beyond a norm of about
        7·10⁵ (JAX's ``expm`` stops at 16 squarings): g_int ≤ 10⁻⁷ at θ = 0.1, g0 = 1."""
        if np.ndim(theta) != 0 or np.ndim(delta) != 0:  # a (2,) δ broadcast into one matrix matching neither δ
            raise ValueError(
                f"ExactUnitary.unitary takes one theta and one delta (scalars); got shapes {np.shape(theta)}, "
                f"{np.shape(delta)}: use jax.vmap for a batch"
            )
        d = model.d
        dtype = jnp.result_type(theta, delta)  # a float32 run stays float32 (no float64 inside, docs §13)
        out = complex_dtype_for(dtype)
        theta, delta = jnp.asarray(theta).astype(dtype), jnp.asarray(delta).astype(dtype)
        cdt = complex_dtype_for(dtype)
        _, g_r = reservoir_parameters(model, delta)
        eye = jnp.eye(d, dtype=dtype)
        sz = spin_z(d, dtype)
        m = jnp.diagonal(sz)
        g0 = jnp.asarray(model.g0).astype(dtype)
        g_int = jnp.asarray(self.g_int).astype(dtype)
        t_int = theta / g_int
        energies = g0 * (m[:, None] + m[None, :]).reshape(-1)  # H_0's diagonal, index a*d + b
        phases = jnp.exp((-1j * (t_int * energies)).astype(cdt))
        x = tensor(eye, (g_r - g0) * sz) - g_int * swap(d, dtype)
        return (phases[:, None] * expm((-1j * t_int * x).astype(cdt))).astype(out)


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class InhomogeneousReservoir:
    """Model A: system ``H_S = g0 s_z`` colliding with reservoir qudits ``τ(δ_r)`` (docs/inhomogeneous.md).

    Args:
      d: qudit dimension (static), d >= 2.
      beta: inverse temperature β of the unperturbed reservoir.
      g0: system (and unperturbed reservoir) level spacing.
      theta: mixing angle θ, a scalar, or a (N,) schedule θ_r for :func:`trajectory`.
      kind: ``"hamiltonian"`` or ``"temperature"`` (static).
      coupling: a :class:`Coupling`: :class:`PartialSwap` (default), :class:`ExactUnitary` or a user's own.
      distribution: the law G(δ) of the inhomogeneity, a :class:`~jaxthermo.Distribution` (``Gaussian``,
        ``Uniform``, ``TwoPoint``, ``Empirical`` or a user's own), needed by the ensemble functions;
        ``None`` for fixed δ sequences.

    β, g0 and θ must be finite, and with a built-in law the reservoir qudit's parameters must stay
    finite in the model's precision over every δ the law is evaluated at (:func:`check_representable`;
    ``ValueError`` naming the parameters otherwise). A δ_r < −1 is computed as it is: g_r ≤ 0 (Hamiltonian
    kind: an inverted reservoir qudit, more populated in its upper levels) or β_r ≤ 0 (temperature kind,
    which warns), both finite; δ_r = −1 gives the maximally mixed τ(δ) (docs/inhomogeneous.md §3).

    Example:
      >>> model = InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1, kind="hamiltonian")
    """

    d: int = dataclasses.field(metadata=dict(static=True))
    beta: Any
    g0: Any
    theta: Any
    kind: str = dataclasses.field(default="hamiltonian", metadata=dict(static=True))
    coupling: Any = dataclasses.field(default_factory=PartialSwap)
    distribution: Any = None

    def __post_init__(self):
        check_dimension(self.d, "d")
        check_choice(self.kind, "kind", KINDS)
        if not isinstance(self.coupling, Coupling):
            raise TypeError(
                f"coupling must be a Coupling (PartialSwap(), ExactUnitary(g_int) or a subclass); "
                f"got {type(self.coupling).__name__}"
            )
        check_distribution(self.distribution)
        for name in ("beta", "g0", "theta"):
            value = getattr(self, name)
            check_numeric(value, name)
            if should_validate(value):
                _check_parameter_shape(value, name)
                check_finite(value, name)
            else:  # traced: staged under validate="always" (a NaN θ ran through)
                check_finite(value, f"model.{name}")
        check_representable(self)
        _warn_outside_assumptions(self)

    @property
    def system_hamiltonian(self):
        """``H_S = g0 s_z`` (d, d)."""
        g0 = jnp.asarray(self.g0)
        return g0 * spin_z(self.d, jnp.result_type(g0.dtype, spin_z(self.d).dtype))

    def replace(self, **changes) -> InhomogeneousReservoir:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


model_a = takes_model(InhomogeneousReservoir, "a model A, jt.InhomogeneousReservoir")


def _check_parameter_shape(value, name) -> None:
    """β and g0 scalars, θ a scalar or a non-empty (N,) schedule (concrete values): a (2,) β was taken and every
    function then failed inside JAX ("scan body function carry input and carry output must have equal types",
    "Cannot concatenate arrays ..."; ``entropy_production`` returned two values), an empty schedule failed as
    NumPy's "zero-size array to reduction operation maximum"."""
    shape = np.shape(value)
    if name == "theta":
        if len(shape) > 1 or shape == (0,):
            raise ValueError(f"theta must be a scalar or a non-empty (N,) schedule θ_r; got shape {shape}")
    elif shape != ():
        raise ValueError(f"{name} must be a scalar; got shape {shape} (use jax.vmap or jt.sweep for several)")


# the temperature kind's Gaussian law is warned of when its δ < −1 (β_r < 0) may make up this share of an averaged
# population, or when that tail lies within 5σ (the old rule)
_NEGATIVE_SHARE = 1e-6
_NEGATIVE_MASS = 2.866515718791939e-07  # P(δ < −5σ), Φ(−5)


def _warn_outside_assumptions(model) -> None:
    """Warn (not refuse) for an inverted or vanishing spacing, a negative temperature and, in the temperature kind,
    reservoir qudits that the distribution gives a negative temperature (docs/inhomogeneous.md §1, "Signs"):
    βg0 < 0 is a population-inverted (negative-temperature) reservoir, a legal state of a finite-level system that
    the papers do not treat, so a sweep over signs runs, with a warning naming the parameter."""
    if should_validate(model.beta) and np.any(np.asarray(model.beta, float) < 0):
        warnings.warn(
            f"beta={model.beta}: a negative temperature, a population-inverted reservoir (legal: only beta*g0 enters "
            "tau; docs/inhomogeneous.md assumes beta >= 0, §1 'Signs')",
            stacklevel=3,
        )
    if should_validate(model.g0) and np.any(np.asarray(model.g0, float) <= 0):
        warnings.warn(
            f"g0={model.g0}: an inverted or vanishing level spacing (|0> is the ground state only for g0 > 0; legal, "
            "docs/inhomogeneous.md §1 'Signs')",
            stacklevel=3,
        )
    dist = model.distribution
    if model.kind != "temperature" or dist is None:
        return
    if type(dist).__name__ == "Gaussian":
        _warn_gaussian_temperature_tail(model, dist)
        return
    # beta_r = beta (1 + delta) < 0 where delta < -1
    lowest = {
        "Uniform": lambda: -0.5 * np.asarray(dist.width),
        "TwoPoint": lambda: -np.asarray(dist.delta),
        "Empirical": lambda: np.min(np.asarray(dist.samples)),
    }
    field = {"Uniform": "width", "TwoPoint": "delta", "Empirical": "samples"}.get(type(dist).__name__)
    if field is None or not should_validate(getattr(dist, field)):
        return
    low = float(np.min(lowest[type(dist).__name__]()))
    if low < -1:
        warnings.warn(
            f"kind='temperature' with {type(dist).__name__}: delta reaches {low:.3g} < -1, where the reservoir "
            "qudit's temperature beta (1 + delta) is negative",
            stacklevel=3,
        )


def _warn_gaussian_temperature_tail(model, dist) -> None:
    """The temperature kind with ``Gaussian(sigma)``: β_r = β(1 + δ) < 0 on δ < −1, with probability
    P = Φ(−1/σ). The law is not truncated (its quadrature and ``jt.ensemble``'s draws both include these qudits,
    docs/inhomogeneous.md §3), and a cold reservoir's small averaged populations may come mostly from them: the
    smallest, q̄_min, is at least q_min(0)/2 (an end level, monotonic in δ), so δ < −1 makes up at most
    2P/q_min(0) of it (qubit, βg0 = 100, σ = 0.1: P = 7.6·10⁻²⁴, q̄_1 = 9.6·10⁻²³, 5.5 % of it from δ < −1). Warned when that bound
    exceeds 10⁻⁶ or the tail lies within 5σ."""
    if not all(should_validate(v) for v in (dist.sigma, model.beta, model.g0)):
        return
    sigma = float(np.asarray(dist.sigma, float))
    if sigma == 0:
        return
    from scipy.special import log_ndtr, logsumexp

    log_mass = float(log_ndtr(-1.0 / sigma))
    x = float(np.asarray(model.beta, float) * np.asarray(model.g0, float))
    m = np.arange(model.d) - (model.d - 1) / 2
    log_q_min = float(np.min(-x * m - logsumexp(-x * m)))
    log_share = math.log(2.0) + log_mass - log_q_min
    if log_mass <= math.log(_NEGATIVE_MASS) and log_share <= math.log(_NEGATIVE_SHARE):
        return
    share = "all" if log_share >= 0 else f"{math.exp(log_share):.3g}"
    warnings.warn(
        f"kind='temperature' with Gaussian sigma={sigma:.3g}: probability {math.exp(log_mass):.3g} of delta < -1, "
        "where the reservoir qudit's inverse temperature beta (1 + delta) has the sign opposite to beta's (negative "
        "for beta > 0); the law is not truncated (the "
        "averages and jt.ensemble's draws include these qudits) and they make up to "
        f"{share} of the smallest averaged population at beta*g0 = {x:.3g} (docs/inhomogeneous.md §3)",
        stacklevel=4,
    )


def check_representable(model, dtype=None, n_steps=None, *, deltas=None, delta_name="deltas") -> None:
    """Refuse, with a ``ValueError`` naming the parameters, a model whose numbers overflow the real
    ``dtype`` (default: the precision of β, g0 and θ; float64 for Python numbers) — they would turn into
    inf and NaN without an error. With M the largest number of ``dtype`` and Δ the largest |δ| at which the
    model's law is evaluated (:func:`~jaxthermo.inhomogeneous._distributions.largest_delta`; 0 without a
    built-in law):

    * β, g0 and θ are at most M in magnitude (a float32 run casts them);
    * the reservoir qudit's parameters stay finite: |g0|(1 + Δ) ≤ M (Hamiltonian kind, g_r = g0(1 + δ)) or
      |β|(1 + Δ) ≤ M (temperature kind, β_r = β(1 + δ)), and the exponent of τ(δ) across its levels,
      |β g0|(1 + Δ)(d − 1) ≤ M;
    * with ``n_steps`` (an ensemble of N collisions), the second moments of the cumulative work and heat:
      |W_r|, |Q_r| ≤ E = |g0|(1 + Δ)(d − 1) (temperature kind |g0|(d − 1)) per collision
      (docs/inhomogeneous.md §2), so (N E)² ≤ M.

    With ``deltas`` (the concrete δ's of a trajectory or of one collision, named ``delta_name`` in the
    error; :func:`~jaxthermo.inhomogeneous.trajectory` and ``collide``), the reservoir's bounds at those
    δ's instead of the law's, with Δ = max |δ| and the largest |1 + δ| in place of 1 + Δ, and the energies
    of one collision, |Q| ≤ |g_r|(d − 1) and |W| ≤ |g0| Δ (d − 1) (docs/inhomogeneous.md §2); β, g0, θ,
    the law and the exact unitary are not checked again there.

    Traced parameters are not checked.
    """
    values = {name: getattr(model, name) for name in ("beta", "g0", "theta")}
    if not all(should_validate(v) for v in values.values()):
        return
    if dtype is None:
        dtype = np.result_type(*(np.asarray(v).dtype for v in values.values()), np.float32)
    dtype = np.dtype(dtype)
    largest = float(np.finfo(dtype).max)
    size = {name: float(np.max(np.abs(np.asarray(v, float)))) for name, v in values.items()}
    # in logarithms: the products themselves may overflow
    log = {name: math.log(v) if v > 0 else -math.inf for name, v in size.items()}
    log_levels, log_largest = math.log(model.d - 1), math.log(largest)
    if deltas is not None:
        _check_deltas(model, deltas, delta_name, size, log, dtype)
        return

    for name, value in size.items():
        if value > largest:
            raise ValueError(f"{name}={value:.3g}: overflows {dtype.name} (largest {largest:.3g})")
    dist = model.distribution
    reach = largest_delta(dist) if dist is not None else None
    if reach is None:
        reach, law = 0.0, ""
    else:
        field = {"Gaussian": "sigma", "Uniform": "width", "TwoPoint": "delta", "Empirical": "samples"}
        law = f" with {type(dist).__name__} {field[type(dist).__name__]} (|δ| up to {reach:.3g})"
    log_reach = math.log1p(reach)
    named = {
        "g0": f"g0={size['g0']:.3g}{law}",
        "beta": f"beta={size['beta']:.3g}{law}",
        "both": f"beta={size['beta']:.3g}, g0={size['g0']:.3g}{law}",
    }
    checks = [(named[key], log_value, why) for key, log_value, why in _reservoir_bounds(model, log, log_reach)]
    if n_steps is not None:
        log_energy = log["g0"] + (log_reach if model.kind == "hamiltonian" else 0.0) + log_levels
        checks.append(
            (
                f"g0={size['g0']:.3g}{law}, n_steps={n_steps if n_steps < 10**15 else f'10^{math.log10(n_steps):.1f}'}",
                2 * (math.log(n_steps) + log_energy),
                "the second moment of the cumulative work and heat, (n_steps |g0|(1 + δ)(d − 1))²",
            )
        )
    coupling = model.coupling
    exact = isinstance(coupling, ExactUnitary) and should_validate(coupling.g_int)
    if exact:  # t_int = θ/g_int, and the exponent t_int X of ExactUnitary.unitary
        g_int = float(np.min(np.abs(np.asarray(coupling.g_int, float))))
        what = f"theta={size['theta']:.3g}, g_int={g_int:.3g}{law}"
        checks.append((what, log["theta"] - math.log(g_int), "the interaction time |theta/g_int|"))
    for what, log_value, why in checks:
        if log_value > log_largest:
            raise ValueError(
                f"{what}: {why} ≈ 10^{log_value / math.log(10):.1f} overflows {dtype.name} (largest {largest:.3g})"
            )
    if exact:
        spread = reach * size["g0"] * (model.d - 1) / 2 if model.kind == "hamiltonian" else 0.0
        norm = size["theta"] * (spread + g_int) / g_int  # ≥ the 1-norm of t_int X
        if not _exponential_is_finite(norm, dtype):
            raise ValueError(
                f"{what}: the exponent of the exact unitary has norm up to |theta|(|δ g0|(d − 1)/2 + |g_int|)/|g_int| "
                f"= {norm:.3g}, beyond the range of the matrix exponential (jax.scipy.linalg.expm returns NaN "
                "there); a larger g_int or a smaller theta"
            )


def _reservoir_bounds(model, log, log_factor):
    """(parameters, log of the bound, what) of the reservoir qudit's numbers with |1 + δ| up to
    e^``log_factor``, from the logarithms ``log`` of |β| and |g0|: its spacing |g0|(1 + δ) (Hamiltonian
    kind) or |β|(1 + δ) (temperature kind), and the exponent |β g0 (1 + δ)|(d − 1) of τ(δ); the
    parameters as ``"g0"``, ``"beta"`` or ``"both"`` (:func:`check_representable`)."""
    levels = math.log(model.d - 1)
    if model.kind == "hamiltonian":
        first = ("g0", log["g0"] + log_factor, "the reservoir spacing |g0|(1 + δ)")
    else:
        first = ("beta", log["beta"] + log_factor, "the reservoir's |beta|(1 + δ)")
    exponent = ("both", log["beta"] + log["g0"] + log_factor + levels, "the exponent |beta g0 (1 + δ)|(d − 1) of τ(δ)")
    return [first, exponent]


def _check_deltas(model, deltas, delta_name, size, log, dtype):
    """:func:`check_representable` at the given δ's (``deltas``, named ``delta_name``)."""
    deltas = np.asarray(deltas, np.float64).ravel()
    if deltas.size == 0:
        return
    largest = float(np.finfo(dtype).max)
    reach = float(np.max(np.abs(deltas)))
    factor = float(np.max(np.abs(1.0 + deltas)))  # Python floats: a product beyond float64 is inf
    log_factor = math.log(factor) if factor > 0 else -math.inf
    levels = math.log(model.d - 1)
    log_g_r = log["g0"] + (log_factor if model.kind == "hamiltonian" else 0.0)
    checks = [(log_value, why) for _, log_value, why in _reservoir_bounds(model, log, log_factor)]
    checks.append((log_g_r + levels, "the heat of one collision, up to |g_r|(d − 1)"))
    if model.kind == "hamiltonian" and reach > 0:
        checks.append((log["g0"] + math.log(reach) + levels, "the work of one collision, up to |g0 δ|(d − 1)"))
    for log_value, why in checks:
        if log_value > math.log(largest):
            value = math.exp(log_value) if log_value < math.log(np.finfo(np.float64).max) else math.inf
            raise ValueError(
                f"{delta_name}: |δ| up to {reach:.3g} with beta={size['beta']:.3g}, g0={size['g0']:.3g} "
                f"(d = {model.d}): {why} ≈ {value:.3g} overflows {dtype.name} (largest {largest:.3g})"
            )


def _exponential_is_finite(norm, dtype) -> bool:
    """Whether the matrix exponential of an anti-Hermitian matrix of 1-norm ``norm`` is finite in
    ``dtype``: JAX's ``expm`` returns NaN when it would need more than its fixed number of squarings,
    which depends on the 1-norm only; asked of diag(−i·norm, 0), a constant, computed at once also while
    a function is traced (under ``jax.jit`` it was staged, and a model with the exact unitary could not be
    built inside a jitted loss: TracerArrayConversionError)."""
    cdt = complex_dtype_for(dtype)
    with jax.ensure_compile_time_eval():
        a = jnp.asarray(np.diag([-1j * norm, 0.0]), cdt)
        return bool(np.all(np.isfinite(np.asarray(expm(a)))))


def has_closed_form(coupling) -> bool:
    """True for exactly :class:`PartialSwap` (a subclass may change the unitary: no fast path)."""
    return type(coupling) is PartialSwap


class ReservoirParameters(NamedTuple):
    """Inverse temperature β_r and level spacing g_r of a reservoir qudit (arrays of δ's shape)."""

    beta: jnp.ndarray
    g: jnp.ndarray


@model_a
def reservoir_parameters(model: InhomogeneousReservoir, delta) -> ReservoirParameters:
    """``(β_r, g_r)`` of a reservoir qudit with inhomogeneity δ (either kind), a :class:`ReservoirParameters`."""
    if not is_concrete(delta):  # staged under validate="always" (a NaN δ was refused downstream as "g must be finite")
        check_finite(delta, "delta")
        return reservoir_parameters_of(model, delta)
    check_numeric(delta, "delta")  # NaN/inf δ: a NaN g_r and H_r without a word, or "g must be finite" downstream
    check_finite(delta, "delta")
    parameters = reservoir_parameters_of(model, delta)
    varied = (
        ("g_r = g0*(1 + delta)", parameters.g)
        if model.kind == "hamiltonian"
        else ("beta_r = beta*(1 + delta)", parameters.beta)
    )
    # δ = 10³⁰⁸ overflowed g_r to inf, refused downstream as "g must be finite"
    refuse_overflow(varied[1], f"delta: {varied[0]} overflows {jnp.result_type(varied[1]).name}")
    return parameters


def reservoir_parameters_of(model, delta) -> ReservoirParameters:
    """:func:`reservoir_parameters` of any object with ``kind``, ``beta`` and ``g0`` (the GPU tile kernel's per-tile
    namespace of scalars)."""
    delta = jnp.asarray(delta)
    beta = jnp.asarray(model.beta).astype(delta.dtype)
    g0 = jnp.asarray(model.g0).astype(delta.dtype)
    if model.kind == "hamiltonian":
        return ReservoirParameters(beta * jnp.ones_like(delta), g0 * (1.0 + delta))
    return ReservoirParameters(beta * (1.0 + delta), g0 * jnp.ones_like(delta))


@model_a
def reservoir_populations(model: InhomogeneousReservoir, delta):
    """``q_j(δ)``, populations of τ(δ), shape (..., d); identical for both kinds."""
    beta_r, g_r = reservoir_parameters(model, delta)
    return thermal_populations(model.d, beta_r, g_r)


@model_a
def reservoir_state(model: InhomogeneousReservoir, delta):
    """``τ(δ)`` as a real diagonal (..., d, d) matrix."""
    q = reservoir_populations(model, delta)
    return q[..., :, None] * jnp.eye(model.d, dtype=q.dtype)


@model_a
def reservoir_hamiltonian(model: InhomogeneousReservoir, delta):
    """``H_r = g_r s_z`` (..., d, d)."""
    _, g_r = reservoir_parameters(model, delta)  # δ checked there (None or a string failed inside JAX)
    return g_r[..., None, None] * spin_z(model.d, g_r.dtype)


def level_offsets(model: InhomogeneousReservoir, dtype):
    """``m_j = j − (d−1)/2``, the diagonal of s_z (d,)."""
    return spin_z_diagonal(model.d, dtype)
