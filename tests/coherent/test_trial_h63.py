"""Model B under a physicist's trial (helper-63): qutrits, several species of ancillae, long runs.

Independent routes: the full system+ancilla collision in NumPy/SciPy (tensor product, U = exp(−iτ(H_S + H_A) − i√τV),
partial trace), a Lindblad form built from V's matrix elements (tests/coherent/helpers.py), closed forms.
"""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

import jaxthermo.coherent as cb
from tests.coherent.helpers import gibbs, ptrace

# a qutrit ladder H = diag(0, 1, 2) and its lowering operator
H3 = np.diag([0.0, 1.0, 2.0])
A3 = np.diag(np.sqrt([1.0, 2.0]), 1)
H2 = np.diag([0.0, 1.0])
SM = np.array([[0.0, 1.0], [0.0, 0.0]])


def quiet_model(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cb.CoherentCollisionModel(*args, **kwargs)


def numpy_cycle(species, rho, tau):
    """One cycle of the m species in NumPy: each collision exp(−i(τ/m)(H_S + H_A) − i√τV) on ρ_S ⊗ (ρ_th + √τλχ)."""
    m = len(species)
    for h_s, h_a, v, beta, chi, lam in species:
        d_s, d_a = len(h_s), len(h_a)
        rho_a = gibbs(h_a, beta) + np.sqrt(tau) * lam * chi
        h0 = np.kron(h_s, np.eye(d_a)) + np.kron(np.eye(d_s), h_a)
        u = expm(-1j * ((tau / m) * h0 + np.sqrt(tau) * v))
        rho = ptrace(u @ np.kron(rho, rho_a) @ u.conj().T, d_s, d_a, 0)
    return rho


def test_species_of_mixed_precision_run_in_the_wider_one():
    """A float32 species before a float64 one: stroboscopic_trajectory failed inside lax.scan ('carry input and carry
    output must have equal types': complex64 carry, complex128 result). Now the carry takes the promoted dtype, and the
    run follows NumPy's sequential collisions to float32 precision."""
    tau = 0.01
    v = np.kron(SM.T, SM) + np.kron(SM, SM.T)
    hot = cb.qubit_example(beta=0.5, lam=0.2, tau=tau, dtype=jnp.float32)
    cold = cb.qubit_example(beta=2.0, lam=0.1, tau=tau)
    pair = cb.MultiSpeciesModel((hot, cold))
    rho0 = np.array([[0.3, 0.2], [0.2, 0.7]])
    traj = cb.stroboscopic_trajectory(pair, rho0, 20)
    assert traj.states.dtype == jnp.complex128
    h = np.diag([-0.5, 0.5])
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    rho = rho0.astype(complex)
    for _ in range(20):
        rho = numpy_cycle([(h, h, v, 0.5, sx, 0.2), (h, h, v, 2.0, sx, 0.1)], rho, tau)
    np.testing.assert_allclose(np.asarray(traj.states[-1]), rho, atol=1e-6)
    # the master equation of the pair is that of the float64 model with both species
    ref = cb.MultiSpeciesModel((cb.qubit_example(beta=0.5, lam=0.2, tau=tau), cold))
    np.testing.assert_allclose(np.asarray(cb.steady_state(pair)), np.asarray(cb.steady_state(ref)), atol=1e-6)


def _ladder_qutrits(lam, tau, beta=1.0, g=0.5):
    """Qutrit ladder system and ancilla, V = g(a†⊗a + a⊗a†), χ = |0⟩⟨2| + |2⟩⟨0| (coupling levels 2ω apart)."""
    v = g * (np.kron(A3.T, A3) + np.kron(A3, A3.T))
    chi = np.zeros((3, 3))
    chi[0, 2] = chi[2, 0] = 1.0
    return v, chi, cb.CoherentCollisionModel(H3, H3, v, beta, chi, lam, tau)


def test_one_collision_departs_from_the_master_equation_at_order_tau_three_halves():
    """docs/coherent.md §3: Φ_τ = e^{τ𝓛} + τ^{3/2} M + O(τ²) with M(ρ) = −½λ Tr_A[V, [V, ρ ⊗ χ]] (the coherence
    entering at second order in √τV; the other τ^{3/2} terms vanish here: Tr_A(Vρ_th) = 0 and no third moment of a
    ladder). M ≠ 0 when V² connects levels that χ couples, so at fixed t the error is O(√τ), not the O(τ) of the
    qubit example. Routes: NumPy's exact collision, M from its formula, the library's propagate for e^{τ𝓛}."""
    lam, beta = 0.3, 1.0
    rho = np.diag([0.5, 0.3, 0.2]).astype(complex)
    rho[0, 1] = rho[1, 0] = 0.1
    gaps = []
    for tau in (1e-3, 1e-4, 1e-5):
        v, chi, model = _ladder_qutrits(lam, tau, beta)
        strobe = numpy_cycle([(H3, H3, v, beta, chi, lam)], rho, tau)
        master = np.asarray(cb.propagate(model, rho, np.array([0.0, tau])))[-1]
        x = np.kron(rho, chi)
        vx = v @ x - x @ v
        m = -0.5 * lam * ptrace(v @ vx - vx @ v, 3, 3, 0)
        assert np.abs(m).max() > 5e-3
        gaps.append(np.abs((strobe - master) / tau**1.5 - m).max())
    # the remainder of order τ², i.e. √τ relative to τ^{3/2}: a factor √10 per decade
    assert gaps[0] < 0.05 * np.abs(m).max()
    np.testing.assert_allclose(gaps[0] / gaps[1], np.sqrt(10), rtol=0.1)
    np.testing.assert_allclose(gaps[1] / gaps[2], np.sqrt(10), rtol=0.1)


def test_stroboscopic_error_at_fixed_time_is_of_order_sqrt_tau_for_a_qutrit_ancilla():
    """At t = 1 the stroboscopic state differs from e^{𝓛t}ρ_0 by O(√τ) (a factor 2 per factor 4 in τ) when χ
    couples levels 2ω apart, by O(τ) (a factor 4) when it couples neighbours (docs/coherent.md §3)."""
    rho0 = np.diag([0.2, 0.5, 0.3]).astype(complex)
    for chi_pair, order in (((0, 2), 0.5), ((0, 1), 1.0)):
        chi = np.zeros((3, 3))
        chi[chi_pair] = chi[chi_pair[::-1]] = 1.0
        v = 0.5 * (np.kron(A3.T, A3) + np.kron(A3, A3.T))
        errors = []
        for tau in (0.01, 0.0025, 0.000625):
            model = cb.CoherentCollisionModel(H3, H3, v, 2.0, chi, 0.2, tau)
            final = np.asarray(cb.stroboscopic_trajectory(model, rho0, round(1 / tau)).states[-1])
            exact = np.asarray(cb.propagate(model, rho0, np.array([0.0, 1.0])))[-1]
            errors.append(np.abs(final - exact).max())
        rates = np.log(np.array(errors[:-1]) / np.array(errors[1:])) / np.log(4)
        np.testing.assert_allclose(rates, order, atol=0.05)


def test_a_float32_model_accepts_lambda_at_its_own_allowed_edge():
    """Maximal coherence in float32: λ = allowed_lambda_range(model).upper (or .lower) was refused in 76 of 80 qubit
    models (β = 0.1…5, τ = 0.01, 0.003) as 'not positive semidefinite ... too large by a factor 1', the float32 edge
    rounding up by ~1e-8 against a 1e-12 margin. The edge is the closed form √(p_0 p_1/τ) of the qubit (K = σ_x/√(p_0
    p_1)); λ 1e-3 beyond it is still refused."""
    for beta in np.linspace(0.1, 5.0, 12):
        for tau in (0.01, 0.003):
            model = cb.qubit_example(beta=beta, tau=tau, lam=0.0, dtype=jnp.float32)
            lo, hi = (float(x) for x in cb.allowed_lambda_range(model))
            p1 = 1.0 / (1.0 + np.exp(beta))
            edge = np.sqrt(p1 * (1 - p1) / float(np.float32(tau)))
            np.testing.assert_allclose([lo, hi], [-edge, edge], rtol=1e-5)
            for lam in (lo, hi):
                at_edge = model.replace(lam=np.float32(lam))
                rho_a = np.asarray(cb.ancilla_state(at_edge), dtype=complex)
                assert np.linalg.eigvalsh(rho_a)[0] > -1e-6
                with pytest.raises(ValueError, match="lam"):
                    model.replace(lam=np.float32(1.001 * lam))


def test_a_model_written_with_python_lists_runs_everywhere():
    """H_S = [[-0.5, 0], [0, 0.5]] (or V, χ, H_A as nested lists, τ as a tuple of a batch) was accepted, then failed in
    steady_state, liouvillian, stroboscopic_trajectory and collision_thermodynamics with TracerArrayConversionError (a
    list field was a pytree of scalars, one tracer each under jit). Now each list is one array: the steady state is
    e^{−βH_S}/Z (λ = 0), a collision is NumPy's, Σ of a thermal state at the bath's β is 0."""
    h = [[-0.5, 0.0], [0.0, 0.5]]
    v = (np.kron(SM.T, SM) + np.kron(SM, SM.T)).tolist()
    sx = [[0.0, 1.0], [1.0, 0.0]]
    beta, lam, tau = 0.8, 0.3, 0.01
    model = cb.CoherentCollisionModel(h, h, v, beta, sx, lam, tau)
    thermal = gibbs(np.array(h), beta)
    np.testing.assert_allclose(np.asarray(cb.steady_state(model.replace(lam=0.0))), thermal, atol=1e-14)
    rho0 = np.array([[0.3, 0.2], [0.2, 0.7]], dtype=complex)
    states = np.asarray(cb.stroboscopic_trajectory(model, rho0, 3).states)
    rho = rho0
    for n in range(3):
        rho = numpy_cycle([(np.array(h), np.array(h), np.array(v), beta, np.array(sx), lam)], rho, tau)
        np.testing.assert_allclose(states[n + 1], rho, atol=1e-13)
    sigma = cb.collision_thermodynamics(model.replace(lam=0.0), thermal).entropy_production
    assert abs(float(sigma)) < 1e-13
    # a tuple of τ is a batch of two models; the Liouvillian does not depend on τ
    batch = cb.CoherentCollisionModel(h, h, v, beta, sx, lam, (0.01, 0.02))
    lv = np.asarray(cb.liouvillian(batch))
    assert lv.shape == (2, 4, 4)
    np.testing.assert_allclose(lv[0], lv[1], atol=1e-15)
    # the eigenoperator coupling from lists, jitted through a model
    coupling = cb.EigenoperatorCoupling([SM.tolist()], [SM.tolist()], [1.0], [1.0])
    built = cb.eigenoperator_model(coupling, np.array(h), np.array(h), beta, np.array(sx), lam, tau)
    np.testing.assert_allclose(np.asarray(built.V), np.array(v), atol=0)
    np.testing.assert_allclose(np.asarray(cb.steady_state(built)), np.asarray(cb.steady_state(model)), atol=1e-14)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: cb.collision_unitary(m),
        lambda m: cb.thermal_ancilla(m),
        lambda m: cb.ancilla_state(m),
        lambda m: cb.allowed_lambda_range(m),
        lambda m: cb.coherent_drive(m),
        lambda m: cb.validate(m),
        lambda m: cb.dissipator(m, np.eye(2) / 2),
    ],
    ids=[
        "collision_unitary",
        "thermal_ancilla",
        "ancilla_state",
        "allowed_lambda_range",
        "coherent_drive",
        "validate",
        "dissipator",
    ],
)
def test_per_species_functions_name_a_multi_species_model(call):
    """These seven take one species' H_A, V, χ, β; given a MultiSpeciesModel (which their type check lets through as
    a model B) they failed with "AttributeError: 'MultiSpeciesModel' object has no attribute 'H_A'". Now a ValueError
    naming model and pointing to model.species, like collide; each species still answers."""
    hot, cold = cb.qubit_example(beta=0.5), cb.qubit_example(beta=2.0)
    pair = cb.MultiSpeciesModel((hot, cold))
    with pytest.raises(ValueError, match=r"model: .* takes a single-species .*model\.species"):
        call(pair)
    for s in pair.species:
        call(s)
    # the additive master equation is the sum over the species' own pieces (docs/coherent.md §9)
    rho = np.array([[0.4, 0.1j], [-0.1j, 0.6]])
    total = sum(
        -1j * s.lam * (cb.coherent_drive(s) @ rho - rho @ cb.coherent_drive(s)) + cb.dissipator(s, rho)
        for s in pair.species
    )
    h = np.asarray(hot.H_S)
    total = total - 1j * (h @ rho - rho @ h)
    np.testing.assert_allclose(np.asarray(cb.master_equation_rhs(pair, rho)), np.asarray(total), atol=1e-15)


