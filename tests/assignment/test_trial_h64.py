"""Trial h64 (model C, second round): rcond >= 1, GlobalEnergetics.weak_coupling_heat, a superoperator matrix
given as the generator. References: SciPy expm and partial traces, σ_min/σ_max of Φ_t built by hand in NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import expm

import jaxthermo as jt

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([1.0, -1.0])
H_S, H_I, H_E = 0.5 * SZ, 0.3 * np.kron(SX, SX), 0.7 * SZ
RHO_S, RHO_E = np.diag([0.3, 0.7]), np.diag([0.9, 0.1])


def _model():
    return jt.GlobalModel(H_S, H_I, H_E)


def _phi(t):
    """Φ_t (row-major vec) by SciPy expm and a NumPy partial trace over the environment."""
    h = np.kron(H_S, np.eye(2)) + H_I + np.kron(np.eye(2), H_E)
    u = expm(-1j * h * t)
    phi = np.zeros((4, 4), complex)
    for c in range(2):
        for d in range(2):
            unit = np.zeros((2, 2))
            unit[c, d] = 1.0
            glob = (u @ np.kron(unit, RHO_E) @ u.conj().T).reshape(2, 2, 2, 2)
            phi[:, 2 * c + d] = np.einsum("aebe->ab", glob).reshape(-1)
    return phi


# ---------------------------------------------------------------- rcond >= 1


@pytest.mark.parametrize("rcond", [1.0, 2.0, 1e3])
def test_rcond_at_least_one_refused(rcond):
    # σ_min/σ_max ≤ 1 and σ_min(G) ≤ 1 (G a block of a unitary): rcond >= 1 flagged every time, t = 0 (Φ_0 = 1)
    # included, and returned NaN for every minimal-dissipation result (only a warning)
    times = np.linspace(0.0, 1.0, 3)
    with pytest.raises(ValueError, match="rcond"):
        jt.minimal_dissipation(_model(), RHO_S, RHO_E, times, rcond=rcond)
    with pytest.raises(ValueError, match="rcond"):
        jt.exact_generator(_model(), RHO_E, 0.5, rcond=rcond)
    res = jt.QuadraticReservoirs(np.eye(2), 2.0 * np.eye(2), 0.1 * np.ones((2, 2)))
    with pytest.raises(ValueError, match="rcond"):
        jt.quadratic_energetics(res, times, rcond=rcond)
    with pytest.raises(ValueError, match="rcond"):
        res.energetics(times, rcond=rcond)


def test_rcond_below_one_flags_as_numpy():
    # a legal large rcond flags exactly the grid times where the NumPy σ_min/σ_max of Φ_t is below it
    times = np.linspace(0.0, 3.0, 7)
    ratio = np.array([(lambda s: s[-1] / s[0])(np.linalg.svd(_phi(t), compute_uv=False)) for t in times])
    rcond = float(np.median(ratio))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = jt.minimal_dissipation(_model(), RHO_S, RHO_E, times, rcond=rcond)
    np.testing.assert_allclose(np.asarray(out.inverse_condition), ratio, rtol=1e-10)
    np.testing.assert_array_equal(np.asarray(out.singular), ratio < rcond)
    assert not out.singular[0]


# ---------------------------------------------------------------- weak_coupling_heat


def test_global_weak_coupling_heat_is_delta_u_s():
    # docs/assignment.md §2 reports ∫Tr{H_S ρ̇_S} = ΔŨ_S as `weak_coupling_heat`; GlobalEnergetics had no such field
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho0 = a @ a.conj().T / np.trace(a @ a.conj().T)
    times = np.linspace(0.0, 2.0, 5)
    out = jt.energy_assignment(_model(), rho0, times)
    h = np.kron(H_S, np.eye(2)) + H_I + np.kron(np.eye(2), H_E)
    u_s = [np.trace(np.kron(H_S, np.eye(2)) @ expm(-1j * h * t) @ rho0 @ expm(1j * h * t)).real for t in times]
    np.testing.assert_allclose(np.asarray(out.weak_coupling_heat), np.array(u_s) - u_s[0], atol=1e-12)


def test_driven_weak_coupling_heat_is_system_heat():
    # ∫Tr{H_S(t) ρ̇_S} is Q̃_S for a driven H_S(t) too (Tr{(H_S ⊗ 1) ρ̇} = Tr{H_S ρ̇_S})
    import jax.numpy as jnp

    model = jt.GlobalModel(H_S, H_I, H_E, drive=lambda t: 0.4 * jnp.cos(1.3 * t) * jnp.asarray(SX))
    out = jt.energy_assignment(model, np.kron(RHO_S, RHO_E), np.linspace(0.0, 2.0, 5), substeps=32)
    np.testing.assert_array_equal(np.asarray(out.weak_coupling_heat), np.asarray(out.heats[0]))


# ---------------------------------------------------------------- superoperator matrix as the generator


def test_canonical_form_of_a_matrix_names_generator():
    # exact_generator returns a (d², d²) matrix; canonical_form takes a callable and blamed d ("d=2: the generator
    # does not act on (2, 2) matrices") though d was right
    gen = jt.exact_generator(_model(), RHO_E, 0.5)
    for f in (jt.canonical_form, jt.canonical_hamiltonian):
        with pytest.raises(TypeError, match="generator") as info:
            f(gen, 2)
        assert "d=2" not in str(info.value)
