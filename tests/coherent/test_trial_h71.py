"""Model B, helper 71: thinned trajectories (states_every) and the entropy production of a multi-species cycle
(cycle_thermodynamics), docs/coherent.md §2, §9."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm, logm

import jaxthermo as jt
from jaxthermo.coherent._stroboscopic import kept_steps
from tests.coherent.helpers import gibbs, numpy_entropy
from tests.helpers import random_state

# τ = 0.05 and λ up to 0.8 put the ancillae beyond the leading-order expansion (η > 0.1, §8): Σ itself is exact
pytestmark = pytest.mark.filterwarnings("ignore:collision_thermodynamics. expansion parameter")


def _pair(tau=0.01, lam_hot=0.3, lam_cold=-0.2):
    hot = jt.coherent.qubit_example(omega=1.0, g=0.8, beta=0.3, lam=lam_hot, tau=tau)
    cold = jt.coherent.qubit_example(omega=1.0, g=0.5, beta=3.0, lam=lam_cold, tau=tau)
    return jt.MultiSpeciesModel((hot, cold))


# ---------------------------------------------------------------- states_every (gap 1)


@pytest.mark.parametrize(("multi", "every"), [(False, 1), (False, 5), (False, 100), (True, 2)])
def test_thinned_states_are_the_full_runs_states_and_the_scalars_are_identical(every, multi):
    model = _pair(tau=0.05) if multi else jt.coherent.qubit_example(tau=0.05, lam=0.4)
    rho0 = random_state(2, np.random.default_rng(71))
    full = jt.stroboscopic_trajectory(model, rho0, 23)
    thin = jt.stroboscopic_trajectory(model, rho0, 23, states_every=every)
    steps = kept_steps(23, every)
    assert steps[0] == 0 and steps[-1] == 23 and len(thin.states) == len(steps)
    # the same collisions in the same order: bit for bit
    np.testing.assert_array_equal(thin.states, np.asarray(full.states)[steps])
    for name in ("work", "heat", "energy_change"):
        np.testing.assert_array_equal(getattr(thin, name), getattr(full, name))


def _array_shapes(jaxpr):
    """Every intermediate array shape of a jaxpr, its sub-jaxprs (scan bodies) included."""
    for eqn in jaxpr.eqns:
        for v in eqn.outvars:
            yield tuple(getattr(v.aval, "shape", ()))
        for p in eqn.params.values():
            for sub in p if isinstance(p, (tuple, list)) else (p,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _array_shapes(inner)


def test_memory_of_a_thinned_run_grows_only_with_the_scalars():
    # no array of the compiled run holds one d_S × d_S state per collision: the largest has N·m scalars
    model = jt.coherent.qubit_example(tau=0.01)
    n = 1000
    run = jax.make_jaxpr(lambda r: jt.stroboscopic_trajectory(model, r, n, states_every=n))
    shapes = list(_array_shapes(run(jnp.eye(2, dtype=complex) / 2).jaxpr))
    largest = max(int(np.prod(s)) for s in shapes)
    assert largest == n  # the (N, 1) work, heat and energy change
    # the full run does hold them (the check sees them)
    full = jax.make_jaxpr(lambda r: jt.stroboscopic_trajectory(model, r, n))
    assert max(int(np.prod(s)) for s in _array_shapes(full(jnp.eye(2, dtype=complex) / 2).jaxpr)) >= 4 * n


def test_states_every_is_checked():
    model = jt.coherent.qubit_example()
    for bad in (0, -2, 1.5):
        with pytest.raises((ValueError, TypeError), match="states_every"):
            jt.stroboscopic_trajectory(model, jnp.eye(2) / 2, 4, states_every=bad)


# ---------------------------------------------------------------- the entropy production of a cycle (gap 2)


def _numpy_cycle_entropy_production(models, rho):
    """Σ of one cycle from the full state of S ⊗ A_1 ⊗ … ⊗ A_m (NumPy/SciPy, entropies from eigenvalues):
    Σ = I(S : A_1…A_m)' + S(ρ_{A_1…A_m}' ‖ ⊗_j ρ_{A_j}), the collisions U_j = exp(−i(τ/m)(H_S + H_A^j) − i√τ V_j)."""
    m = len(models)
    p = [{k: np.asarray(getattr(s, k)) for k in ("H_S", "H_A", "V", "chi")} for s in models]
    tau = float(models[0].tau)
    d_s = p[0]["H_S"].shape[0]
    d_a = [q["H_A"].shape[0] for q in p]
    anc = [gibbs(q["H_A"], float(s.beta)) + np.sqrt(tau) * float(s.lam) * q["chi"] for q, s in zip(p, models)]
    state = rho
    for a in anc:
        state = np.kron(state, a)
    dims = [d_s, *d_a]
    for j, q in enumerate(p):
        u = expm(
            -1j * (tau / m) * (np.kron(q["H_S"], np.eye(d_a[j])) + np.kron(np.eye(d_s), q["H_A"]))
            - 1j * np.sqrt(tau) * q["V"]
        )
        # U on S ⊗ A_j: move A_j next to S
        perm = [0, 1 + j] + [1 + k for k in range(m) if k != j]
        t = state.reshape(dims + dims)
        t = t.transpose(perm + [len(dims) + x for x in perm])
        shp = [dims[x] for x in perm]
        n_big = int(np.prod(shp))
        big = np.kron(u, np.eye(n_big // (d_s * d_a[j])))
        t = (big @ t.reshape(n_big, n_big) @ big.conj().T).reshape(shp + shp)
        inv = np.argsort(perm).tolist()
        state = t.transpose(inv + [len(dims) + x for x in inv]).reshape(state.shape)
    n_a = int(np.prod(d_a))
    t = state.reshape(d_s, n_a, d_s, n_a)
    rho_s, rho_a = np.einsum("aibi->ab", t), np.einsum("aiaj->ij", t)
    product = anc[0]
    for a in anc[1:]:
        product = np.kron(product, a)
    info = numpy_entropy(rho_s) + numpy_entropy(rho_a) - numpy_entropy(state)
    relative = -numpy_entropy(rho_a) - np.real(np.trace(rho_a @ logm(product)))
    return info + relative


@pytest.mark.parametrize("lams", [(0.0, 0.0), (0.8, 0.5)])
def test_cycle_entropy_production_equals_the_full_density_matrix(lams):
    pair = _pair(tau=0.05, lam_hot=lams[0], lam_cold=lams[1])
    rho = random_state(2, np.random.default_rng(7))
    out = jt.coherent.cycle_thermodynamics(pair, rho)
    assert out.entropy_production.shape == (2,)
    sigma = float(jnp.sum(out.entropy_production))
    expected = _numpy_cycle_entropy_production(pair.species, rho)
    np.testing.assert_allclose(sigma, expected, rtol=1e-9, atol=1e-13)
    assert sigma > 0
    # each collision's terms are those of its species on the state the collisions before it left
    first = jt.collision_thermodynamics(pair.species[0], rho, n_species=2)
    second = jt.collision_thermodynamics(
        pair.species[1], jt.coherent.collide(pair.species[0], rho, n_species=2).system, n_species=2
    )
    for a, b, got in zip(first, second, out):
        np.testing.assert_allclose(got, [a, b], rtol=1e-12, atol=1e-15)


def test_cycle_entropy_production_with_different_ancilla_dimensions():
    qubit = jt.coherent.qubit_example(lam=0.3, tau=0.02)
    sm, a3 = jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.diag(jnp.array([1.0, 1.0]), 1)
    chi3 = jnp.zeros((3, 3)).at[0, 1].set(1.0).at[1, 0].set(1.0)
    qutrit = jt.CoherentCollisionModel(
        qubit.H_S, jnp.diag(jnp.array([0.0, 1.0, 2.0])), jnp.kron(sm.T, a3) + jnp.kron(sm, a3.T), 2.0, chi3, 0.1, 0.02
    )
    pair = jt.MultiSpeciesModel((qubit, qutrit))
    rho = random_state(2, np.random.default_rng(8))
    sigma = float(jnp.sum(jt.coherent.cycle_thermodynamics(pair, rho).entropy_production))
    np.testing.assert_allclose(sigma, _numpy_cycle_entropy_production(pair.species, rho), rtol=1e-9)


def test_cycle_entropy_production_over_tau_tends_to_the_master_equation_rate():
    # Σ_cycle/τ → Π = Ṡ − Σ_j β_j Q̇_inc^j ([WCCM] eq. (20)); the qubit pair's next order is τ (§3): error ∝ τ
    rho = random_state(2, np.random.default_rng(9))
    pi = float(jt.entropy_production_rate(_pair(), rho))
    errs = []
    for tau in (2e-3, 1e-3, 5e-4):
        sigma = jnp.sum(jt.coherent.cycle_thermodynamics(_pair(tau), rho).entropy_production)
        errs.append(abs(float(sigma) / tau - pi))
    assert errs[2] < 0.01 * pi
    assert 0.8 < np.log2(errs[0] / errs[1]) < 1.2 and 0.8 < np.log2(errs[1] / errs[2]) < 1.2


def test_cycle_thermodynamics_of_one_species_is_its_collision():
    model = jt.coherent.qubit_example(lam=0.3)
    rho = random_state(2, np.random.default_rng(10))
    for got, one in zip(jt.coherent.cycle_thermodynamics(model, rho), jt.collision_thermodynamics(model, rho)):
        assert np.shape(got) == (1,)
        np.testing.assert_array_equal(got, [one])


# ---------------------------------------------------------------- energy_coherence near a degeneracy (gap 3)


def _numpy_block_coherence(rho, blocks):
    """S(Σ_b P_b ρ P_b) − S(ρ) for the diagonal h's blocks of levels (NumPy eigenvalues)."""
    pinched = np.zeros_like(rho)
    for b in blocks:
        idx = np.ix_(b, b)
        pinched[idx] = rho[idx]
    return numpy_entropy(pinched) - numpy_entropy(rho)