def test_qubit_example_with_degenerate_levels_names_omega():
    """qubit_example(omega=0) was refused as 'chi must have zero diagonal in the eigenbasis of H_A', a field the caller
    never passed; now the error names omega. Ω ≠ 0 of either sign still builds (χ = σ_x off-diagonal in energy)."""
    with pytest.raises(ValueError, match="omega = 0"):
        cb.qubit_example(omega=0.0)
    for omega in (-0.7, 1e-6, 3.0):
        model = cb.qubit_example(omega=omega, lam=0.0)
        p = gibbs(np.diag([-omega / 2, omega / 2]), 1.0)
        np.testing.assert_allclose(np.asarray(cb.steady_state(model)), p, atol=1e-14)


def test_a_long_float32_trajectory_stays_hermitian():
    """float32, τ = 10⁻³, 3·10⁴ collisions of the qubit example: the carried ρ_S was renormalised in trace only and
    its anti-Hermitian part, pure rounding, grew to ~5e-6 (6.4e-6 after 10⁵). Now every state is exactly Hermitian
    with unit trace, and still within 1e-4 of the float64 run."""
    rho0 = np.array([[0.3, 0.2], [0.2, 0.7]])
    n = 30000
    states = np.asarray(
        cb.stroboscopic_trajectory(cb.qubit_example(tau=1e-3, lam=0.5, dtype=jnp.float32), rho0, n).states
    )
    assert np.abs(states - np.conj(np.swapaxes(states, -1, -2))).max() == 0.0
    np.testing.assert_allclose(np.trace(states, axis1=-2, axis2=-1), 1.0, atol=1e-6)
    reference = np.asarray(cb.stroboscopic_trajectory(cb.qubit_example(tau=1e-3, lam=0.5), rho0, n).states[-1])
    np.testing.assert_allclose(states[-1], reference, atol=1e-4)


