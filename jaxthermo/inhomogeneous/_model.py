"""Model A: a qudit colliding with inhomogeneous reservoir qudits (docs/inhomogeneous.md).

The reservoir qudit of collision r is thermal for ``g_r s_z`` at inverse temperature ``β_r``:

* ``kind="hamiltonian"``: ``g_r = g0 (1 + δ_r)``, ``β_r = β`` (resource operation, work generated);
* ``kind="temperature"``: ``β_r = β (1 + δ_r)``, ``g_r = g0`` (resource state, no work).

Both give ``τ(δ) = diag q_j(δ)`` with ``a(δ) = e^{−βg0(1+δ)}``.
"""

from __future__ import annotations

import abc
import dataclasses
import warnings
from typing import Any, NamedTuple

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
    register_checked_dataclass,
    should_validate,
)
from ._distributions import Distribution

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

    (a coupling without fields still needs the two decorators).
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
        d = model.d
        dtype = jnp.result_type(theta, delta)
        _, g_r = reservoir_parameters(model, delta)
        eye = jnp.eye(d, dtype=dtype)
        sz = spin_z(d, dtype)
        g_int = jnp.asarray(self.g_int).astype(dtype)
        h = tensor(jnp.asarray(model.g0).astype(dtype) * sz, eye) + tensor(eye, g_r * sz) - g_int * swap(d, dtype)
        t_int = theta / g_int
        return expm((-1j * t_int * h).astype(complex_dtype_for(dtype)))


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
        if self.distribution is not None and not isinstance(self.distribution, Distribution):
            raise TypeError(
                f"distribution must be a Distribution (e.g. Gaussian(sigma)) or None; got {type(self.distribution).__name__}"
            )
        for name in ("beta", "g0", "theta"):
            value = getattr(self, name)
            check_numeric(value, name)
            if should_validate(value):
                check_finite(value, name)
        _warn_outside_assumptions(self)

    @property
    def system_hamiltonian(self):
        """``H_S = g0 s_z`` (d, d)."""
        g0 = jnp.asarray(self.g0)
        return g0 * spin_z(self.d, jnp.result_type(g0.dtype, spin_z(self.d).dtype))

    def replace(self, **changes) -> InhomogeneousReservoir:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _warn_outside_assumptions(model) -> None:
    """Warn (not refuse) for an inverted or vanishing spacing, a negative temperature and, in the
    temperature kind, reservoir qudits that the distribution gives a negative temperature."""
    if should_validate(model.beta) and np.any(np.asarray(model.beta, float) < 0):
        warnings.warn(
            f"beta={model.beta}: a negative temperature (docs/inhomogeneous.md assumes beta >= 0)", stacklevel=3
        )
    if should_validate(model.g0) and np.any(np.asarray(model.g0, float) <= 0):
        warnings.warn(
            f"g0={model.g0}: an inverted or vanishing level spacing (|0> is the ground state only for g0 > 0)",
            stacklevel=3,
        )
    dist = model.distribution
    if model.kind != "temperature" or dist is None:
        return
    # beta_r = beta (1 + delta) < 0 where delta < -1
    lowest = {
        "Uniform": lambda: -0.5 * np.asarray(dist.width),
        "TwoPoint": lambda: -np.asarray(dist.delta),
        "Empirical": lambda: np.min(np.asarray(dist.samples)),
        "Gaussian": lambda: -5.0 * np.asarray(dist.sigma),
    }
    field = {"Uniform": "width", "TwoPoint": "delta", "Empirical": "samples", "Gaussian": "sigma"}.get(
        type(dist).__name__
    )
    if field is None or not should_validate(getattr(dist, field)):
        return
    low = float(np.min(lowest[type(dist).__name__]()))
    if low < -1:
        warnings.warn(
            f"kind='temperature' with {type(dist).__name__}: delta reaches {low:.3g} < -1, where the reservoir "
            "qudit's temperature beta (1 + delta) is negative"
            + (" (beyond 5 sigma)" if type(dist).__name__ == "Gaussian" else ""),
            stacklevel=3,
        )


def has_closed_form(coupling) -> bool:
    """True for exactly :class:`PartialSwap` (a subclass may change the unitary: no fast path)."""
    return type(coupling) is PartialSwap


class ReservoirParameters(NamedTuple):
    """Inverse temperature β_r and level spacing g_r of a reservoir qudit (arrays of δ's shape)."""

    beta: jnp.ndarray
    g: jnp.ndarray


def reservoir_parameters(model: InhomogeneousReservoir, delta) -> ReservoirParameters:
    """``(β_r, g_r)`` of a reservoir qudit with inhomogeneity δ (either kind), a :class:`ReservoirParameters`."""
    delta = jnp.asarray(delta)
    beta = jnp.asarray(model.beta).astype(delta.dtype)
    g0 = jnp.asarray(model.g0).astype(delta.dtype)
    if model.kind == "hamiltonian":
        return ReservoirParameters(beta * jnp.ones_like(delta), g0 * (1.0 + delta))
    return ReservoirParameters(beta * (1.0 + delta), g0 * jnp.ones_like(delta))


def reservoir_populations(model: InhomogeneousReservoir, delta):
    """``q_j(δ)``, populations of τ(δ), shape (..., d); identical for both kinds."""
    beta_r, g_r = reservoir_parameters(model, delta)
    return thermal_populations(model.d, beta_r, g_r)


def reservoir_state(model: InhomogeneousReservoir, delta):
    """``τ(δ)`` as a real diagonal (..., d, d) matrix."""
    q = reservoir_populations(model, delta)
    return q[..., :, None] * jnp.eye(model.d, dtype=q.dtype)


def reservoir_hamiltonian(model: InhomogeneousReservoir, delta):
    """``H_r = g_r s_z`` (..., d, d)."""
    delta = jnp.asarray(delta)
    _, g_r = reservoir_parameters(model, delta)
    return g_r[..., None, None] * spin_z(model.d, delta.dtype)


def level_offsets(model: InhomogeneousReservoir, dtype):
    """``m_j = j − (d−1)/2``, the diagonal of s_z (d,)."""
    return spin_z_diagonal(model.d, dtype)