@pytest.mark.parametrize(("delta", "blocks"), [(3e-9, [[0], [1], [2]]), (3e-10, [[0, 1], [2]]), (0.0, [[0, 1], [2]])])
def test_energy_coherence_resolves_levels_down_to_1e9_of_the_spread(delta, blocks):
    # docs/coherent.md §1: levels 0 and 1 are one block for C once δ ≤ 1e-9 (E_max − E_min), distinct above
    rho = random_state(3, np.random.default_rng(11))
    got = float(jt.coherent.energy_coherence(rho, np.diag([0.0, delta, 1.0])))
    np.testing.assert_allclose(got, _numpy_block_coherence(rho, blocks), atol=1e-13)


@pytest.mark.parametrize("delta", [1e-3, 1e-12, 1e-300])
def test_energy_coherence_of_two_levels_jumps_only_at_exact_degeneracy(delta):
    plus = np.full((2, 2), 0.5, dtype=complex)
    np.testing.assert_allclose(float(jt.coherent.energy_coherence(plus, np.diag([0.0, delta]))), np.log(2), rtol=1e-14)
    assert float(jt.coherent.energy_coherence(plus, np.zeros((2, 2)))) == pytest.approx(0.0, abs=1e-15)


def _sigma_cycle(lam_hot, dtype=jnp.float64):
    hot = jt.coherent.qubit_example(g=0.8, beta=0.3, lam=lam_hot, tau=0.01, dtype=dtype)
    cold = jt.coherent.qubit_example(g=0.5, beta=3.0, lam=-0.2, tau=0.01, dtype=dtype)
    rho = jnp.array([[0.6, 0.1 + 0.05j], [0.1 - 0.05j, 0.4]]).astype(
        jnp.complex64 if dtype == jnp.float32 else jnp.complex128
    )
    return jnp.sum(jt.coherent.cycle_thermodynamics(jt.MultiSpeciesModel((hot, cold)), rho).entropy_production)


def test_cycle_entropy_production_gradient_and_float32():
    # dΣ_cycle/dλ_hot against a central difference (step 1e-5: truncation ~1e-10·Σ''' ≪ the 1e-6 tolerance)
    h = 1e-5
    fd = (_sigma_cycle(0.3 + h) - _sigma_cycle(0.3 - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(_sigma_cycle)(0.3), fd, rtol=1e-6)
    # float32: the entropic terms carry ~1e-7 absolute each (docs/coherent.md §2), two strokes here; Σ_cycle = 2.5e-3
    # (measured 1e-8 on one CPU, 1.4e-7 on an AVX-512 one)
    np.testing.assert_allclose(_sigma_cycle(0.3, jnp.float32), _sigma_cycle(0.3), atol=3e-7)