def test_qutrit_between_two_baths_of_different_ancillae():
    """A qutrit ladder between hot qubit ancillae (β_h = 0.3, V_h = g_h(a†⊗σ₋ + h.c.)) and cold qutrit ancillae
    (β_c = 2, V_c = g_c(a†⊗a + h.c.)). Closed form at λ = 0: D = γ↓D[a] + γ↑D[a†] with γ↓ = g_h²p_0^h + g_c²⟨aa†⟩_c,
    γ↑ = g_h²p_1^h + g_c²⟨a†a⟩_c, so the NESS is Gibbs at e^{−β_eff} = γ↑/γ↓, β_h < β_eff < β_c; heat flows hot → cold
    and the currents add up to zero; Π = −Σ_j β_j Q̇_inc^j > 0. With coherence in both species, QuTiP's steadystate
    of an independent Lindblad form (jumps √p_b⟨c|V|b⟩, G = Tr_A[V(1 ⊗ χ)]) and Π = −Σ β_j Q̇_inc^j at the NESS."""
    import qutip as qt

    from tests.coherent.helpers import reference_lindblad

    g_h, g_c, b_h, b_c, tau = 0.7, 0.4, 0.3, 2.0, 0.01
    v_h = g_h * (np.kron(A3.T, SM) + np.kron(A3, SM.T))
    v_c = g_c * (np.kron(A3.T, A3) + np.kron(A3, A3.T))
    chi_h = np.array([[0.0, -1j], [1j, 0.0]])
    chi_c = np.array([[0.0, 0.5, 1.0], [0.5, 0.0, 0.2], [1.0, 0.2, 0.0]])

    def pair(lam_h, lam_c):
        hot = cb.CoherentCollisionModel(H3, H2, v_h, b_h, chi_h, lam_h, tau)
        cold = cb.CoherentCollisionModel(H3, H3, v_c, b_c, chi_c, lam_c, tau)
        return cb.MultiSpeciesModel((hot, cold))

    ph = np.exp(-b_h * np.arange(2)) / np.sum(np.exp(-b_h * np.arange(2)))
    pc = np.exp(-b_c * np.arange(3)) / np.sum(np.exp(-b_c * np.arange(3)))
    down = g_h**2 * ph[0] + g_c**2 * (pc[0] + 2 * pc[1])
    up = g_h**2 * ph[1] + g_c**2 * (pc[1] + 2 * pc[2])
    beta_eff = -np.log(up / down)
    assert b_h < beta_eff < b_c
    model = pair(0.0, 0.0)
    ness = np.asarray(cb.steady_state(model))
    np.testing.assert_allclose(ness, gibbs(H3, beta_eff), atol=1e-14)
    q_inc = np.asarray(cb.incoherent_heat_rate(model, ness))
    assert q_inc[0] > 0 > q_inc[1]
    np.testing.assert_allclose(q_inc.sum(), 0.0, atol=1e-15)
    np.testing.assert_allclose(float(cb.entropy_production_rate(model, ness)), -(b_h * q_inc[0] + b_c * q_inc[1]))

    model = pair(0.4, 0.3)
    h, jumps = H3.astype(complex), []
    for v, h_a, beta, chi, lam in ((v_h, H2, b_h, chi_h, 0.4), (v_c, H3, b_c, chi_c, 0.3)):
        h_eff, j = reference_lindblad(dict(H_S=H3, H_A=h_a, V=v, beta=beta, chi=chi, lam=lam))
        h = h + (h_eff - H3)
        jumps += j
    reference = qt.steadystate(qt.Qobj(h), [qt.Qobj(j) for j in jumps]).full()
    ness = np.asarray(cb.steady_state(model))
    np.testing.assert_allclose(ness, reference, atol=1e-10)
    w_c = np.asarray(cb.coherent_work_rate(model, ness))
    q_inc = np.asarray(cb.incoherent_heat_rate(model, ness))
    np.testing.assert_allclose(w_c.sum() + q_inc.sum(), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.asarray(cb.ancilla_heat_rate(model, ness)), -(w_c + q_inc), atol=1e-15)
    pi = float(cb.entropy_production_rate(model, ness))
    np.testing.assert_allclose(pi, -(b_h * q_inc[0] + b_c * q_inc[1]), rtol=1e-10)
    assert pi > 0


