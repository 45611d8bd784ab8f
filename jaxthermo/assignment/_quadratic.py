"""Two interacting quadratic reservoirs in the single-particle picture ([CVS25]; docs/assignment.md).

    H = Σ_ij h1_ij a_i†a_j + Σ_kl h2_kl b_k†b_l + Σ_ik (g_ik a_i†b_k + g_ik* b_k†a_i)

is number conserving, so everything follows from the (N1+N2)×(N1+N2) single-particle matrix
``M = [[h1, g], [g†, h2]]``: with ``R_nm(t) = ⟨c_m† c_n⟩_t``, ``R(t) = U R(0) U†``,
``U = e^{−iMt}`` (exact diagonalisation of M) and ``⟨Σ A_mn c_m† c_n⟩ = Tr(A R)``.
Each reservoir starts in the Gibbs state of its own h_n at (β_n, μ_n):
``R_n(0) = f(β_n (h_n − μ_n))`` with the Fermi (``1/(e^x + 1)``) or Bose (``1/(e^x − 1)``)
function; bosons need ``h_n − μ_n > 0``.

Reservoir 1 plays the system. Minimal dissipation ([CB22], [CVS25]): with ``G(t)`` the N1×N1 reservoir-1
block of ``e^{−iMt}`` and ``Ġ`` the same block of ``−iM e^{−iMt}`` (exact), ``h_eff = iĠG^{−1}``
and ``K_S(t) = Σ_ij k_ij a_i†a_j`` with ``k = (h_eff + h_eff†)/2`` (vacuum energy 0, so
``K_S(0) = H_1``); the same k for bosons and fermions, independent of the bath state. K_S
diverges where G(t) is singular; ``σ_min(G(t))`` is reported on the grid and the quadrature nodes.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import as_complex, complex_dtype_for
from .._linalg import hermitian_function
from .._qudit import dagger
from .._validation import (
    check_choice,
    check_finite,
    check_hermitian,
    check_numeric,
    check_positive_int,
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
from ._global import check_rcond, resolvable_rcond, warn_singular
from ._propagator import phases, propagator_rows, spectral_decomposition, warn_phase_rounding

STATISTICS = ("fermion", "boson")


def _fermi(x):
    """``1/(eˣ + 1)`` as the logistic function of −x: accurate relative to its value at every x (as
    ``½(1 − tanh(x/2))`` it was 0 for x ≳ 37, 3.6e-8 relative off at x = 20, and its derivative
    6e-4 off at x = −30)."""
    return jax.nn.sigmoid(-x)


def _bose(x):
    """``1/(eˣ − 1)``, as ``e^{−x}/(1 − e^{−x})`` for x > 0: its derivative ``−n(1 + n)`` then stays
    finite for large x (through ``1/expm1`` it is ``−eˣ/(eˣ − 1)²`` = inf/inf = NaN beyond x ≈ 709)."""
    pos = x > 0
    xp = jnp.where(pos, x, 1.0)
    return jnp.where(pos, jnp.exp(-xp) / -jnp.expm1(-xp), 1.0 / jnp.expm1(jnp.where(pos, -1.0, x)))


# What QuadraticReservoirs' constructor stages for traced fields under validate="always": "all"; "parameters" (β, μ
# and the bosonic checks) where homogeneous and from_regime checked their own arguments, named, and built h1, h2 and
# the coupling from them; "none" in swapped(), whose fields are those of a model checked already. A second staged
# error on the same bad value (h1 for a NaN detuning, beta1 for the swapped model's beta2) would race the first
# inside jit and could name the wrong parameter.
_STAGE = contextvars.ContextVar("jaxthermo_quadratic_stage", default="all")


def _constructed(cls, stage: str, *args, **kwargs):
    """``cls(*args, **kwargs)`` with ``stage`` (:data:`_STAGE`); concrete values are checked as always."""
    token = _STAGE.set(stage)
    try:
        return cls(*args, **kwargs)
    finally:
        _STAGE.reset(token)


_BOSE_SPECTRUM = (
    "h{n} − mu{n}·1 must be positive definite for a bosonic thermal state; lowest single-particle energy {value}"
)


def _has_shape(x) -> bool:
    """A concrete numeric array or a numeric tracer: its shape is known (not a placeholder JAX puts in pytrees)."""
    return should_validate(x) or is_numeric_tracer(x)


def _check_scalars(real: dict, any_number: dict) -> None:
    """The parameters of :meth:`QuadraticReservoirs.homogeneous` / ``from_regime``, each named in its error: a number
    (real for those in ``real``), a scalar, finite (concrete: at once; traced: staged under ``validate == "always"``).
    A NaN effective coupling used to be reported as ``coupling``, a NaN detuning as ``h1``."""
    for name, value in {**real, **any_number}.items():
        check_numeric(value, name, real=name in real)
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a scalar (jax.vmap for a sweep); got shape {np.shape(value)}")
        check_finite(value, name)


def _stage_bosonic(h, beta, mu, n: int) -> None:
    """Under ``validate == "always"``, with traced ``beta`` or ``h``/``mu``: stage ``beta > 0`` and ``h − mu·1``
    positive definite (bosonic reservoir n), as checked at once for concrete values. A non-finite value is left to
    the finiteness checks, so it is reported once."""
    if stages(beta):
        b = jax.lax.stop_gradient(jnp.asarray(beta))
        error_if(jnp.isfinite(b) & ~(b > 0), f"beta{n}: a bosonic thermal state needs beta{n} > 0; got {{value}}", b)
    if stages(h, mu):
        h, mu = jax.lax.stop_gradient((jnp.asarray(h), jnp.asarray(mu)))
        shifted = h - mu * jnp.eye(h.shape[0], dtype=h.dtype)
        finite = jnp.all(jnp.isfinite(shifted))
        safe = jnp.where(finite, shifted, jnp.eye(h.shape[0], dtype=shifted.dtype))
        lowest = jnp.linalg.eigvalsh(0.5 * (safe + jnp.conj(safe.T)))[0]
        error_if(finite & ~(lowest > 0), _BOSE_SPECTRUM.format(n=n, value="{value}"), lowest)


class ModeCounts(NamedTuple):
    """Numbers of modes (N1, N2) of the two reservoirs."""

    n1: int
    n2: int


@register_checked_dataclass
@dataclasses.dataclass(frozen=True)
class QuadraticReservoirs:
    """Two interacting quadratic reservoirs, each initially thermal at its own (β_n, μ_n) ([CVS25]).

    Args:
      h1: (N1, N1) Hermitian single-particle matrix of reservoir 1 (the "system").
      h2: (N2, N2) Hermitian single-particle matrix of reservoir 2.
      coupling: (N1, N2) inter-reservoir hoppings g_ik.
      beta1, beta2: inverse temperatures (> 0 for bosons).
      mu1, mu2: chemical potentials (bosons: h_n − μ_n must be positive definite).
      statistics: ``"fermion"`` or ``"boson"`` (static).

    Example:
      >>> res = QuadraticReservoirs.from_regime(4, 4, detuning=1.0, effective_coupling=0.3,
      ...                                       nu2=2.0, g=0.1, beta1=1.0, beta2=0.5)
      >>> out = res.energetics(jnp.linspace(0.0, 20.0, 201))
      >>> out.bare.heat, out.interaction.energy_change, out.minimal_dissipation.work  # (201,) each
    """

    h1: Any
    h2: Any
    coupling: Any
    beta1: Any = 1.0
    beta2: Any = 1.0
    mu1: Any = 0.0
    mu2: Any = 0.0
    statistics: str = dataclasses.field(default="fermion", metadata=dict(static=True))

    def __post_init__(self):
        check_choice(self.statistics, "statistics", STATISTICS)
        for name in ("beta1", "beta2", "mu1", "mu2"):  # a Python int → float: β = 2 and β = 2.0 are one
            value = getattr(self, name)  # compiled program (an int leaf is another signature: a sweep
            if type(value) is int:  # over β = 0.5, 1, 2 compiled three times, twice for the ints)
                object.__setattr__(self, name, float(value))
        for name in ("h1", "h2", "coupling", "beta1", "beta2", "mu1", "mu2"):
            check_numeric(getattr(self, name), name, real=name not in ("h1", "h2", "coupling"))
            if isinstance(getattr(self, name), (list, tuple)):  # one leaf (a nested list was a pytree of scalars,
                object.__setattr__(self, name, np.asarray(getattr(self, name)))  # traced one by one under jit)
        # shapes at once, also of tracers; values at once when concrete, staged under validate="always" when traced
        # (inside jit/vmap/grad: a NaN h or a bosonic β < 0 gave finite garbage without a word)
        stage = _STAGE.get()
        for name in ("h1", "h2"):
            value = getattr(self, name)
            if _has_shape(value):
                shape = np.shape(value)
                if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
                    raise ValueError(f"{name} must be a square (N, N) matrix with N >= 1; got shape {shape}")
                check_hermitian(value, name)
                if stage == "all":
                    stage_hermitian(value, name)
        if _has_shape(self.coupling) and _has_shape(self.h1) and _has_shape(self.h2):
            n1, n2 = np.shape(self.h1)[0], np.shape(self.h2)[0]
            if np.shape(self.coupling) != (n1, n2):
                raise ValueError(
                    f"coupling must have shape (N1, N2) = ({n1}, {n2}) (h1 is {n1}×{n1}, h2 is {n2}×{n2}); got "
                    f"{np.shape(self.coupling)}"
                )
            if stage == "all" or is_concrete(self.coupling):
                check_finite(self.coupling, "coupling")
        for name in ("beta1", "beta2", "mu1", "mu2"):
            # one β and one μ per reservoir: an array broadcast into β(h − μ·1) (a vector μ gave h − diag(μ), a
            # (N, N) β an entrywise product), a thermal state of nothing, without a word
            if np.ndim(getattr(self, name)) != 0:
                raise ValueError(
                    f"{name} must be one real number per reservoir (a scalar; jax.vmap for a sweep); got shape "
                    f"{np.shape(getattr(self, name))}"
                )
            if stage != "none" or is_concrete(getattr(self, name)):
                check_finite(getattr(self, name), name)
        if self.statistics == "boson":
            for n in (1, 2):
                h, beta, mu = (getattr(self, f"{x}{n}") for x in ("h", "beta", "mu"))
                if should_validate(h) and should_validate(mu) and value_checks_enabled():
                    lowest = float(np.min(np.linalg.eigvalsh(np.asarray(h) - np.asarray(mu) * np.eye(np.shape(h)[0]))))
                    if lowest <= 0:
                        raise ValueError(_BOSE_SPECTRUM.format(n=n, value=f"{lowest:.4g}"))
                if should_validate(beta) and float(beta) <= 0:
                    raise ValueError(f"beta{n}={float(beta)}: a bosonic thermal state needs beta{n} > 0")
                if stage != "none":
                    _stage_bosonic(h, beta, mu, n)

    def replace(self, **changes) -> QuadraticReservoirs:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def homogeneous(
        cls, n1, n2, omega1, omega2, g, gamma, beta1=1.0, beta2=1.0, mu1=0.0, mu2=0.0, statistics="fermion"
    ):
        """All-to-all reservoirs ``h_n = ω_n·1 + g(J − 1)`` coupled by ``g_ik = γ`` ([CVS25]; docs/assignment.md).

        ``omega1``, ``omega2``, ``g`` (real) and ``gamma`` are scalars, finite (an error names the argument: at once
        when concrete, staged under ``jaxthermo.config.validate == "always"`` when traced)."""
        n1, n2 = check_positive_int(n1, "n1"), check_positive_int(n2, "n2")
        _check_scalars(dict(omega1=omega1, omega2=omega2, g=g), dict(gamma=gamma))
        return cls._homogeneous(n1, n2, omega1, omega2, g, gamma, beta1, beta2, mu1, mu2, statistics)

    @classmethod
    def _homogeneous(cls, n1, n2, omega1, omega2, g, gamma, beta1, beta2, mu1, mu2, statistics):
        """:meth:`homogeneous` from checked parameters: h1, h2 and the coupling are Hermitian and finite by
        construction, so their checks are not staged again (:data:`_STAGE`)."""
        dtype = jnp.result_type(*(jnp.asarray(x) for x in (omega1, omega2, g, gamma)), float)

        def block(n, omega):
            eye, ones = jnp.eye(n, dtype=dtype), jnp.ones((n, n), dtype=dtype)
            return jnp.asarray(omega, dtype) * eye + jnp.asarray(g, dtype) * (ones - eye)

        coupling = jnp.asarray(gamma, dtype) * jnp.ones((n1, n2), dtype=dtype)
        fields = (block(n1, omega1), block(n2, omega2), coupling, beta1, beta2, mu1, mu2, statistics)
        return _constructed(cls, "parameters", *fields)

    @classmethod
    def from_regime(
        cls, n1, n2, detuning, effective_coupling, nu2, g, beta1=1.0, beta2=1.0, mu1=0.0, mu2=0.0, statistics="fermion"
    ):
        """Homogeneous reservoirs from the leading quantities of [CVS25] (docs/assignment.md).

        ``ν_n = ω_n + (N_n − 1)g`` (leading eigenvalues), ``Δ = ν1 − ν2`` (``detuning``),
        ``Γ = 2√(N1 N2) γ`` (``effective_coupling``); dispersive Δ ≫ Γ, ultrastrong Δ ≪ Γ.
        ``detuning``, ``nu2``, ``g`` (real) and ``effective_coupling`` are scalars, finite (an error names the
        argument: at once when concrete, staged under ``jaxthermo.config.validate == "always"`` when traced).
        """
        n1, n2 = check_positive_int(n1, "n1"), check_positive_int(n2, "n2")
        _check_scalars(dict(detuning=detuning, nu2=nu2, g=g), dict(effective_coupling=effective_coupling))
        nu1 = nu2 + detuning
        omega1 = nu1 - (n1 - 1) * g
        omega2 = nu2 - (n2 - 1) * g
        # a Python float (weakly typed): np.sqrt's float64 scalar made float32 parameters a float64 model
        gamma = effective_coupling / (2.0 * math.sqrt(n1 * n2))
        return cls._homogeneous(n1, n2, omega1, omega2, g, gamma, beta1, beta2, mu1, mu2, statistics)

    # ------------------------------------------------------------------ single-particle objects
    @property
    def sizes(self) -> ModeCounts:
        """(N1, N2): the numbers of modes of the two reservoirs."""
        return ModeCounts(int(np.shape(self.h1)[0]), int(np.shape(self.h2)[0]))

    def _complex_dtype(self):
        leaves = [jnp.asarray(x) for x in (self.h1, self.h2, self.coupling, self.beta1, self.beta2)]
        return complex_dtype_for(jnp.result_type(*leaves))

    def single_particle_matrix(self):
        """``M = [[h1, g], [g†, h2]]``, (N, N) with N = N1 + N2."""
        cdt = self._complex_dtype()
        h1, h2, g = (as_complex(x, cdt) for x in (self.h1, self.h2, self.coupling))
        return jnp.block([[h1, g], [dagger(g), h2]])

    def initial_correlations(self):
        """``R(0) = f(β1(h1 − μ1)) ⊕ f(β2(h2 − μ2))``, (N, N), ``R_nm = ⟨c_m† c_n⟩``."""
        cdt = self._complex_dtype()
        occupation = _fermi if self.statistics == "fermion" else _bose
        n1, n2 = self.sizes
        blocks = []
        for h, beta, mu, n in ((self.h1, self.beta1, self.mu1, n1), (self.h2, self.beta2, self.mu2, n2)):
            h = as_complex(h, cdt)
            x = as_complex(beta, cdt) * (h - as_complex(mu, cdt) * jnp.eye(n, dtype=cdt))
            blocks.append(hermitian_function(occupation, x))
        zero = jnp.zeros((n1, n2), dtype=cdt)
        return jnp.block([[blocks[0], zero], [dagger(zero), blocks[1]]])

    def swapped(self) -> QuadraticReservoirs:
        """The same model with the roles of reservoirs 1 and 2 exchanged."""
        fields = dict(
            h1=self.h2,
            h2=self.h1,
            coupling=dagger(jnp.asarray(self.coupling)),
            beta1=self.beta2,
            beta2=self.beta1,
            mu1=self.mu2,
            mu2=self.mu1,
        )
        return _constructed(dataclasses.replace, "none", self, **fields)

    # ------------------------------------------------------------------ dynamics
    def energetics(
        self,
        times,
        *,
        reservoir: int = 1,
        order: int = 4,
        rcond: float = 1e-6,
        batch_size: int = 1,
        quadrature_tol=None,
        estimate_error: bool = True,
    ) -> QuadraticEnergetics:
        """Bare, interaction and minimal-dissipation energies, heats and works of one reservoir.

        See :func:`quadratic_energetics`.
        """
        return quadratic_energetics(
            self,
            times,
            reservoir=reservoir,
            order=order,
            rcond=rcond,
            batch_size=batch_size,
            quadrature_tol=quadrature_tol,
            estimate_error=estimate_error,
        )


quadratic_model = takes_model(QuadraticReservoirs, "a jt.QuadraticReservoirs")


class QuadraticEnergetics(NamedTuple):
    """Energetics of the chosen reservoir ("S"); arrays over the time grid (T,).

    ``bare``, ``interaction`` and ``minimal_dissipation`` are :class:`Assignment` s: ``work``,
    ``heat`` (into reservoir S), ``energy_change`` and the assigned energy ``energy``.
    """

    times: jnp.ndarray  # (T,)
    energies: jnp.ndarray  # Ũ_X(t), X = (S, I, E), (3, T)
    bare: Assignment
    interaction: Assignment
    minimal_dissipation: Assignment
    k: jnp.ndarray  # single-particle minimal-dissipation matrix k(t) (T, N_S, N_S); NaN where singular
    sigma_min: jnp.ndarray  # smallest singular value of G(t) on the grid (T,), differentiable
    singular: jnp.ndarray  # (T,) σ_min(G) < rcond
    singular_nodes: jnp.ndarray  # (T−1, order)
    nodes: jnp.ndarray  # (T−1, order) quadrature nodes
    # (T,) estimated error of minimal_dissipation.heat (and .work): Σ |G_order − G_{order+1}| over the
    # intervals up to t (docs/assignment.md §6); NaN where the heat is NaN
    quadrature_error: jnp.ndarray

    @property
    def weak_coupling_heat(self) -> jnp.ndarray:
        """``∫Tr{H_S ρ̇_S} = ΔŨ_S``: the weak-coupling heat evaluated on the exact state (T,)."""
        return self.energies[0] - self.energies[0, :1]

    @property
    def peak_times(self) -> np.ndarray:
        """Times where K_S peaks, sorted: where G(t) is (nearly) singular (``singular``, ``singular_nodes``) and the
        grid's interior local minima of σ_min(G), as :attr:`MinimalDissipation.peak_times` (docs/assignment.md §5).
        A zero of G in the first or last interval, or between two samples with no interior minimum on the grid,
        is here through its flagged node, so ``refine_times`` refines every time the warning names."""
        grid = np.asarray(self.times)[np.asarray(self.singular)]
        nodes = np.asarray(self.nodes)[np.asarray(self.singular_nodes)]
        near = local_minimum_times(self.times, self.sigma_min)
        return np.unique(np.concatenate([grid, nodes, near]))


class StepValues(NamedTuple):
    """Everything the energetics need at one time t."""

    energies: jnp.ndarray  # Ũ_X, X = (S, I, E), (3,)
    k: jnp.ndarray  # minimal-dissipation single-particle matrix (n_s, n_s)
    md_energy: jnp.ndarray  # Tr(k R_SS)
    md_heat_rate: jnp.ndarray  # Tr(k Ṙ_SS)
    sigma_min: jnp.ndarray  # σ_min(G(t))


class EigenbasisData(NamedTuple):
    """The energy operators Ã_X (3, N, N) and R(0), Ṙ(0), all in the eigenbasis of M."""

    operators: jnp.ndarray
    correlations: jnp.ndarray
    correlations_dot: jnp.ndarray


def _trace_product(a, b):
    """Re Tr(a b) for (n, n) arrays."""
    return jnp.real(jnp.sum(a * b.T))


def step_reference(m, r0, r0_dot, w, v, n_s, t) -> StepValues:
    """Everything at one time t through the full propagator (the differentiable reference).

    Returns :class:`StepValues` ``(Ũ_X (3,), k (n_s, n_s), Tr k R_SS, Tr k Ṙ_SS, σ_min(G))``.
    """
    n = m.shape[-1]
    u = propagator_rows(m, t, w, v, n)
    r = u @ r0 @ dagger(u)
    r_dot = u @ r0_dot @ dagger(u)
    g_block = u[:n_s, :n_s]
    g_dot = -1j * (u[:n_s, :] @ m[:, :n_s])
    k = _minimal_dissipation_matrix(g_block, g_dot)
    u_s = _trace_product(m[:n_s, :n_s], r[:n_s, :n_s])
    u_e = _trace_product(m[n_s:, n_s:], r[n_s:, n_s:])
    u_i = 2.0 * _trace_product(m[:n_s, n_s:], r[n_s:, :n_s])
    energies = jnp.stack([u_s, u_i, u_e])
    return StepValues(
        energies, k, _trace_product(k, r[:n_s, :n_s]), _trace_product(k, r_dot[:n_s, :n_s]), _sigma_min(g_block)
    )


def _minimal_dissipation_matrix(g_block, g_dot):
    """``k = (h_eff + h_eff†)/2`` with ``h_eff = iĠG^{−1}`` (a linear solve), (n_s, n_s)."""
    h_eff = jnp.linalg.solve(g_block.T, (1j * g_dot).T).T
    return 0.5 * (h_eff + dagger(h_eff))


def _sigma_min(g_block):
    return jnp.linalg.svd(g_block, compute_uv=False)[-1]


def eigenbasis_data(m, r0, r0_dot, v, n_s) -> EigenbasisData:
    """``(Ã_X (3, N, N), R̃, Ṙ̃)``: the energy operators and R(0), Ṙ(0) in the eigenbasis of M."""
    vh = dagger(v)
    zero = jnp.zeros_like(m)
    blocks = jnp.stack(
        [
            zero.at[:n_s, :n_s].set(m[:n_s, :n_s]),
            zero.at[:n_s, n_s:].set(m[:n_s, n_s:]).at[n_s:, :n_s].set(m[n_s:, :n_s]),
            zero.at[n_s:, n_s:].set(m[n_s:, n_s:]),
        ]
    )
    data = EigenbasisData(vh @ blocks @ v, vh @ r0 @ v, vh @ r0_dot @ v)
    return jax.lax.stop_gradient(data)


@partial(jax.custom_jvp, nondiff_argnums=(6,))
def step(m, r0, r0_dot, w, v, eig, n_s, t) -> StepValues:
    """Same as :func:`step_reference`, computed in the eigenbasis of M (fast path).

    Primal cost O(N_S N² + N_S² N) per time instead of O(N³): with ``R̃ = V†R(0)V``,
    ``R(t) = V (e^{−iwt} R̃ e^{iwt}) V†`` and ``Tr(A R(t)) = Tr(Ã (e^{−iwt} R̃ e^{iwt}))``
    (``eig`` from :func:`eigenbasis_data`). Its derivative is that of the reference route
    (whose propagator has a Daleckii–Krein JVP): eigenvectors have no derivative at the
    degenerate spectra of the all-to-all reservoirs (docs/assignment.md).
    """
    a_eig, r_eig, r_dot_eig = eig
    phase = phases(w, t, v.dtype)
    x = r_eig * phase[:, None] * jnp.conj(phase)[None, :]
    energies = jnp.real(jnp.einsum("xji,ij->x", a_eig, x))
    v_s = v[:n_s]
    b = v_s * phase
    g_block = b @ dagger(v_s)
    g_dot = (b * (-1j * w.astype(v.dtype))) @ dagger(v_s)
    k = _minimal_dissipation_matrix(g_block, g_dot)
    y = dagger(b) @ k @ b  # Tr(k R_SS) = Tr(y R̃),  Tr(k Ṙ_SS) = Tr(y Ṙ̃)
    return StepValues(energies, k, _trace_product(y, r_eig), _trace_product(y, r_dot_eig), _sigma_min(g_block))


@step.defjvp
def _step_jvp(n_s, primals, tangents):
    m, r0, r0_dot, w, v, eig, t = primals
    out = step(m, r0, r0_dot, w, v, eig, n_s, t)

    def reference(m, r0, r0_dot, t):
        return step_reference(m, r0, r0_dot, w, v, n_s, t)

    dm, dr0, dr0_dot, _, _, _, dt = tangents
    _, d_out = jax.jvp(reference, (m, r0, r0_dot, t), (dm, dr0, dr0_dot, dt))
    return out, d_out


@quadratic_model
def quadratic_energetics(
    model: QuadraticReservoirs,
    times,
    *,
    reservoir: int = 1,
    order: int = 4,
    rcond: float = 1e-6,
    batch_size: int = 1,
    quadrature_tol=None,
    estimate_error: bool = True,
) -> QuadraticEnergetics:
    """Bare, interaction and minimal-dissipation energetics of reservoir 1 (or 2) ([CVS25]; docs/assignment.md).

    Ũ_X = Tr(A_X R(t)) for A_S = h_S, A_I = the coupling blocks, A_E = h_E; with constant H,
    Q̃_X = ΔŨ_X and W̃_X = 0, which give the bare and interaction assignments. Minimal
    dissipation: U^md = Tr(k R_SS), Q^md = ∫Tr(k Ṙ_SS) by composite Gauss–Legendre quadrature
    (``order`` nodes per interval, error O(h^{2·order}) away from peaks; refine ``times`` around
    :attr:`QuadraticEnergetics.peak_times`), W^md = ΔU^md − Q^md. Where ``σ_min(G) < rcond``
    the minimal-dissipation quantities are NaN (from there on for Q, W) and a warning names
    the times. ``quadrature_error`` estimates the error of Q^md (and W^md) at every grid time from the
    rule of ``order + 1`` nodes on the same intervals, ``Σ |G_order − G_{order+1}|`` up to t
    (docs/assignment.md §6; ``order + 1`` more evaluations per interval, two to three times the cost);
    with ``quadrature_tol`` set, a ``RuntimeWarning`` (outside ``jit``) names the intervals to refine
    when it exceeds that. Times are evaluated ``batch_size`` at a time (``lax.map``); batched linear
    algebra over many times is safe with the XLA:CPU scheduler setting that ``import jaxthermo`` applies
    (docs/xla_cpu_hangs.md).
    Cost per time O(N_S N² + N_S³) with N = N1 + N2; memory O(T·N_S²).

    Args:
      model: :class:`QuadraticReservoirs`.
      times: (T,) non-decreasing, starting at the preparation time 0 (or later); the integrals
        start at ``times[0]`` and a zero-length interval contributes 0.
      reservoir: 1 or 2, the reservoir playing the system.
      order: Gauss–Legendre nodes per interval (positive integer).
      rcond: threshold on σ_min(G(t)) (G is a contraction, σ_max ≤ 1), a finite number in (0, 1); at least 100 ε of the
        run's precision is used (1.2e-5 in float32, where σ_min(G) of 60 + 60 modes came out 1.2e-6 at a zero).
      batch_size: times evaluated together (memory/speed trade-off; 1 evaluates them one by one).
      quadrature_tol: None (default: warn only where the estimate exceeds a tenth of the largest |Q^md|
        plus √ε: no reliable digit, docs/assignment.md §3) or a finite number > 0: warn when ``quadrature_error``
        exceeds it anywhere on the grid.
      estimate_error: False skips the check rule (``order`` instead of ``2·order + 1`` evaluations per
        interval, for sweeps where speed matters); ``quadrature_error`` is then NaN.
    """
    check_quadrature_tol(quadrature_tol, estimate_error)
    check_choice(reservoir, "reservoir", (1, 2))
    check_time_grid(times)
    order = check_positive_int(order, "order")
    check_rcond(rcond, "σ_min(G(t)) (G a block of a unitary)")
    batch_size = check_positive_int(batch_size, "batch_size")
    if reservoir == 2:
        model = model.swapped()
    m = model.single_particle_matrix()
    warn_phase_rounding(m, times, jnp.real(m).dtype)
    rcond = resolvable_rcond(rcond, jnp.real(m).dtype)  # float32: σ_min(G) is rounding below ≈ 10 ε (60 + 60 modes)
    result = _quadratic_core(model, jnp.asarray(times), rcond, order, batch_size, bool(estimate_error))
    warn_singular(result.singular, result.singular_nodes, result.times, result.nodes, "G(t)")
    warn_quadrature_error(
        result.quadrature_error,
        result.times,
        quadrature_tol,
        values=result.minimal_dissipation.heat,
    )
    return result


@partial(jax.jit, static_argnames=("order", "batch_size", "estimate_error"))
def _quadratic_core(model, times, rcond, order, batch_size, estimate_error=True):
    n_s = model.sizes[0]
    m = model.single_particle_matrix()
    r0 = model.initial_correlations()
    r0_dot = -1j * (m @ r0 - r0 @ m)
    w, v = spectral_decomposition(m)
    eig = eigenbasis_data(m, r0, r0_dot, v, n_s)
    times = jnp.asarray(times, dtype=jnp.real(m).dtype)
    at_time = lambda t: step(m, r0, r0_dot, w, v, eig, n_s, t)
    bs = max(1, min(batch_size, times.shape[0]))
    energies, k, energy_md, _, sigma = jax.lax.map(at_time, times, batch_size=bs)
    nodes, weights, check, points = heat_rule_points(times, order, estimate_error)
    n_q = nodes.size  # both rules' nodes in one pass
    both = jax.lax.map(at_time, points, batch_size=bs)
    heat_rate, sigma_n = both.md_heat_rate[:n_q], both.sigma_min[:n_q]
    heat_rate_c = both.md_heat_rate[n_q:]
    energies = energies.T
    heats = energies - energies[:, :1]
    works = jnp.zeros_like(energies)
    args = (energies[0], energies[1], heats[0], heats[1], works[0])
    singular = ~(sigma >= rcond)  # NaN (G(t) not finite) counts as singular, as in minimal_dissipation
    singular_nodes = ~(sigma_n >= rcond).reshape(nodes.shape)
    heat_rate = heat_rate.reshape(nodes.shape)
    md = minimal_dissipation_assignment(energy_md, heat_rate, weights, singular, singular_nodes)
    error = heat_error(md.heat, heat_rate, weights, check, heat_rate_c)
    k = jnp.where(singular[:, None, None], jnp.nan, k)
    return QuadraticEnergetics(
        times,
        energies,
        _bare_assignment(*args),
        _interaction_assignment(*args),
        md,
        k,
        sigma,
        singular,
        singular_nodes,
        nodes,
        error,
    )
