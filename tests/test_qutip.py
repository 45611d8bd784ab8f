"""QuTiP in and out: Qobj inputs, jt.to_qobj dims, the basis order vs qutip.jmat."""

import numpy as np
import pytest

import jaxthermo as jt

qutip = pytest.importorskip("qutip")


def test_thermal_state_matches_qutip_after_basis_reversal():
    # jaxthermo: |0⟩ = ground state of g s_z; QuTiP's thermal state of jmat(1,'z') in its reversed basis
    d, beta, g = 3, 0.7, 1.3
    ours = np.asarray(jt.thermal_state(d, beta, g))
    h = g * qutip.jmat((d - 1) / 2, "z")
    theirs = (-beta * h).expm()
    theirs = (theirs / theirs.tr()).full()
    np.testing.assert_allclose(ours, theirs[::-1, ::-1], atol=1e-12)


def test_basis_order_statement():
    np.testing.assert_allclose(np.diag(np.asarray(jt.spin_z(3))), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(np.diag(qutip.jmat(1, "z").full().real), [1.0, 0.0, -1.0])
    p = np.eye(3)[::-1]
    np.testing.assert_allclose(np.asarray(jt.spin_z(3)), p @ qutip.jmat(1, "z").full().real @ p)


def test_qobj_rho0_into_trajectory_and_ensemble():
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.05))
    rho = np.asarray(jt.thermal_state(3, 0.4, 1.0))
    q = jt.to_qobj(rho)
    deltas = np.linspace(-0.05, 0.05, 6)
    a = jt.trajectory(model, q, deltas)
    b = jt.trajectory(model, rho, deltas)
    np.testing.assert_allclose(np.asarray(a.states), np.asarray(b.states), atol=1e-14)
    ra = jt.ensemble(model, q, 6, 64, seed=3)
    rb = jt.ensemble(model, rho, 6, 64, seed=3)
    np.testing.assert_allclose(ra.mean_work, rb.mean_work, atol=1e-14)
    with pytest.raises(ValueError, match="d = 3"):
        jt.ensemble(model, qutip.thermal_dm(2, 0.3), 6, 64)


def test_qobj_ket_is_a_pure_state():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2)
    a = jt.trajectory(model, qutip.basis(2, 1), np.zeros(3))
    b = jt.trajectory(model, np.diag([0.0, 1.0]), np.zeros(3))
    np.testing.assert_allclose(np.asarray(a.states), np.asarray(b.states), atol=1e-14)


def test_qobj_model_b_hamiltonian_and_dims_check():
    mb = jt.qubit_example(lam=0.2)
    mq = jt.CoherentCollisionModel(
        jt.to_qobj(mb.H_S),
        jt.to_qobj(mb.H_A),
        jt.to_qobj(mb.V, dims=mb.dims),
        mb.beta,
        jt.to_qobj(mb.chi),
        mb.lam,
        mb.tau,
    )
    np.testing.assert_allclose(
        float(jt.coherent_work_rate(mq, jt.steady_state(mq))),
        float(jt.coherent_work_rate(mb, jt.steady_state(mb))),
        rtol=1e-12,
    )
    # a qutip-built interaction with the right tensor structure is accepted
    sm = qutip.destroy(2)
    v = qutip.tensor(sm.dag(), sm) + qutip.tensor(sm, sm.dag())
    jt.CoherentCollisionModel(mb.H_S, mb.H_A, v, mb.beta, mb.chi, mb.lam, mb.tau)
    with pytest.raises(ValueError, match="tensor factors"):
        jt.CoherentCollisionModel(mb.H_S, mb.H_A, qutip.Qobj(v.full()), mb.beta, mb.chi, mb.lam, mb.tau)