def test_species_share_tau_to_the_precision_of_the_coarser_one():
    """A float32 species with τ = float32(0.01) beside a float64 one with τ = 0.01 was refused ('species[1].tau differs
    from species[0].tau'): the rtol 1e-12 check saw float32's rounding (2.2e-8 relative) as another τ. Now τ is
    compared to the coarser precision (as H_S is); a τ 1e-4 apart is still refused. The pair runs like NumPy's cycle."""
    tau32 = np.float32(0.01)
    hot = cb.qubit_example(beta=0.5, lam=0.2, tau=jnp.asarray(tau32), dtype=jnp.float32)
    cold = cb.qubit_example(beta=2.0, lam=0.1, tau=np.float64(0.01))
    pair = cb.MultiSpeciesModel((hot, cold))
    with pytest.raises(ValueError, match=r"species\[1\]\.tau differs"):
        cb.MultiSpeciesModel((cold, cb.qubit_example(beta=0.5, tau=0.010001)))
    h = np.diag([-0.5, 0.5])
    v = np.kron(SM.T, SM) + np.kron(SM, SM.T)
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    rho = np.array([[0.3, 0.2], [0.2, 0.7]], dtype=complex)
    states = np.asarray(cb.stroboscopic_trajectory(pair, rho, 10).states)
    for _ in range(10):
        rho = numpy_cycle([(h, h, v, 0.5, sx, 0.2), (h, h, v, 2.0, sx, 0.1)], rho, 0.01)
    np.testing.assert_allclose(states[-1], rho, atol=1e-6)


