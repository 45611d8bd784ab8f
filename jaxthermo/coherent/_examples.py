"""The qubit example of [WCCM] (docs/coherent.md): resonant qubits exchanging excitations.

Kept apart from :mod:`._model` and :mod:`._eigen` because it needs both (the model class and the
eigenoperator coupling); neither of them imports this module.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._validation import check_inexact_dtype, check_numeric, eager_constants, is_concrete
from ._eigen import EigenoperatorCoupling
from ._model import CoherentCollisionModel


def _check_coupling_numbers(omega, g, dtype) -> None:
    """``TypeError`` naming ``omega`` or ``g`` unless each is a number (a tracer passes): None, a string or a bool
    failed inside ``float()`` or JAX without naming it, or ran silently (``omega='1'`` built a model). ω is a real
    Bohr frequency; g is real unless ``dtype`` is complex (a complex g with a real dtype failed in ``float()``)."""
    check_numeric(omega, "omega")
    check_numeric(g, "g", real=False)
    g_dtype = np.dtype(g.dtype) if hasattr(g, "dtype") else np.asarray(g).dtype  # a tracer's too (static)
    if np.dtype(dtype).kind != "c" and g_dtype.kind == "c":
        raise TypeError(
            f"g must be real with the real dtype={np.dtype(dtype).name}; got dtype {g_dtype.name}: pass "
            "dtype=complex128 (or complex64) for a complex coupling"
        )


@eager_constants
def qubit_coupling(omega=1.0, g=1.0, dtype=jnp.float64) -> EigenoperatorCoupling:
    """The [WCCM] qubit coupling ``V = g(σ₊σ₋ + σ₋σ₊)``: L = A = σ₋ = |0⟩⟨1|, ω = Ω.

    ``dtype``: float32, float64, complex64 or complex128 (an integer dtype truncated g = 0.3 to 0)."""
    _check_coupling_numbers(omega, g, check_inexact_dtype(dtype))
    for name, value in (("omega", omega), ("g", g)):
        if np.ndim(value) != 0:  # failed in a reshape: "cannot reshape array of shape (2,) (size 2) into shape (1,)"
            raise ValueError(
                f"{name} must be a scalar (one qubit coupling); got shape {np.shape(value)}: for a batch of values "
                "map over them with jax.vmap"
            )
    sm = jnp.array([[[0.0, 1.0], [0.0, 0.0]]], dtype)
    return EigenoperatorCoupling(
        sm, sm, jnp.reshape(jnp.asarray(g, dtype), (1,)), jnp.reshape(jnp.asarray(omega, dtype), (1,))
    )


@eager_constants
def qubit_example(omega=1.0, g=1.0, beta=1.0, lam=0.1, tau=0.01, dtype=None) -> CoherentCollisionModel:
    """The [WCCM] qubit example: resonant qubits, ``V = g(σ₊σ₋ + σ₋σ₊)``, χ = σ_x (docs/coherent.md).

    ``H_S = H_A = (Ω/2)σ_z`` with |0⟩ the ground state for Ω > 0 (σ_z = diag(−1, 1), as ``2·spin_z(2)``),
    ``σ₋ = |0⟩⟨1|``. The continuous-time limit is amplitude damping with
    ``γ⁻ = g² p_0``, ``γ⁺ = g² p_1`` plus the drive ``λG``, ``G = g σ_x``.
    """
    dtype = jnp.float64 if dtype is None else check_inexact_dtype(dtype)
    _check_coupling_numbers(omega, g, np.dtype(dtype))
    for name, value in (("beta", beta), ("lam", lam), ("tau", tau)):
        check_numeric(value, name)
    if is_concrete(omega) and np.ndim(omega) == 0 and float(np.real(omega)) == 0.0:
        # Ω = 0 was refused as "chi must have zero diagonal in the eigenbasis of H_A", naming a field not passed
        raise ValueError(
            "omega = 0: the qubits' levels are degenerate, so χ = σ_x lies in H_A's eigenspace and is no coherence "
            "in energy (docs/coherent.md §1); take omega != 0"
        )
    coupling = qubit_coupling(omega, g, dtype=dtype)
    h = (jnp.asarray(omega, dtype) / 2) * jnp.diag(jnp.array([-1.0, 1.0], dtype))
    chi = jnp.array([[0.0, 1.0], [1.0, 0.0]], dtype)
    return CoherentCollisionModel(h, h, coupling.interaction(), beta, chi, lam, tau)
