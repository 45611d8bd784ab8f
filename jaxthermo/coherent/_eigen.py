"""Eigenoperator form of the interaction (docs/coherent.md; [WCCM] eqs. (9)–(11)).

``V = Σ_k g_k L_k† A_k + h.c.`` with ``[H_S, L_k] = −ω_k L_k`` and ``[H_A, A_k] = −ω_k A_k``.
Then ``D = Σ_k γ_k⁻ D[L_k] + γ_k⁺ D[L_k†]`` with ``γ_k⁻ = |g_k|²⟨A_k A_k†⟩_th``,
``γ_k⁺ = |g_k|²⟨A_k† A_k⟩_th`` (detailed balance ``γ⁺/γ⁻ = e^{−βω}``) and
``G = Σ_k g_k⟨A_k⟩_χ L_k† + g_k*⟨A_k†⟩_χ L_k``. Where two Bohr frequencies coincide, D also has the
cross terms between their jumps (:meth:`EigenoperatorCoupling.dissipator`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import complex_dtype_for
from .._qudit import dagger, expectation, gibbs_state, tensor
from .._qutip import as_array, qobj_inputs
from .._validation import (
    check_density_matrix,
    check_finite,
    check_hermitian,
    check_numeric,
    eager_constants,
    should_validate,
)
from ._model import CoherentCollisionModel, one_leaf


class Rates(NamedTuple):
    """Transition rates of the eigenoperator dissipator, each (K,): ``down`` γ_k⁻ (emission by the
    system, jump L_k) and ``up`` γ_k⁺ (absorption, jump L_k†)."""

    down: jnp.ndarray
    up: jnp.ndarray


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EigenoperatorCoupling:
    """The terms ``(L_k, A_k, g_k, ω_k)`` of ``V = Σ_k g_k L_k† A_k + h.c.`` ([WCCM] eq. (9)).

    Args:
      L: system eigenoperators (K, d_S, d_S), ``[H_S, L_k] = −ω_k L_k``.
      A: ancilla eigenoperators (K, d_A, d_A), ``[H_A, A_k] = −ω_k A_k``.
      g: complex couplings (K,).
      omega: Bohr frequencies (K,).
    """

    L: Any
    A: Any
    g: Any
    omega: Any

    def __post_init__(self):
        for name in ("L", "A"):  # a list of QuTiP Qobj: stacked (K, d, d)
            object.__setattr__(self, name, as_array(getattr(self, name), name))
        for name in ("L", "A", "g", "omega"):  # a list as one leaf, not a pytree of scalars (tracers under jit)
            object.__setattr__(self, name, one_leaf(getattr(self, name)))
        if all(should_validate(x) for x in (self.L, self.A, self.g, self.omega)):
            L, A = np.asarray(self.L), np.asarray(self.A)
            if L.ndim != 3 or A.ndim != 3 or L.shape[0] != A.shape[0]:
                raise ValueError(f"L and A must have shapes (K, d_S, d_S), (K, d_A, d_A); got {L.shape}, {A.shape}")
            for name in ("L", "A", "g", "omega"):
                check_finite(getattr(self, name), name)
            k = L.shape[0]
            if np.shape(self.g) != (k,) or np.shape(self.omega) != (k,):
                raise ValueError(f"g and omega must have shape ({k},); got {np.shape(self.g)}, {np.shape(self.omega)}")
            if np.iscomplexobj(self.omega) and np.any(np.imag(self.omega) != 0):
                raise ValueError(f"omega: Bohr frequencies must be real; got {np.ravel(self.omega)[:3].tolist()}")

    def _check_operator(self, x, name: str, factor: str) -> None:
        """``ValueError`` naming ``name`` unless ``x`` is a finite (d, d) matrix of the dimension of ``L`` (factor
        "S") or ``A`` ("A"): a wrong one failed inside an einsum ("Size of label 'j' ... does not match") or
        gave NaN without a word. A non-number (None, a string) is a ``TypeError`` naming ``name``."""
        check_numeric(x, name, real=False)
        d = np.shape(self.L if factor == "S" else self.A)[-1]
        if np.shape(x) != (d, d):
            raise ValueError(
                f"{name} must have shape ({d}, {d}) (d_{factor} of the coupling's "
                f"{'L' if factor == 'S' else 'A'}); got {np.shape(x)}"
            )
        check_finite(x, name)

    @staticmethod
    def _check_beta(beta) -> None:
        """``ValueError`` naming ``beta`` unless it is one number: an array of K inverse temperatures was paired with
        the K terms (``rates(H_A, [1, 2])`` gave γ_1 at β = 1 and γ_2 at β = 2 without a word), other lengths failed
        inside an einsum."""
        if np.ndim(beta) != 0:
            raise ValueError(
                f"beta must be one inverse temperature (a scalar); got shape {np.shape(beta)}: use jax.vmap over beta"
            )

    def _arrays(self):
        L, A = jnp.asarray(self.L), jnp.asarray(self.A)
        cdt = complex_dtype_for(jnp.result_type(L.dtype, A.dtype, jnp.asarray(self.g).dtype))
        return L.astype(cdt), A.astype(cdt), jnp.asarray(self.g).astype(cdt)

    def interaction(self) -> jnp.ndarray:
        """``V = Σ_k g_k L_k† ⊗ A_k + h.c.`` (d_S d_A, d_S d_A)."""
        L, A, g = self._arrays()
        terms = g[:, None, None] * tensor(dagger(L), A)
        v = jnp.sum(terms, axis=0)
        return v + dagger(v)

    @qobj_inputs("H_A")
    def rates(self, H_A, beta) -> Rates:
        """``Rates(down=γ⁻, up=γ⁺)``, each (K,): ``|g_k|²⟨A_k A_k†⟩_th`` and ``|g_k|²⟨A_k† A_k⟩_th``, for one β (of
        either sign; an array of β raises ``ValueError``, use ``jax.vmap``)."""
        self._check_operator(H_A, "H_A", "A")
        check_hermitian(H_A, "H_A")
        self._check_beta(beta)
        L, A, g = self._arrays()
        rho_th = gibbs_state(jnp.asarray(H_A).astype(A.dtype), beta)
        weight = jnp.abs(g) ** 2
        down = expectation(A @ dagger(A), rho_th)
        up = expectation(dagger(A) @ A, rho_th)
        return Rates(weight * down, weight * up)

    @qobj_inputs("chi")
    def drive(self, chi) -> jnp.ndarray:
        """``G = Σ_k g_k⟨A_k⟩_χ L_k† + g_k*⟨A_k†⟩_χ L_k`` (d_S, d_S), ``⟨X⟩_χ = Tr(Xχ)``."""
        self._check_operator(chi, "chi", "A")
        check_hermitian(chi, "chi")
        L, A, g = self._arrays()
        chi = jnp.asarray(chi).astype(A.dtype)
        a_chi = jnp.einsum("kij,ji->k", A, chi)
        adag_chi = jnp.einsum("kij,ji->k", dagger(A), chi)
        return jnp.einsum("k,kij->ij", g * a_chi, dagger(L)) + jnp.einsum("k,kij->ij", jnp.conj(g) * adag_chi, L)

    @qobj_inputs("rho", "H_A")
    def dissipator(self, rho, H_A, beta) -> jnp.ndarray:
        """``D(ρ) = −½ Tr_A[V, [V, ρ ⊗ ρ_th]]`` of this V in Kossakowski form (d_S, d_S) (docs/coherent.md §4).

        With ``V = Σ_a J_a ⊗ B_a``, ``(J, B) = (g_k L_k†, A_k)`` and ``(g_k* L_k, A_k†)``:
        ``D(ρ) = Σ_ab c_ab (J_a ρ J_b† − ½{J_b† J_a, ρ})``, ``c_ab = Tr(B_b† B_a ρ_th)``. Its diagonal gives
        ``Σ_k γ_k⁻ D[L_k]ρ + γ_k⁺ D[L_k†]ρ`` (``D[L]ρ = LρL† − ½{L†L, ρ}``); the cross terms vanish between
        distinct Bohr frequencies (ρ_th is diagonal in energy) and are kept where two ω_k coincide (e.g.
        collective decay of two system qubits through one ancilla transition), where the diagonal form alone
        was not the dissipator of V.
        """
        self._check_operator(rho, "rho", "S")
        check_density_matrix(rho, "rho", dim=np.shape(self.L)[-1])
        self._check_operator(H_A, "H_A", "A")
        check_hermitian(H_A, "H_A")
        self._check_beta(beta)
        L, A, g = self._arrays()
        rho = jnp.asarray(rho)
        if jnp.issubdtype(rho.dtype, jnp.inexact) and jnp.finfo(rho.dtype).bits < jnp.finfo(L.dtype).bits:
            # the lower of the coupling's and ρ's precision, as model B's functions (a complex64 ρ gave complex128)
            L, A, g = (x.astype(complex_dtype_for(rho.dtype)) for x in (L, A, g))
        rho_th = gibbs_state(jnp.asarray(H_A).astype(A.dtype), beta)
        jumps = jnp.concatenate([g[:, None, None] * dagger(L), jnp.conj(g)[:, None, None] * L])
        baths = jnp.concatenate([A, dagger(A)])
        coeff = jnp.einsum("bji,ajk,ki->ab", jnp.conj(baths), baths, rho_th)  # Tr(B_b† B_a ρ_th)
        rho = jnp.asarray(rho).astype(jumps.dtype)
        gain = jnp.einsum("ab,aij,jk,blk->il", coeff, jumps, rho, jnp.conj(jumps))  # Σ c_ab J_a ρ J_b†
        loss = jnp.einsum("ab,bji,ajk->ik", coeff, jnp.conj(jumps), jumps)  # Σ c_ab J_b† J_a
        return gain - 0.5 * (loss @ rho + rho @ loss)

    @qobj_inputs("H_S", "H_A")
    def eigenoperator_residual(self, H_S, H_A) -> jnp.ndarray:
        """``max_k (‖[H_S, L_k] + ω_k L_k‖, ‖[H_A, A_k] + ω_k A_k‖)`` (largest entries): zero for true eigenoperators.

        The commutators are taken with ``H − (Tr H/d)·1``, equal in exact arithmetic, so an energy offset c·1 adds
        no rounding ε·c (7.5e-8 for a rotated qubit + 10⁹·1, refused as "not eigenoperators")."""
        return jnp.max(self._residuals(H_S, H_A)[0])

    def _residuals(self, H_S, H_A):
        """Per term k: the residuals (2, K) of the eigenoperator relations and their tolerances (2, K),
        ``10⁻⁹·max(‖H − μ·1‖, |ω_k|)·‖L_k‖ + 16·d·ε·‖H‖·‖L_k‖`` (largest entries; the second term the rounding of
        H's own entries, ε·c for an offset c·1, which moves its eigenvectors)."""
        L, A, _ = self._arrays()
        w = jnp.asarray(self.omega).astype(L.dtype)[:, None, None]

        def one(h, x):
            h = jnp.asarray(h).astype(x.dtype)
            d = h.shape[-1]
            rounding = 16 * d * float(jnp.finfo(x.dtype).eps) * jnp.max(jnp.abs(h))
            h = h - (jnp.real(jnp.trace(h)) / d).astype(x.dtype) * jnp.eye(d, dtype=x.dtype)
            res = jnp.max(jnp.abs(h @ x - x @ h + w * x), axis=(-2, -1))
            scale = 1e-9 * jnp.maximum(jnp.max(jnp.abs(h)), jnp.abs(w[:, 0, 0])) + rounding
            return res, scale * jnp.max(jnp.abs(x), axis=(-2, -1))

        (rs, ss), (ra, sa) = one(H_S, L), one(H_A, A)
        return jnp.stack([rs, ra]), jnp.stack([ss, sa])


@qobj_inputs("H_S", "H_A", "chi")
@eager_constants
def eigenoperator_model(coupling: EigenoperatorCoupling, H_S, H_A, beta, chi, lam, tau) -> CoherentCollisionModel:
    """A :class:`CoherentCollisionModel` with ``V`` built from eigenoperators ([WCCM] eq. (9)).

    Raises ``ValueError`` if ``(L_k, A_k)`` are not eigenoperators of ``(H_S, H_A)`` with ω_k: a residual
    ``‖[H, L_k] + ω_k L_k‖`` above 10⁻⁹ of ``max(‖H − μ·1‖, |ω_k|)·‖L_k‖`` plus the rounding of H's entries
    (relative, so energies in any unit and with any offset are judged alike; an absolute 10⁻⁹ accepted any L_k
    for energies in units of 10⁻¹² and refused true eigenoperators of a rotated qubit + 10⁹·1). Raises
    ``TypeError`` naming the argument if ``coupling`` is not an :class:`EigenoperatorCoupling` or another argument
    is not a number or numeric array (None, a string, a bool; a complex ``beta``, ``lam`` or ``tau``).
    """
    if not isinstance(coupling, EigenoperatorCoupling):  # None failed with "'NoneType' object has no attribute ..."
        raise TypeError(
            "coupling must be an EigenoperatorCoupling (e.g. jaxthermo.coherent.qubit_coupling()); got "
            f"{type(coupling).__name__}"
        )
    # H_S, H_A of the coupling's dimensions (another one failed inside JAX: "dot_general requires contracting
    # dimensions to have the same shape")
    coupling._check_operator(H_S, "H_S", "S")
    coupling._check_operator(H_A, "H_A", "A")
    for name, value in (("beta", beta), ("chi", chi), ("lam", lam), ("tau", tau)):
        check_numeric(value, name, real=name != "chi")
    if all(should_validate(x) for x in (H_S, H_A, coupling.L, coupling.A, coupling.omega)):
        res, tol = (np.asarray(x) for x in coupling._residuals(H_S, H_A))
        if np.any(res > tol):
            raise ValueError(
                f"L, A: not eigenoperators, max ‖[H_S, L_k] + ω_k L_k‖, ‖[H_A, A_k] + ω_k A_k‖ = {np.max(res):.3g} "
                f"(tolerance 1e-9·max(‖H‖, |ω_k|)·‖L_k‖ + rounding = {float(np.min(tol[res > tol])):.3g})"
            )
    return CoherentCollisionModel(H_S, H_A, coupling.interaction(), beta, chi, lam, tau)