def test_a_shared_dark_state_is_not_unique_in_mixed_precision():
    """A qutrit whose two excited levels decay through one ancilla transition keeps the dark state (|1⟩ − |2⟩)/√2
    (Frigerio: a non-trivial commutant), so no steady state is unique. Written in a rotated basis, a float32 species
    beside a float64 one sharing that dark state was solved under the float64 threshold 100·d²·ε₆₄ and returned a
    state, the float32 rounding of the first breaking the degeneracy. Now the threshold is the coarsest species'
    (float32), and the pair is refused like each species alone; a unique mixed-precision pair is still solved."""
    h_s = np.diag([0.0, 1.0, 1.0])
    l1, l2 = np.zeros((3, 3)), np.zeros((3, 3))
    l1[0, 1] = l2[0, 2] = 1.0
    coupling = cb.EigenoperatorCoupling(np.stack([l1, l2]), np.stack([SM, SM]), [0.5, 0.5], [1.0, 1.0])
    rng = np.random.default_rng(0)
    u = np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))[0]
    h_r = u @ h_s @ u.conj().T
    v_r = np.kron(u, np.eye(2)) @ np.asarray(coupling.interaction()) @ np.kron(u, np.eye(2)).conj().T
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    single = cb.CoherentCollisionModel(
        h_r.astype(np.complex64), H2.astype(np.float32), v_r.astype(np.complex64), 1.0, sx.astype(np.float32), 0.1, 0.01
    )
    double = quiet_model(h_r, H2, 0.3 * v_r, 2.0, sx, 0.0, 0.01)
    for model in (single, double, cb.MultiSpeciesModel((single, double)), cb.MultiSpeciesModel((double, single))):
        with pytest.raises(ValueError, match="not unique"):
            cb.steady_state(model)
    hot = cb.qubit_example(beta=0.5, lam=0.2, dtype=jnp.float32)
    cold = cb.qubit_example(beta=2.0, lam=0.1)
    ness = np.asarray(cb.steady_state(cb.MultiSpeciesModel((hot, cold))))
    np.testing.assert_allclose(np.trace(ness), 1.0, atol=1e-12)


