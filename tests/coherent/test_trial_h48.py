"""Model B under a physicist's trial (helper-48): energy offsets, collisions vs the full density matrix, bad input.

Independent routes: NumPy's eigendecomposition and entropies of the input with its offset subtracted (exact in
floating point for c·1 with c ≥ the energies), SciPy's expm for the collision (tests/coherent/helpers.py),
closed forms.
"""

import warnings

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import collision_thermodynamics, energy_coherence, pinching
from tests.coherent.helpers import numpy_entropy, random_model_arrays, reference_collision
from tests.helpers import random_state, random_unitary


def numpy_pinching(rho, h, tol=1e-9):
    """Dephasing in the eigenbasis of h (NumPy), levels closer than ``tol`` × spread kept as one block."""
    e, u = np.linalg.eigh(h)
    same = np.abs(e[:, None] - e[None, :]) <= tol * (e[-1] - e[0])
    rotated = u.conj().T @ rho @ u
    return u @ np.where(same, rotated, 0.0) @ u.conj().T


def numpy_coherence(rho, h):
    return numpy_entropy(numpy_pinching(rho, h)) - numpy_entropy(rho)


def offset(h, c):
    """h + c·1 as rounded, and the same with c subtracted again (exact: the rounded input, offset removed)."""
    shifted = np.asarray(h) + c * np.eye(np.shape(h)[-1])
    return shifted, shifted - c * np.eye(np.shape(h)[-1])


# ---------------------------------------------------------------------------------------------------------------
# degeneracy of energy levels: invariant under h → h + c·1


@pytest.mark.parametrize("c", [1e9, 1e12, -1e12])
def test_energy_coherence_of_plus_does_not_depend_on_an_energy_offset(c):
    # |+⟩ in the eigenbasis of a qubit of splitting 1 lifted by c: C = log 2. The degeneracy test was relative
    # to max|E| (1e-9·c ≥ 1): the two levels merged, C = 0 and the pinching kept the coherence 1/2
    plus = np.full((2, 2), 0.5)
    h = np.diag([0.0, 1.0]) + c * np.eye(2)
    np.testing.assert_allclose(float(energy_coherence(plus, h)), np.log(2), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(pinching(plus, h)), np.eye(2) / 2, atol=1e-16)


def test_a_small_splitting_on_a_unit_offset_is_resolved():
    # diag(1, 1 + 1e-10): the gap 1e-10 is resolved in float64 (ε = 2.2e-16), C(|+⟩) = log 2 (it was 0)
    plus = np.full((2, 2), 0.5)
    np.testing.assert_allclose(float(energy_coherence(plus, np.diag([1.0, 1.0 + 1e-10]))), np.log(2), rtol=1e-12)


@pytest.mark.parametrize("c", [1e6, 1e9, 1e12])
def test_pinching_in_a_rotated_basis_with_an_offset_matches_numpy(c):
    # levels 0, 1, 2.5 in a random basis, lifted by c: the pinching is that of the rounded input with its offset
    # removed (NumPy). The old criterion merged levels 0 and 1 at c = 1e9 (0.015 off) and all at 1e12 (0.11 off);
    # eigh of the lifted h also lost ~50× more of the eigenvectors than the input's own rounding (1.4e-11 at 1e6)
    rng = np.random.default_rng(0)
    u, rho = random_unitary(3, rng), random_state(3, rng)
    h, h_ref = offset(u @ np.diag([0.0, 1.0, 2.5]) @ u.conj().T, c)
    np.testing.assert_allclose(np.asarray(pinching(rho, h)), numpy_pinching(rho, h_ref), atol=1e-14)
    np.testing.assert_allclose(float(energy_coherence(rho, h)), numpy_coherence(rho, h_ref), atol=1e-14)


