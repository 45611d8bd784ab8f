"""Batches are explicit (issue "Trust under bad input"): every public function that takes states or
models either keeps leading batch axes in every output — the result equals a Python loop over the
members, stacked — or refuses them with a ``ValueError`` naming the parameter. Never a batch summed
into one number or broadcast against the matrix axes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import coherent as cb


def _state(p, c):
    return jnp.array([[p, c], [c, 1.0 - p]], dtype=complex)


RHOS = jnp.stack([_state(0.3, 0.2), _state(0.5, 0.1), _state(0.8, 0.05)])
SIGMAS = jnp.stack([_state(0.4, 0.0), _state(0.6, 0.1), _state(0.5, 0.2)])
P = jnp.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1]])
Q = jnp.array([[0.4, 0.6], [0.2, 0.8], [0.5, 0.5]])
JOINT = jnp.stack([jnp.kron(r, s) for r, s in zip(RHOS, SIGMAS)])
MODEL = jt.qubit_example()
MODEL_A = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
PAIR = jt.MultiSpeciesModel((jt.qubit_example(beta=0.5), jt.qubit_example(beta=2.0)))
LAMS = (0.0, 0.5, 1.0)
MODELS = MODEL.replace(lam=jnp.array(LAMS))  # a batch of three models
MEMBERS = [MODEL.replace(lam=lam) for lam in LAMS]
TIMES = jnp.linspace(0.0, 1.0, 4)
X = jnp.array([[0.0, 1.0], [1.0, 0.0]])
GLOBAL = jt.GlobalModel(jnp.diag(jnp.array([0.0, 1.0])), 0.1 * jnp.kron(X, X), jnp.diag(jnp.array([0.0, 1.0])))


def _states(f):
    """f(ρ) on the batch RHOS and on each member."""
    return f, (RHOS,), [(r,) for r in RHOS]


def _pairs(f, a=RHOS, b=SIGMAS):
    return f, (a, b), list(zip(a, b))


KEEPS = {
    # model B, a batch of states with one model
    "collide": _states(lambda r: cb.collide(MODEL, r)),
    "stroboscopic_step": _states(lambda r: jt.stroboscopic_step(MODEL, r)),
    "stroboscopic_trajectory": _states(lambda r: jt.stroboscopic_trajectory(MODEL, r, 3)),
    "cycle (two species)": _states(lambda r: cb.cycle(PAIR, r)),
    "master_equation_rhs": _states(lambda r: jt.master_equation_rhs(PAIR, r)),
    "dissipator": _states(lambda r: jt.dissipator(MODEL, r)),
    "coherent_work_rate (two species)": _states(lambda r: jt.coherent_work_rate(PAIR, r)),
    "incoherent_heat_rate": _states(lambda r: jt.incoherent_heat_rate(MODEL, r)),
    "ancilla_heat_rate (two species)": _states(lambda r: cb.ancilla_heat_rate(PAIR, r)),
    "energy_rate": _states(lambda r: cb.energy_rate(MODEL, r)),
    "entropy_rate": _states(lambda r: cb.entropy_rate(MODEL, r)),
    "entropy_production_rate": _states(lambda r: jt.entropy_production_rate(MODEL, r)),
    "entropy_production_rate (two species)": _states(lambda r: jt.entropy_production_rate(PAIR, r)),
    "free_energy_rate": _states(lambda r: cb.free_energy_rate(MODEL, r)),
    "collision_thermodynamics": _states(lambda r: jt.collision_thermodynamics(MODEL, r)),
    "energy_coherence": _states(lambda r: jt.energy_coherence(r, MODEL.H_A)),
    # model B, a batch of models (the functions built for it)
    "propagate (models)": (lambda m: jt.propagate(m, RHOS[0], TIMES), (MODELS,), [(m,) for m in MEMBERS]),
    "steady_state (models)": (jt.steady_state, (MODELS,), [(m,) for m in MEMBERS]),
    "liouvillian (models)": (jt.liouvillian, (MODELS,), [(m,) for m in MEMBERS]),
    # information measures
    "relative_entropy": _pairs(jt.relative_entropy),
    "relative_entropy (shared sigma)": _pairs(jt.relative_entropy, b=[SIGMAS[0]] * 3),
    "petz_renyi_divergence": _pairs(lambda a, b: jt.petz_renyi_divergence(a, b, 0.5)),
    "sandwiched_renyi_divergence": _pairs(lambda a, b: jt.sandwiched_renyi_divergence(a, b, 2.0)),
    "quantum_renyi_divergence 0.5": _pairs(lambda a, b: jt.quantum_renyi_divergence(a, b, 0.5)),
    "quantum_renyi_divergence inf": _pairs(lambda a, b: jt.quantum_renyi_divergence(a, b, float("inf"))),
    "trace_distance": _pairs(jt.trace_distance),
    "renyi_divergence 0.5": _pairs(lambda p, q: jt.renyi_divergence(p, q, 0.5), P, Q),
    "renyi_divergence inf": _pairs(lambda p, q: jt.renyi_divergence(p, q, float("inf")), P, Q),
    "free_energy": (lambda p: jt.free_energy(p, 1.0, 1.0, 2.0), (P,), [(p,) for p in P]),
    "shannon_entropy": (jt.shannon_entropy, (P,), [(p,) for p in P]),
    "quantum_free_energy": _states(lambda r: jt.quantum_free_energy(r, 1.0, 1.0, 2.0)),
    "divergences_to_thermal": _states(lambda r: jt.divergences_to_thermal(r, 1.0, 1.0, [0.5, 2.0])),
    "divergences_to_thermal quantum": _states(lambda r: jt.divergences_to_thermal(r, 1.0, 1.0, [0.5, 2.0], True)),
    "von_neumann_entropy": _states(jt.von_neumann_entropy),
    "coherence": _states(jt.coherence),
    "mutual_information": (lambda r: jt.mutual_information(r, (2, 2)), (JOINT,), [(j,) for j in JOINT]),
}

REFUSES = {
    # model B: the per-member functions take one model
    "collide": (lambda: cb.collide(MODELS, RHOS[0]), "model"),
    "stroboscopic_step": (lambda: jt.stroboscopic_step(MODELS, RHOS[0]), "model"),
    "stroboscopic_trajectory": (lambda: jt.stroboscopic_trajectory(MODELS, RHOS[0], 3), "model"),
    "cycle": (lambda: cb.cycle(MODELS, RHOS[0]), "model"),
    "master_equation_rhs": (lambda: jt.master_equation_rhs(MODELS, RHOS[0]), "model"),
    "dissipator": (lambda: jt.dissipator(MODELS, RHOS[0]), "model"),
    "coherent_drive": (lambda: jt.coherent_drive(MODELS), "model"),
    "coherent_work_rate": (lambda: jt.coherent_work_rate(MODELS, RHOS[0]), "model"),
    "incoherent_heat_rate": (lambda: jt.incoherent_heat_rate(MODELS, RHOS[0]), "model"),
    "ancilla_heat_rate": (lambda: cb.ancilla_heat_rate(MODELS, RHOS[0]), "model"),
    "energy_rate": (lambda: cb.energy_rate(MODELS, RHOS[0]), "model"),
    "entropy_rate": (lambda: cb.entropy_rate(MODELS, RHOS[0]), "model"),
    "entropy_production_rate": (lambda: jt.entropy_production_rate(MODELS, RHOS[0]), "model"),
    "free_energy_rate": (lambda: cb.free_energy_rate(MODELS, RHOS[0]), "model"),
    "collision_thermodynamics": (lambda: jt.collision_thermodynamics(MODELS, RHOS[0]), "model"),
    "ancilla_state": (lambda: cb.ancilla_state(MODELS), "model"),
    # a batch of τ as long as the matrix axes once broadcast silently against them
    "collide (tau batch of size d_S d_A)": (lambda: cb.collide(MODEL.replace(tau=jnp.full(4, 0.01)), RHOS[0]), "model"),
    "propagate (states)": (lambda: jt.propagate(MODEL, RHOS, TIMES), "rho0"),
    # model A: one collision takes one state
    "model A collide": (lambda: jt.collide(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3), RHOS, 0.1), "rho"),
    # ... and so do its trajectories and averages (a batch was once summed into one work series)
    "model A trajectory": (lambda: jt.trajectory(MODEL_A, RHOS, jnp.full(3, 0.1)), "rho0"),
    "model A averaged_trajectory": (lambda: jt.averaged_trajectory(MODEL_A, RHOS, 3), "rho0"),
    "model A mean_work": (lambda: jt.mean_work(MODEL_A, RHOS), "rho"),
    "model A mean_heat": (lambda: jt.mean_heat(MODEL_A, RHOS), "rho"),
    "model A collision_second_laws": (lambda: jt.collision_second_laws(MODEL_A, RHOS, 0.1, [1.0]), "rho"),
    "model A entropy_production": (lambda: jt.entropy_production(MODEL_A, RHOS, 0.1), "rho"),
    "model A ensemble": (lambda: jt.ensemble(MODEL_A, RHOS, 3, 64), "rho0"),
    # one collision takes one δ (a (3,) δ once broadcast into a (3,) ΔS for the partial swap and
    # failed inside a matrix product for other couplings)
    "model A collision_second_laws δ": (
        lambda: jt.collision_second_laws(MODEL_A, RHOS[0], jnp.full(3, 0.1), [1.0]),
        "delta",
    ),
    "model A entropy_production δ": (lambda: jt.entropy_production(MODEL_A, RHOS[0], jnp.full(3, 0.1)), "delta"),
    "model A entropy_production δ exact": (
        lambda: jt.entropy_production(MODEL_A.replace(coupling=jt.ExactUnitary()), RHOS[0], jnp.full(3, 0.1)),
        "delta",
    ),
    # model C: the functions take one state
    "energy_assignment": (lambda: jt.energy_assignment(GLOBAL, JOINT, TIMES), "rho0"),
    "reduced_map": (lambda: jt.reduced_map(GLOBAL, SIGMAS, 0.5), "rho_env"),
    "exact_generator": (lambda: jt.exact_generator(GLOBAL, SIGMAS, 0.5), "rho_env"),
    "minimal_dissipation rho_s0": (lambda: jt.minimal_dissipation(GLOBAL, RHOS, SIGMAS[0], TIMES), "rho_s0"),
    "minimal_dissipation rho_env": (lambda: jt.minimal_dissipation(GLOBAL, RHOS[0], SIGMAS, TIMES), "rho_env"),
    "GlobalModel": (lambda: jt.GlobalModel(jnp.stack([jnp.eye(2)] * 3), jnp.eye(4), jnp.eye(2)), "h_system"),
}


@pytest.mark.parametrize("name", sorted(KEEPS))
def test_batch_axes_are_kept(name):
    f, batched_args, member_args = KEEPS[name]
    out = jax.tree.leaves(f(*batched_args))
    loop = [jax.tree.leaves(f(*args)) for args in member_args]
    assert len(out) == len(loop[0])
    for i, leaf in enumerate(out):
        expected = np.stack([np.asarray(member[i]) for member in loop])
        assert np.shape(leaf) == expected.shape, f"output {i}: {np.shape(leaf)} against the loop's {expected.shape}"
        np.testing.assert_allclose(np.asarray(leaf), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(REFUSES))
def test_batches_are_refused_naming_the_parameter(name):
    call, parameter = REFUSES[name]
    with pytest.raises(ValueError, match=rf"^{parameter}\b"):
        call()


def test_batched_models_go_through_map_over_models():
    """The way to evaluate a per-member function on a batch of models: map_over_models (or vmap)."""
    heat = cb.map_over_models(lambda m: jt.incoherent_heat_rate(m, jt.steady_state(m)), MODELS)
    expected = [jt.incoherent_heat_rate(m, jt.steady_state(m)) for m in MEMBERS]
    np.testing.assert_allclose(heat, expected, rtol=1e-12)


def test_propagate_wrong_dimension_is_not_called_a_batch():
    """A (3, 3) ρ0 for a qubit model is a dimension error, not a batch (the message says which)."""
    with pytest.raises(ValueError, match=r"rho0 has shape \(3, 3\) but the model needs one state of shape \(2, 2\)"):
        jt.propagate(jt.qubit_example(), np.eye(3) / 3, np.linspace(0.0, 1.0, 3))
    with pytest.raises(ValueError, match="use jax.vmap over rho0"):
        jt.propagate(jt.qubit_example(), np.stack([np.eye(2) / 2] * 3), np.linspace(0.0, 1.0, 3))
