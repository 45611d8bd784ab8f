"""Helper 58 (session 23): the input contract of the public API — QuTiP Qobj inputs, dtypes, run identity."""

import numpy as np
import pytest

import jaxthermo as jt

qutip = pytest.importorskip("qutip")


def _dm(d, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def _herm(d, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return 0.5 * (a + a.conj().T)


def test_collide_unitary_takes_qobj_and_equals_qutip():
    """README: every function taking a state or operator accepts a Qobj; collide_unitary refused all five.
    Qubit system ⊗ qutrit ancilla (unequal factors, so the tensor order shows), against QuTiP's own
    U (ρ_S ⊗ ρ_A) U† and its partial traces."""
    rho_s = qutip.Qobj(_dm(2, 1))
    rho_a = qutip.Qobj(_dm(3, 2))
    h_s, h_a = qutip.Qobj(_herm(2, 3)), qutip.Qobj(_herm(3, 4))
    u = (-1j * 0.7 * qutip.Qobj(_herm(6, 5), dims=[[2, 3], [2, 3]])).expm()
    x = qutip.tensor(rho_s, rho_a)
    x_new = u * x * u.dag()
    res = jt.collide_unitary(rho_s, rho_a, u, h_s, h_a)
    np.testing.assert_allclose(np.asarray(res.joint), x_new.full(), atol=1e-12)
    np.testing.assert_allclose(np.asarray(res.system), x_new.ptrace(0).full(), atol=1e-12)
    np.testing.assert_allclose(np.asarray(res.ancilla), x_new.ptrace(1).full(), atol=1e-12)
    h_tot = qutip.tensor(h_s, qutip.qeye(3)) + qutip.tensor(qutip.qeye(2), h_a)
    assert float(res.work) == pytest.approx(qutip.expect(h_tot, x_new) - qutip.expect(h_tot, x), abs=1e-12)
    assert float(res.heat) == pytest.approx(-(qutip.expect(h_a, x_new.ptrace(1)) - qutip.expect(h_a, rho_a)), abs=1e-12)


def test_collide_unitary_checks_the_qobj_unitary_tensor_order():
    """A unitary built on ancilla ⊗ system (dims [[3, 2], [3, 2]]) for a qubit system and a qutrit ancilla
    is the same 6 × 6 shape: refused naming ``unitary``, not applied in the wrong order."""
    u = (-1j * 0.7 * qutip.Qobj(_herm(6, 5), dims=[[3, 2], [3, 2]])).expm()
    with pytest.raises(ValueError, match="unitary"):
        jt.collide_unitary(_dm(2, 1), _dm(3, 2), u, _herm(2, 3), _herm(3, 4))


_SM = qutip.destroy(3)
_A = qutip.Qobj(_herm(3, 7) + 0.3j * _herm(3, 8))  # not Hermitian
_B = qutip.Qobj(_herm(2, 9))
_H = qutip.Qobj(_herm(3, 10))
_RHO = qutip.Qobj(_dm(3, 11))


def _lindblad(op, rho):
    return qutip.vector_to_operator(qutip.lindblad_dissipator(op) * qutip.operator_to_vector(rho))


# public operator functions that refused a Qobj (TypeError/ValueError from JAX) or returned one
# (commutator): name -> (jaxthermo call with Qobj inputs, QuTiP's own result)
QUTIP_REFERENCE = {
    "dagger": (lambda: jt.dagger(_A), lambda: _A.dag()),
    "tensor": (lambda: jt.tensor(_A, _B), lambda: qutip.tensor(_A, _B)),
    "commutator": (lambda: jt.commutator(_A, _H), lambda: qutip.commutator(_A, _H)),
    "hermitian_function": (lambda: jt.hermitian_function(np.exp, _H), lambda: _H.expm()),
    "lindblad_dissipator": (
        lambda: jt.lindblad_dissipator(np.array([0.3, 0.2]), [_SM, _SM.dag()], _RHO),
        lambda: 0.3 * _lindblad(_SM, _RHO) + 0.2 * _lindblad(_SM.dag(), _RHO),
    ),
    "coherent.lindblad_term": (lambda: jt.coherent.lindblad_term(_SM, _RHO), lambda: _lindblad(_SM, _RHO)),
    "assignment.lindblad_generator": (
        lambda: jt.assignment.lindblad_generator(_H, np.array([0.3]), [_SM])(_RHO),
        lambda: -1j * qutip.commutator(_H, _RHO) + 0.3 * _lindblad(_SM, _RHO),
    ),
}


@pytest.mark.parametrize("name", list(QUTIP_REFERENCE))
def test_operator_functions_take_qobj_and_equal_qutip(name):
    ours, theirs = QUTIP_REFERENCE[name]
    out = ours()
    assert not jt._qutip.is_qobj(out)
    np.testing.assert_allclose(np.asarray(out), theirs().full(), atol=1e-12)


def test_eigenoperator_coupling_takes_qobj():
    """EigenoperatorCoupling with lists of Qobj (skipped its checks, then failed in every method) and its
    methods with Qobj H_A, χ, ρ: the same as the arrays."""
    sm = qutip.destroy(2)
    h = qutip.Qobj(np.diag([-0.5, 0.5]))
    chi = qutip.Qobj(np.array([[0.0, 0.2], [0.2, 0.0]]))
    rho = qutip.Qobj(_dm(2, 12))
    g, w = np.array([0.8]), np.array([1.0])
    cq = jt.EigenoperatorCoupling([sm], [sm], g, w)
    ca = jt.EigenoperatorCoupling(sm.full()[None], sm.full()[None], g, w)
    arr = [x.full() for x in (h, chi, rho)]
    np.testing.assert_allclose(np.asarray(cq.interaction()), np.asarray(ca.interaction()), atol=1e-14)
    np.testing.assert_allclose(np.asarray(cq.rates(h, 1.0)), np.asarray(ca.rates(arr[0], 1.0)), atol=1e-14)
    np.testing.assert_allclose(np.asarray(cq.drive(chi)), np.asarray(ca.drive(arr[1])), atol=1e-14)
    np.testing.assert_allclose(
        np.asarray(cq.dissipator(rho, h, 1.0)), np.asarray(ca.dissipator(arr[2], arr[0], 1.0)), atol=1e-14
    )
    assert float(cq.eigenoperator_residual(h, h)) < 1e-14
    mq = jt.eigenoperator_model(cq, h, h, 1.0, chi, 0.1, 0.01)
    ma = jt.eigenoperator_model(ca, arr[0], arr[0], 1.0, arr[1], 0.1, 0.01)
    np.testing.assert_allclose(np.asarray(mq.V), np.asarray(ma.V), atol=1e-14)
    with pytest.raises(ValueError, match="L and A"):
        jt.EigenoperatorCoupling(sm, sm, g, w)  # one Qobj, not a list of K: (d, d) is not (K, d, d)


def test_partial_swap_update_and_inverse_condition_take_qobj():
    rho = _dm(3, 13)
    q = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(
        np.asarray(jt.inhomogeneous.partial_swap_update(qutip.Qobj(rho), q, 0.3)),
        np.asarray(jt.inhomogeneous.partial_swap_update(rho, q, 0.3)),
        atol=1e-15,
    )
    s = np.linalg.svd(_A.full(), compute_uv=False)
    assert float(jt.assignment.inverse_condition(_A)) == pytest.approx(s[-1] / s[0], rel=1e-12)


_MODEL_A = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.2, distribution=jt.Gaussian(0.05))
_MODEL_A3 = jt.InhomogeneousReservoir(3, beta=1.0, g0=1.0, theta=0.2, distribution=jt.Gaussian(0.05))
_STATE_CALLS = {
    "ensemble": ("rho0", lambda r: jt.ensemble(_MODEL_A, r, 3, 8)),
    "trajectory": ("rho0", lambda r: jt.trajectory(_MODEL_A, r, np.zeros(3))),
    "averaged_trajectory": ("rho0", lambda r: jt.averaged_trajectory(_MODEL_A, r, 3)),
    "collide": ("rho", lambda r: jt.collide(_MODEL_A, r, 0.01)),
    "stroboscopic_trajectory": ("rho0", lambda r: jt.stroboscopic_trajectory(jt.qubit_example(), r, 3)),
    "von_neumann_entropy": ("rho", lambda r: jt.von_neumann_entropy(r)),
}
_NARROW = [np.float16] + [t for t in (getattr(np, "longdouble", None), getattr(np, "clongdouble", None)) if t]
_NARROW = [t for t in _NARROW if np.dtype(t).name not in ("float64", "complex128")]


@pytest.mark.parametrize("dtype", _NARROW, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", list(_STATE_CALLS))
def test_unsupported_state_dtype_is_named(name, dtype):
    """A float16 (or float128/complex256) state failed inside NumPy's linalg ("array type float16 is
    unsupported in linalg"), naming neither the argument nor the dtypes that work."""
    arg, call = _STATE_CALLS[name]
    with pytest.raises(TypeError, match=rf"{arg} has dtype {np.dtype(dtype).name}.*float32.*float64"):
        call(np.diag([0.75, 0.25]).astype(dtype))


def test_integer_state_still_runs_as_float64():
    """Integer entries (|0⟩⟨0| as [[1, 0], [0, 0]]) stay accepted, computed in float64: the same as the float state."""
    ref = jt.trajectory(_MODEL_A, np.diag([1.0, 0.0]), np.array([0.01, -0.02]))
    out = jt.trajectory(_MODEL_A, np.diag([1, 0]), np.array([0.01, -0.02]))
    assert out.work.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(out.work), np.asarray(ref.work))


@pytest.mark.parametrize("first, second", [(50, 5), (5, 50)])
def test_divergence_every_beyond_n_steps_is_the_same_run(tmp_path, first, second):
    """divergence_every = k ≥ N reports D_α at r = N only, as k = N (docs: r = k, 2k, … and r = N): a
    checkpoint of k = 50 at N = 5 refused the resume with k = 5 as "a different run" (and vice versa)."""
    rho0 = np.array([[0.5, 0.1, 0.0], [0.1, 0.3, 0.0], [0.0, 0.0, 0.2]])
    path = tmp_path / "run.npz"
    kwargs = dict(chunk_size=64, checkpoint=str(path))
    r1 = jt.ensemble(_MODEL_A3, rho0, 5, 64, divergence_every=first, **kwargs)
    r2 = jt.ensemble(_MODEL_A3, rho0, 5, 64, divergence_every=second, **kwargs)
    every = jt.ensemble(_MODEL_A3, rho0, 5, 64, divergence_every=1, chunk_size=64)
    for r in (r1, r2):
        np.testing.assert_allclose(r.mean_divergence[-1], every.mean_divergence[-1], rtol=1e-12)
        assert np.all(np.isnan(r.mean_divergence[1:-1]))
    np.testing.assert_array_equal(r1.mean_divergence, r2.mean_divergence)


def test_qutip_superoperators_are_refused_not_read_as_two_factor_operators():
    """A QuTiP superoperator (dims [[[2], [2]], [[2], [2]]]) was read as an operator on 2 ⊗ 2: to_super(U) of a qubit
    unitary is itself unitary (U ⊗ U* in QuTiP's column stacking), so it would pass as a joint collision unitary, and
    jt.expectation(spre(H), ρ_SA) gave a number. Now a ValueError naming the argument."""
    u = (-1j * 0.4 * qutip.sigmax()).expm()
    rho_sa = qutip.tensor(qutip.Qobj(_dm(2, 14)), qutip.Qobj(_dm(2, 15)))
    with pytest.raises(ValueError, match="op: a QuTiP super"):
        jt.expectation(qutip.spre(qutip.sigmaz()), rho_sa)
    with pytest.raises(ValueError, match="unitary: a QuTiP super"):
        jt.collide_unitary(_dm(2, 14), _dm(2, 15), qutip.to_super(u), np.diag([-0.5, 0.5]), np.diag([-0.5, 0.5]))
    with pytest.raises(ValueError, match="rho: a QuTiP operator-ket"):
        jt.von_neumann_entropy(qutip.operator_to_vector(qutip.Qobj(_dm(2, 14))))


def test_ensemble_of_another_model_names_the_model_type():
    """jt.ensemble of a CoherentCollisionModel told the user to set model.distribution (the model has none to
    set): now a TypeError saying the engine runs jt.InhomogeneousReservoir."""
    with pytest.raises(TypeError, match="InhomogeneousReservoir.*CoherentCollisionModel"):
        jt.ensemble(jt.qubit_example(), np.diag([0.75, 0.25]), 3, 8)


def test_empty_file_paths_are_refused_before_the_run(tmp_path, monkeypatch):
    """checkpoint='' passed check_writable (abspath('') is the working directory, whose parent exists), ran the
    whole ensemble, left '.lock' in the working directory and failed renaming its temporary onto ''; save_result('')
    wrote the hidden file '.npz'. Now a ValueError naming the argument, before any computation or file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="checkpoint=''"):
        jt.ensemble(_MODEL_A, np.diag([0.75, 0.25]), 3, 8, checkpoint="")
    result = jt.ensemble(_MODEL_A, np.diag([0.75, 0.25]), 3, 8)
    with pytest.raises(ValueError, match="path=''"):
        jt.save_result("", result)
    assert list(tmp_path.iterdir()) == []


def test_histogram_bins_beyond_memory_are_refused_naming_the_bins(monkeypatch):
    """work_bins=10**9 passed the memory check (16 GB of counts on a 23 GB host) and the edges then exhausted the
    memory: the process was killed. The check now counts, per bin, the edges on the host and on each CPU device and
    the host's int64 totals. Here 2^20 bins on one device: counts 4.2 MB (the old bound), edges and totals
    (2^20 + 2) (2·8 + 8) B = 25 MB more; with 16 MB available the run is refused naming work_bins."""
    import sys

    import jax

    engine = sys.modules["jaxthermo.ensemble._engine"]
    monkeypatch.setattr(engine, "host_memory_bytes", lambda: 16 * 2**20)
    with pytest.raises(ValueError, match="work_bins=1048576.*use fewer bins"):
        jt.ensemble(_MODEL_A, np.diag([0.75, 0.25]), 3, 8, work_bins=2**20, devices=jax.devices("cpu")[:1])


def test_collide_unitary_batches_that_do_not_broadcast_are_named():
    """Batches of 3 system states and 4 ancilla states failed inside JAX ("mul got incompatible shapes for
    broadcasting: (3, 2, 1, 2, 1), (4, 1, 2, 1, 2)"), naming no argument; now a ValueError listing each one's batch
    axes. Broadcastable batches still pair element by element, as single collisions do."""
    r, h = np.diag([0.7, 0.3]), np.diag([-0.5, 0.5])
    u = np.asarray(jt.partial_swap(2, 0.3))
    with pytest.raises(ValueError, match=r"rho_s \(3,\), rho_a \(4,\)"):
        jt.collide_unitary(np.stack([r] * 3), np.stack([r] * 4), u, h, h)
    states = np.stack([r, np.diag([0.4, 0.6])])
    both = jt.collide_unitary(states, r, u, h, h)
    for k in range(2):
        one = jt.collide_unitary(states[k], r, u, h, h)
        np.testing.assert_allclose(np.asarray(both.system[k]), np.asarray(one.system), atol=1e-15)


def test_model_operators_may_group_the_qobj_factors():
    """A two-qubit system with a qubit ancilla: V = σ₋ ⊗ 1 ⊗ σ₊ + h.c., dims [[2, 2, 2], [2, 2, 2]], was refused
    ("needs tensor factors [4, 2]") by CoherentCollisionModel and GlobalModel, though (2, 2) groups into d_S = 4.
    Now accepted as the same matrix; a V on ancilla ⊗ system (dims [[2, 4]] for (4, 2)) is still refused."""
    sz, sm = qutip.Qobj(np.diag([-0.5, 0.5])), qutip.destroy(2)
    h_s = qutip.tensor(sz, qutip.qeye(2)) + 2 * qutip.tensor(qutip.qeye(2), sz)
    v = qutip.tensor(sm, qutip.qeye(2), sm.dag())
    v = v + v.dag()
    model = jt.CoherentCollisionModel(h_s, sz, v, 1.0, sm + sm.dag(), 0.1, 0.01)
    assert tuple(model.dims) == (4, 2)
    np.testing.assert_array_equal(np.asarray(model.V), v.full())
    glob = jt.GlobalModel(h_s, v, sz)
    np.testing.assert_array_equal(np.asarray(glob.h_interaction), v.full())
    with pytest.raises(ValueError, match="V: Qobj dims"):
        jt.CoherentCollisionModel(h_s, sz, qutip.Qobj(v.full(), dims=[[2, 4], [2, 4]]), 1.0, sm + sm.dag(), 0.1, 0.01)


def test_superoperator_dtype_does_not_drop_values():
    """jt.superoperator(x ↦ x/2, 2, dtype=int32) was the zero matrix and, with dtype=float64, x ↦ −i[H, x] too (the
    images cast to the dtype). Now a TypeError naming dtype for non-float dtypes, a ValueError where a real dtype
    would drop an imaginary part; real maps in real dtypes still equal the Kronecker form a ⊗ bᵀ."""
    import jax.numpy as jnp

    h = np.diag([0.0, 1.0])
    with pytest.raises(TypeError, match="dtype=int32"):
        jt.superoperator(lambda x: 0.5 * x, 2, dtype=jnp.int32)
    with pytest.raises(ValueError, match="dtype=float64.*complex"):
        jt.superoperator(lambda x: -1j * (h @ x - x @ h), 2, dtype=jnp.float64)
    a, b = np.array([[1.0, 2.0], [0.0, 3.0]]), np.array([[0.5, 0.0], [1.0, 1.0]])
    s = jt.superoperator(lambda x: a @ x @ b, 2, dtype=jnp.float64)
    assert s.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(s), np.kron(a, b.T))


def test_qubit_example_refuses_an_integer_dtype():
    """qubit_example(g=0.3, dtype=int32) truncated g to 0 (and ω = 1.5 to 1): a model without coupling, run without
    a word. Now a TypeError naming dtype; float32 and complex dtypes still build the model, V = g(σ₊σ₋ + σ₋σ₊)."""
    import jax.numpy as jnp

    with pytest.raises(TypeError, match="dtype=int32"):
        jt.qubit_example(g=0.3, dtype=jnp.int32)
    with pytest.raises(TypeError, match="dtype=float16"):
        jt.coherent.qubit_coupling(g=0.3, dtype=jnp.float16)
    sp, sm = np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 0.0]])
    v = 0.3 * (np.kron(sp, sm) + np.kron(sm, sp))
    for dtype in (jnp.float32, jnp.complex64):
        np.testing.assert_allclose(np.asarray(jt.qubit_example(g=0.3, dtype=dtype).V), v, atol=1e-7)


def test_global_model_hamiltonian_dtype_does_not_drop_values():
    """GlobalModel.hamiltonian(dtype=int32) was the zero matrix for H_S = diag(0, 0.5), and dtype=float64 dropped an
    imaginary coupling σ_x ⊗ σ_y without a word. Now TypeError / ValueError naming dtype; a real model in float64
    is still H_S ⊗ 1 + H_I + 1 ⊗ H_E (np.kron)."""
    import jax.numpy as jnp

    sx, sy = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])
    h_s, h_e = np.diag([0.0, 0.5]), np.diag([0.0, 0.7])
    with pytest.raises(TypeError, match="dtype=int32"):
        jt.GlobalModel(h_s, 0.3 * np.kron(sx, sx), h_e).hamiltonian(dtype=jnp.int32)
    with pytest.raises(ValueError, match="dtype=float64: h_interaction is complex"):
        jt.GlobalModel(h_s, 0.3 * np.kron(sx, sy), h_e).hamiltonian(dtype=jnp.float64)
    h = jt.GlobalModel(h_s, 0.3 * np.kron(sx, sx), h_e).hamiltonian(dtype=jnp.float64)
    np.testing.assert_array_equal(
        np.asarray(h), np.kron(h_s, np.eye(2)) + 0.3 * np.kron(sx, sx) + np.kron(np.eye(2), h_e)
    )


@pytest.mark.parametrize(
    "law", [jt.TwoPoint(0.1), jt.Empirical(np.array([0.1, -0.2, 0.3]))], ids=["TwoPoint", "Empirical"]
)
def test_distribution_samples_refuse_an_integer_dtype(law):
    """TwoPoint(0.1).sample(key, (4,), dtype=int32) and Empirical's were all zeros (±0.1 truncated); Gaussian and
    Uniform already refused (JAX: "must be a float dtype"). Now ValueError naming dtype; float32 draws are the
    float64 ones rounded."""
    import jax
    import jax.numpy as jnp

    key = jax.random.key(3)
    with pytest.raises(ValueError, match="dtype=int32"):
        law.sample(key, (4,), dtype=jnp.int32)
    np.testing.assert_array_equal(
        np.asarray(law.sample(key, (4,), dtype=jnp.float32)),
        np.asarray(law.sample(key, (4,), dtype=jnp.float64)).astype(np.float32),
    )


def test_a_ket_is_refused_where_an_operator_is_expected():
    """A ket became |ψ⟩⟨ψ| wherever a Qobj was converted: jt.dagger(basis(2, 1)) gave the projector |1⟩⟨1| (QuTiP's
    .dag() is the bra), jt.gibbs_state(ket, β) the Gibbs state of a projector, and a ket H_S a model. Now a
    ValueError naming the operator argument; a ket as a state is still |ψ⟩⟨ψ| (S = 0, ⟨ψ|ρ|ψ⟩ via expectation)."""
    ket = qutip.basis(2, 1)
    for call, name in (
        (lambda: jt.dagger(ket), "a"),
        (lambda: jt.gibbs_state(ket, 1.0), "h"),
        (
            lambda: jt.CoherentCollisionModel(
                ket, np.diag([-0.5, 0.5]), np.zeros((4, 4)), 1.0, np.eye(2)[::-1], 0.1, 0.01
            ),
            "H_S",
        ),
    ):
        with pytest.raises(ValueError, match=f"{name}: a QuTiP ket is a state"):
            call()
    assert abs(float(jt.von_neumann_entropy(ket))) < 1e-12
    assert float(jt.expectation(ket, np.diag([0.3, 0.7]))) == pytest.approx(
        qutip.expect(qutip.Qobj(np.diag([0.3, 0.7])), ket)
    )