@pytest.mark.parametrize(
    "h",
    [
        np.diag([0.0, 1e-7, 1.0]) + 1e9 * np.eye(3),  # a gap of 1e-7 on top of 1e9: within its rounding 1e-5
        (lambda u: u @ np.diag([0.0, 0.0, 1.0]) @ u.conj().T + 1e9 * np.eye(3))(
            random_unitary(3, np.random.default_rng(1))
        ),  # a degenerate pair split by the rounding of the lifted entries
    ],
)
def test_levels_the_dtype_cannot_resolve_at_the_offset_are_refused(h):
    # neither can be told apart from a degeneracy in float64 at max|E| = 1e9: merged without a word before
    rho = random_state(3, np.random.default_rng(2))
    with pytest.raises(ValueError, match=r"h: two of its energies differ by .* cannot be told whether they are"):
        energy_coherence(rho, h)
    with pytest.raises(ValueError, match="h: two of its energies"):
        pinching(rho, h)
    # the same levels without the offset are fine
    np.testing.assert_allclose(
        float(energy_coherence(rho, h - 1e9 * np.eye(3))), numpy_coherence(rho, h - 1e9 * np.eye(3)), atol=1e-13
    )


def test_a_model_whose_ancilla_energies_carry_an_offset_is_accepted():
    # H_A of levels 0, 1, 2 in a random basis lifted by 1e9: χ off-shell for H_A was refused ("chi must have zero
    # diagonal", a merged pair); the λ range is that of H_A without the offset
    rng = np.random.default_rng(5)
    p = random_model_arrays(2, 3, rng)
    model = jt.CoherentCollisionModel(**p)
    for c in (1e6, 1e9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the rounding of the lifted H_A breaks [V, H_S + H_A] = 0 slightly
            lifted = jt.CoherentCollisionModel(**dict(p, H_A=p["H_A"] + c * np.eye(3)))
        lo, hi = jt.coherent.allowed_lambda_range(lifted)
        lo0, hi0 = jt.coherent.allowed_lambda_range(model)
        np.testing.assert_allclose([float(lo), float(hi)], [float(lo0), float(hi0)], rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# the collision with an energy offset, and beyond the exponential's range


def qubit_arrays(model):
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")}
    p.update(beta=float(model.beta), lam=float(model.lam), tau=float(model.tau))
    return p


@pytest.mark.parametrize("c", [1e8, 1e9, -1e10])
def test_a_collision_with_an_energy_offset_is_that_without_it(c):
    # H_S + c·1 and H_A + c·1 change U by the global phase e^{−2iτc} only. expm of the whole generator needed
    # ‖τ(H_S + H_A)‖₁ ≤ 2¹⁷θ ≈ 7e5: at τ = 0.01, c = 1e8 every state, heat and Σ was NaN without a word
    model = jt.qubit_example(lam=0.2)
    p = qubit_arrays(model)
    rho = np.array([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lifted = model.replace(H_S=p["H_S"] + c * np.eye(2), H_A=p["H_A"] + c * np.eye(2))
    rho_s, rho_a, joint = reference_collision(p, rho)  # SciPy, without the offset
    out = jt.coherent.collide(lifted, rho)
    np.testing.assert_allclose(np.asarray(out.system), rho_s, atol=1e-14)
    np.testing.assert_allclose(np.asarray(out.ancilla), rho_a, atol=1e-14)
    np.testing.assert_allclose(np.asarray(out.joint), joint, atol=1e-14)
    u = np.asarray(jt.coherent.collision_unitary(lifted))
    u0 = np.asarray(jt.coherent.collision_unitary(model))
    np.testing.assert_allclose(u, np.exp(-2j * p["tau"] * c) * u0, atol=1e-6)  # the phase τc to ε·τc
    traj = jt.coherent.stroboscopic_trajectory(lifted, rho, 50)
    ref = jt.coherent.stroboscopic_trajectory(model, rho, 50)
    np.testing.assert_allclose(np.asarray(traj.states), np.asarray(ref.states), atol=1e-13)
    # Σ and its parts: I(ρ_SA') and S(ρ_A'‖ρ_A) from NumPy on the SciPy collision
    th = collision_thermodynamics(lifted, rho)
    info = numpy_entropy(rho_s) + numpy_entropy(rho_a) - numpy_entropy(joint)
    ra = np.asarray(jt.coherent.ancilla_state(model))
    w, v = np.linalg.eigh(ra)
    rel = -numpy_entropy(rho_a) - np.trace(rho_a @ (v * np.log(w)) @ v.conj().T).real
    np.testing.assert_allclose(float(th.mutual_information), info, rtol=1e-9)
    np.testing.assert_allclose(float(th.ancilla_relative_entropy), rel, rtol=1e-8)
    dc = numpy_coherence(rho_a, p["H_A"]) - numpy_coherence(ra, p["H_A"])
    np.testing.assert_allclose(float(th.coherence_change), dc, rtol=1e-8)


def test_thermal_ancilla_relative_entropy_with_an_offset():
    # λ = 0: S(ρ_A'‖ρ_th) = −S(ρ_A') + β⟨H_A − E_0⟩ + log Z'. ⟨H_A⟩ − E_0 cancelled ε·c: 1e-9 off of 1.8e-4 at
    # c = 1e7 (the largest offset the old collision survived)
    model = jt.qubit_example(lam=0.0)
    p = qubit_arrays(model)
    rho = np.array([[0.7, 0.2], [0.2, 0.3]])
    _, rho_a, _ = reference_collision(p, rho)
    pops = np.exp(-p["beta"] * np.array([-0.5, 0.5]))
    pops /= pops.sum()
    rel = -numpy_entropy(rho_a) - float(np.sum(np.diag(rho_a).real * np.log(pops)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lifted = model.replace(H_A=p["H_A"] + 1e7 * np.eye(2), H_S=p["H_S"] + 1e7 * np.eye(2))
    np.testing.assert_allclose(float(collision_thermodynamics(lifted, rho).ancilla_relative_entropy), rel, rtol=1e-10)


@pytest.mark.parametrize("function", ["collide", "collision_unitary", "trajectory", "cycle", "thermodynamics"])
def test_a_collision_phase_beyond_the_exponential_is_refused_naming_tau(function):
    # τ = 1e6 for a qubit of splitting 1 (λ = 0): ‖τ(H_S + H_A)‖₁ = 1e6 > 2¹⁷θ ≈ 7e5, U was NaN without a word
    # (two species: collisions of τ/2, so τ = 2e6)
    model = jt.qubit_example(lam=0.0, tau=1e6)
    rho = np.eye(2) / 2
    calls = {
        "collide": lambda: jt.coherent.collide(model, rho),
        "collision_unitary": lambda: jt.coherent.collision_unitary(model),
        "trajectory": lambda: jt.coherent.stroboscopic_trajectory(model, rho, 3),
        "cycle": lambda: jt.coherent.cycle(jt.MultiSpeciesModel((model.replace(tau=2e6),) * 2), rho),
        "thermodynamics": lambda: collision_thermodynamics(model, rho),
    }
    with pytest.raises(ValueError, match=r"tau: one collision's generator"):
        calls[function]()
    # τ = 1e5 still computes, and unitarily
    u = np.asarray(jt.coherent.collision_unitary(model.replace(tau=1e5)))
    np.testing.assert_allclose(u @ u.conj().T, np.eye(4), atol=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# eigenoperator relations judged relative to the energies' scale


def test_eigenoperator_model_refuses_non_eigenoperators_in_small_units():
    # H = 1e-12·σ_z/2 and L = σ_x (not an eigenoperator): the residual 2e-12 passed the absolute 1e-9 test and the
    # model claimed an eigenoperator form (rates γ_k) that its V does not have; at unit scale it was refused
    s = 1e-12
    h = s * np.diag([-0.5, 0.5])
    sx, sm = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 0.0]])
    coupling = jt.coherent.EigenoperatorCoupling(sx[None], sm[None], np.array([1.0]), np.array([s]))
    with pytest.raises(ValueError, match="L, A: not eigenoperators"):
        jt.coherent.eigenoperator_model(coupling, h, h, 1.0 / s, sx, 0.0, 0.01)
    # the true eigenoperator σ₋ in the same units is accepted
    good = jt.coherent.EigenoperatorCoupling(sm[None], sm[None], np.array([1.0]), np.array([s]))
    jt.coherent.eigenoperator_model(good, h, h, 1.0 / s, sx, 0.0, 0.01)


def test_eigenoperator_model_accepts_a_rotated_qubit_with_an_energy_offset():
    # L = A = U σ₋ U† are eigenoperators of U(σ_z/2)U† + 1e9·1 with ω = 1; the commutator of the lifted H rounded
    # to 7.5e-8 > 1e-9 and the model was refused. Its master equation is amplitude damping with γ⁻ = p_0,
    # γ⁺ = p_1 (β = 1, g = 1) and G = χ's coupling, as NumPy's Lindblad form of the same V (tests/coherent/helpers)
    from tests.coherent.helpers import lindblad_rhs, reference_lindblad

    rng = np.random.default_rng(0)
    u = random_unitary(2, rng)
    h = u @ np.diag([-0.5, 0.5]) @ u.conj().T
    sm = u @ np.array([[0.0, 1.0], [0.0, 0.0]]) @ u.conj().T
    coupling = jt.coherent.EigenoperatorCoupling(sm[None], sm[None], np.array([1.0]), np.array([1.0]))
    lifted = h + 1e9 * np.eye(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = jt.coherent.eigenoperator_model(coupling, lifted, lifted, 1.0, sm + sm.conj().T, 0.1, 0.01)
    p = {f: np.asarray(getattr(model, f)) for f in ("H_S", "H_A", "V", "chi")}
    p.update(beta=1.0, lam=0.1, tau=0.01, H_S=h, H_A=h)  # the same V, energies without the offset
    h_eff, jumps = reference_lindblad(p)
    rho = random_state(2, rng)
    np.testing.assert_allclose(
        np.asarray(jt.coherent.master_equation_rhs(model, rho)), lindblad_rhs(h_eff, jumps, rho), atol=1e-6
    )


# ---------------------------------------------------------------------------------------------------------------
# energetics and rates are expectations of traceless operators: an energy offset changes nothing


def test_energetics_and_rates_do_not_feel_an_energy_offset():
    # H_S, H_A + 1e9·1: the collision's work (0 under [V, H_S + H_A] = 0) was 5.5e-8, ΔE_S 1.1e-7 off of 1.9e-3,
    # the rates ~1e-8 off (ε·c from Tr[(H + c)(ρ' − ρ)], [G, H + c], Tr[(H + c)ρ̇]); references from SciPy's
    # collision and NumPy's Lindblad form without the offset
    from tests.coherent.helpers import lindblad_rhs, ptrace, reference_lindblad

    model = jt.qubit_example(lam=0.3, beta=0.7)
    p = qubit_arrays(model)
    rho = np.array([[0.6, 0.1 - 0.2j], [0.1 + 0.2j, 0.4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no spurious "[V, H_S + H_A] != 0" from the offset's rounding either
        lifted = model.replace(H_S=p["H_S"] + 1e9 * np.eye(2), H_A=p["H_A"] + 1e9 * np.eye(2))
    rho_s, rho_a, _ = reference_collision(p, rho)
    ra = np.asarray(jt.coherent.ancilla_state(model))
    c = jt.coherent.collide(lifted, rho)
    heat = -np.trace(p["H_A"] @ (rho_a - ra)).real
    np.testing.assert_allclose(float(c.heat), heat, rtol=1e-12)
    np.testing.assert_allclose(float(c.energy_change), np.trace(p["H_S"] @ (rho_s - rho)).real, rtol=1e-12)
    assert abs(float(c.work)) < 1e-15
    h_eff, jumps = reference_lindblad(p)
    dissipation = lindblad_rhs(np.zeros((2, 2)), jumps, rho)
    g = ptrace(p["V"] @ np.kron(np.eye(2), p["chi"]), 2, 2, 0)
    rates = {
        "coherent_work_rate": (1j * p["lam"] * np.trace(rho @ (g @ p["H_S"] - p["H_S"] @ g))).real,
        "incoherent_heat_rate": np.trace(p["H_S"] @ dissipation).real,
        "energy_rate": np.trace(p["H_S"] @ lindblad_rhs(h_eff, jumps, rho)).real,
    }
    rates["ancilla_heat_rate"] = -rates["energy_rate"]
    for name, expected in rates.items():
        np.testing.assert_allclose(float(getattr(jt.coherent, name)(lifted, rho)), expected, rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(
        np.asarray(jt.coherent.master_equation_rhs(lifted, rho)), lindblad_rhs(h_eff, jumps, rho), atol=1e-14
    )


# ---------------------------------------------------------------------------------------------------------------
# several species share H_S


@pytest.mark.parametrize(("omega_a", "omega_b"), [(1.0, 1.0 + 4e-6), (1e-12, 2e-12)])
def test_species_with_different_system_hamiltonians_are_refused(omega_a, omega_b):
    # np.allclose(atol=1e-12, rtol=1e-5) took σ_z/2 and (1 + 4e-6)σ_z/2, or any two H_S in units of 1e-12, for
    # one H_S: each species' collisions then used its own H_S while the master equation used the first
    a = jt.qubit_example(omega=omega_a, beta=1.0 / omega_a)
    b = jt.qubit_example(omega=omega_b, beta=1.0 / omega_a)
    with pytest.raises(ValueError, match=r"species\[1\].H_S differs from species\[0\].H_S"):
        jt.MultiSpeciesModel((a, b))
    # the same H_S, also once in float32, is one H_S
    jt.MultiSpeciesModel((a, a.replace(beta=2.0 / omega_a)))
    jt.MultiSpeciesModel((jt.qubit_example(), jt.qubit_example(beta=2.0, dtype=np.float32)))


# ---------------------------------------------------------------------------------------------------------------
# the warnings on the paper's assumptions, in any unit


@pytest.mark.parametrize("s", [1.0, 1e-6, 1e-12])
def test_assumption_warnings_do_not_depend_on_the_unit_of_energy(s):
    # V = s·σ_x ⊗ σ_x does not commute with H_S + H_A = s(σ_z ⊗ 1 + 1 ⊗ σ_z)/2, and V = s·σ_x ⊗ σ_z has
    # Tr_A(V ρ_th) = s σ_x ⟨σ_z⟩_th = −s tanh(1/2) σ_x ≠ 0 (β = 1/s). Judged against max(1, max|V|), neither warned
    # for s = 1e-6 or 1e-12
    sx, sz = np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([-1.0, 1.0])
    h = s * sz / 2
    chi = sx
    with pytest.warns(UserWarning, match=r"\[V, H_S \+ H_A\] != 0"):
        jt.CoherentCollisionModel(h, h, s * np.kron(sx, sx), 1.0 / s, chi, 0.0, 0.01)
    with pytest.warns(UserWarning, match=r"Tr_A\(V rho_th\) != 0"):
        jt.CoherentCollisionModel(h, h, s * np.kron(sx, sz), 1.0 / s, chi, 0.0, 0.01)
    # the energy-conserving qubit example in the same units: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jt.qubit_example(omega=s, g=s, beta=1.0 / s)
        jt.CoherentCollisionModel(**random_model_arrays(2, 3, np.random.default_rng(3), omega=s, beta=0.7 / s))


def test_eigenoperator_model_names_bad_hamiltonians_and_frequencies():
    # an H_S of another dimension than L failed inside JAX ("dot_general requires contracting dimensions"); a
    # complex Bohr frequency was accepted
    sm, h = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([-0.5, 0.5])
    coupling = jt.coherent.EigenoperatorCoupling(sm[None], sm[None], np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"H_S must have shape \(2, 2\)"):
        jt.coherent.eigenoperator_model(coupling, np.eye(3), h, 1.0, sm + sm.T, 0.0, 0.01)
    with pytest.raises(ValueError, match=r"H_A must have shape \(2, 2\)"):
        jt.coherent.eigenoperator_model(coupling, h, np.eye(3), 1.0, sm + sm.T, 0.0, 0.01)
    with pytest.raises(ValueError, match="omega: Bohr frequencies must be real"):
        jt.coherent.EigenoperatorCoupling(sm[None], sm[None], np.array([1.0]), np.array([1.0 + 1.0j]))