def test_qobj_model_c_fields():
    hs = qutip.sigmaz() / 2
    he = qutip.sigmaz() / 2
    hi = 0.3 * (qutip.tensor(qutip.sigmap(), qutip.sigmam()) + qutip.tensor(qutip.sigmam(), qutip.sigmap()))
    m = jt.GlobalModel(hs, hi, he)
    assert m.dims == (2, 2)
    rho0 = qutip.tensor(qutip.basis(2, 0).proj(), qutip.thermal_dm(2, 0.5))
    out = jt.energy_assignment(m, rho0, np.linspace(0, 1, 5))
    ref = jt.energy_assignment(jt.GlobalModel(hs.full(), hi.full(), he.full()), rho0.full(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(np.asarray(out.energies), np.asarray(ref.energies), atol=1e-12)
    with pytest.raises(ValueError, match="tensor factors"):
        jt.GlobalModel(hs, qutip.Qobj(hi.full()), he)


def test_to_qobj_dims_and_batches():
    rho = np.asarray(jt.thermal_state(3, 1.0, 1.0))
    q = jt.to_qobj(rho)
    assert q.dims == [[3], [3]]
    np.testing.assert_allclose(q.full(), rho)
    v = jt.to_qobj(np.eye(6), dims=(2, 3))
    assert v.dims == [[2, 3], [2, 3]]
    batch = jt.to_qobj(np.stack([rho, rho]))
    assert isinstance(batch, list) and len(batch) == 2
    with pytest.raises(ValueError, match="multiply"):
        jt.to_qobj(np.eye(6), dims=(2, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_to_qobj_refuses_non_finite_entries(bad):
    """A NaN or infinite entry (one element of one matrix of a batch) raises, naming x: a NaN Qobj
    spreads NaN through every QuTiP computation that touches it."""
    rho = np.stack([np.eye(2) / 2, np.eye(2) / 2]).astype(complex)
    rho[1, 0, 1] = bad
    with pytest.raises(ValueError, match="x must be finite"):
        jt.to_qobj(rho)
    jt.to_qobj(rho[:1])  # the finite matrix alone converts


_RHO = np.array([[0.3, 0.1 - 0.05j], [0.1 + 0.05j, 0.7]])
_SIGMA = np.diag([0.6, 0.4])
_MB = jt.qubit_example()
_MC = jt.GlobalModel(
    np.diag([0.0, 1.0]), 0.1 * np.kron(np.array([[0, 1], [1, 0]]), np.array([[0, 1], [1, 0]])), np.diag([0.0, 1.2])
)
_TIMES = np.linspace(0.0, 1.0, 3)

# every public function that takes a state or an operator and was not covered above:
# name -> f(convert), where convert(x) is either the identity (arrays) or jt.to_qobj (Qobj inputs)
QOBJ_CALLS = {
    "collide (model B)": lambda c: jt.coherent.collide(_MB, c(_RHO)).system,
    "stroboscopic_step": lambda c: jt.stroboscopic_step(_MB, c(_RHO)).system,
    "stroboscopic_trajectory": lambda c: jt.stroboscopic_trajectory(_MB, c(_RHO), 3).states,
    "propagate": lambda c: jt.propagate(_MB, c(_RHO), _TIMES),
    "collision_thermodynamics": lambda c: jt.collision_thermodynamics(_MB, c(_RHO)).entropy_production,
    "energy_coherence": lambda c: jt.energy_coherence(c(_RHO), c(np.asarray(_MB.H_S))),
    "expectation": lambda c: jt.expectation(c(_SIGMA), c(_RHO)),
    "populations": lambda c: jt.populations(c(_RHO)),
    "dephase": lambda c: jt.dephase(c(_RHO)),
    "partial_trace": lambda c: jt.partial_trace(c(np.kron(_RHO, _SIGMA)), (2, 2), 0),
    "divergences_to_thermal": lambda c: jt.divergences_to_thermal(c(_RHO), 1.0, 1.0, (0.5, 1.0, 2.0), quantum=True),
    "minimal_dissipation (model C)": lambda c: jt.minimal_dissipation(_MC, c(_RHO), c(_SIGMA), _TIMES).assignment.heat,
    "reduced_map (model C)": lambda c: jt.reduced_map(_MC, c(_SIGMA), 0.5)[0],
}


@pytest.mark.parametrize("name", list(QOBJ_CALLS))
def test_qobj_input_equals_array_input(name):
    """A Qobj state/operator gives the same result as its matrix (converted before any jit)."""
    f = QOBJ_CALLS[name]
    np.testing.assert_allclose(np.asarray(f(jt.to_qobj)), np.asarray(f(lambda x: x)), atol=1e-14)


def test_partial_trace_of_a_qobj_checks_its_tensor_order():
    """A Qobj env ⊗ sys (dims [[3, 2], [3, 2]]) traced with dims (2, 3) was read as sys ⊗ env: keep = 0 gave
    diag(0.69, 0.31), a mixture of the qutrit's levels, for the qubit |1⟩⟨1|. Now a ValueError naming rho; the
    right dims, or a grouping of the factors, agree with QuTiP's own ptrace."""
    env, sys_ = qutip.thermal_dm(3, 0.5), qutip.basis(2, 1).proj()
    joint = qutip.tensor(env, sys_)
    with pytest.raises(ValueError, match="rho: Qobj dims"):
        jt.partial_trace(joint, (2, 3), 0)
    np.testing.assert_allclose(np.asarray(jt.partial_trace(joint, (3, 2), 1)), joint.ptrace(1).full(), atol=1e-15)
    np.testing.assert_allclose(np.asarray(jt.partial_trace(joint, [3, 2], 0)), joint.ptrace(0).full(), atol=1e-15)
    three = qutip.tensor(sys_, qutip.thermal_dm(3, 0.3), qutip.thermal_dm(2, 0.7))  # dims [2, 3, 2]
    np.testing.assert_allclose(np.asarray(jt.partial_trace(three, (2, 6), 0)), three.ptrace(0).full(), atol=1e-15)
    np.testing.assert_allclose(np.asarray(jt.partial_trace(three, (6, 2), 1)), three.ptrace(2).full(), atol=1e-15)
    with pytest.raises(ValueError, match="rho: Qobj dims"):
        jt.partial_trace(three, (3, 4), 0)
    flat = qutip.Qobj(joint.full())  # one factor: no order to contradict
    np.testing.assert_allclose(np.asarray(jt.partial_trace(flat, (3, 2), 1)), joint.ptrace(1).full(), atol=1e-15)


def test_two_qobj_arguments_must_share_their_tensor_order():
    """An observable on sys ⊗ env (2 ⊗ 3) and a state built env ⊗ sys (3 ⊗ 2) are both 6 × 6: jt.expectation paired
    them element by element (⟨σ_z ⊗ 1⟩ = 0.38 for QuTiP's −1 of the qubit in |1⟩⟨1|). Now a ValueError naming
    both; the same order agrees with qutip.expect."""
    sz = qutip.tensor(qutip.sigmaz(), qutip.qeye(3))
    state = qutip.tensor(qutip.basis(2, 1).proj(), qutip.thermal_dm(3, 0.5))
    swapped = qutip.tensor(qutip.thermal_dm(3, 0.5), qutip.basis(2, 1).proj())
    assert abs(float(jt.expectation(sz, state)) - qutip.expect(sz, state)) < 1e-14
    with pytest.raises(ValueError, match="op and rho: Qobj tensor factors"):
        jt.expectation(sz, swapped)
    flat = qutip.Qobj(state.full())  # one factor: nothing to compare
    assert abs(float(jt.expectation(sz, flat)) - qutip.expect(sz, state)) < 1e-14


def test_qobj_arguments_may_group_each_others_factors():
    """[2, 2, 2] and [2, 4] describe one space (the last two qubits as one ququart): accepted, equal to QuTiP."""
    op = qutip.tensor(qutip.sigmaz(), qutip.qeye(2), qutip.qeye(2))
    state = qutip.Qobj(qutip.tensor(qutip.basis(2, 1).proj(), qutip.thermal_dm(4, 0.4)).full(), dims=[[2, 4], [2, 4]])
    assert abs(float(jt.expectation(op, state)) - qutip.expect(op, qutip.Qobj(state.full(), dims=op.dims))) < 1e-14


def test_information_functions_check_the_qobj_tensor_order():
    """mutual_information ignored a Qobj's tensor order: a maximally entangled qutrit ⊗ qubit state with dims (2, 3)
    gave 2.2e-16 for QuTiP's 2 log 2; relative_entropy of ρ3 ⊗ ρ2 against the same state built ρ2 ⊗ ρ3 gave 1.83
    for 0 (helper-56's notes). Now ValueErrors naming the arguments; the right order agrees with QuTiP."""
    ent = (
        qutip.tensor(qutip.basis(3, 0), qutip.basis(2, 0)) + qutip.tensor(qutip.basis(3, 1), qutip.basis(2, 1))
    ).unit()
    ent = ent.proj()
    with pytest.raises(ValueError, match="rho: Qobj dims"):
        jt.mutual_information(ent, (2, 3))
    expected = qutip.entropy_mutual(ent, 0, 1)
    assert abs(float(jt.mutual_information(ent, (3, 2))) - expected) < 1e-12
    r3, r2 = qutip.thermal_dm(3, 0.4), qutip.thermal_dm(2, 0.3)
    a, b = qutip.tensor(r3, r2), qutip.tensor(r2, r3)
    for fn in (jt.relative_entropy, jt.trace_distance):
        with pytest.raises(ValueError, match="rho and sigma: Qobj tensor factors"):
            fn(a, b)
    for fn in (jt.quantum_renyi_divergence, jt.petz_renyi_divergence, jt.sandwiched_renyi_divergence):
        with pytest.raises(ValueError, match="rho and sigma: Qobj tensor factors"):
            fn(a, b, 2.0)
    other = qutip.tensor(r3, qutip.thermal_dm(2, 0.5))
    assert abs(float(jt.relative_entropy(a, other)) - qutip.entropy_relative(a, other)) < 1e-12
    assert abs(float(jt.trace_distance(a, other)) - qutip.tracedist(a, other)) < 1e-12


def test_a_qutip_superoperator_is_refused_as_a_generator_with_the_column_stacking_named():
    """A Qobj is callable, so qutip.liouvillian(...) passed the callable check of canonical_hamiltonian and failed
    inside QuTiP ("d=2: the generator does not act on (2, 2) matrices (Only defined for quantum objects.)")."""
    lindbladian = qutip.liouvillian(0.5 * qutip.sigmaz(), [qutip.destroy(2)])
    for f in (jt.canonical_hamiltonian, jt.canonical_form):
        with pytest.raises(TypeError, match="generator: a QuTiP superoperator") as info:
            f(lindbladian, 2)
        message = str(info.value)
        assert "column-stacked" in message and "d=2" not in message
    # the function the message suggests gives the Hamiltonian part of the Lindbladian, 0.5 σ_z in QuTiP's basis
    s, d = lindbladian.full(), 2
    k = jt.canonical_hamiltonian(lambda rho: (s @ rho.T.reshape(d * d)).reshape(d, d).T, d)
    np.testing.assert_allclose(k, 0.5 * qutip.sigmaz().full(), atol=1e-12)
    with pytest.raises(TypeError, match="generator: a QuTiP operator is not a generator"):
        jt.canonical_hamiltonian(qutip.sigmaz(), 2)


def test_a_superoperator_matrix_message_names_no_private_function():
    """The (d², d²)-array message pointed at jaxthermo._superoperators.apply_superoperator, a private name; it now
    spells out the row-major convention, and the function it suggests works."""
    h = np.array([[1.0, 0.5], [0.5, -1.0]])
    s = np.asarray(jt.superoperator(lambda r: -1j * (h @ r - r @ h), 2))
    with pytest.raises(TypeError, match="generator: must be a callable") as info:
        jt.canonical_hamiltonian(s, 2)
    assert "_superoperators" not in str(info.value) and "row-major" in str(info.value)
    k = jt.canonical_hamiltonian(lambda rho: (s @ rho.reshape(4)).reshape(2, 2), 2)
    np.testing.assert_allclose(k, h, atol=1e-12)