def test_a_rotated_float32_model_does_not_warn_about_its_own_rounding():
    """The qubit example written in a rotated basis in float32 is energy conserving, but construction warned
    '[V, H_S + H_A] != 0 (max entry ~1e-8): the collisions do global work': the warning's relative 1e-8 lies below
    float32's rounding. Now the threshold is max(1e-8, 100 ε) of the model's precision; a detuning of 1e-3 still warns,
    and the one-collision work of the rotated model is 0 to float32 precision (NumPy: W = 0 exactly)."""
    rng = np.random.default_rng(7)
    u = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))[0]
    h = u @ np.diag([-0.5, 0.5]) @ u.conj().T
    sm = u @ SM @ u.conj().T
    v = np.kron(sm.conj().T, sm) + np.kron(sm, sm.conj().T)
    chi = sm + sm.conj().T
    c64 = np.complex64
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = cb.CoherentCollisionModel(h.astype(c64), h.astype(c64), v.astype(c64), 1.0, chi.astype(c64), 0.2, 0.01)
    assert abs(float(cb.collide(model, np.eye(2) / 2).work)) < 1e-7
    detuned = (1.001 * h).astype(c64)
    with pytest.warns(UserWarning, match=r"\[V, H_S \+ H_A\] != 0"):
        cb.CoherentCollisionModel(h.astype(c64), detuned, v.astype(c64), 1.0, chi.astype(c64), 0.2, 0.01)
