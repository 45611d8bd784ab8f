"""Arguments of one type refuse the others (helper-106's trial). Boolean options: ``quantum="no"`` was truthy and gave the
quantum divergence (0.0488 for the state below, 0.0049 classically) without a word; ``store_states="no"`` kept them."""

import jax
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.inhomogeneous as A

RHO = np.array([[0.7, 0.2], [0.2, 0.3]])  # coherent: the two routes differ
MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))

CALLS = {
    "jt.divergences_to_thermal": lambda q: jt.divergences_to_thermal(RHO, 1.0, 1.0, (2.0,), quantum=q),
    "jt.free_energies": lambda q: jt.free_energies(MODEL, RHO, (2.0,), quantum=q),
    "A.divergences_to_thermal": lambda q: A.divergences_to_thermal(MODEL, RHO, (2.0,), quantum=q),
    "A.free_energy_changes": lambda q: A.free_energy_changes(
        MODEL, np.stack([np.diag([0.5, 0.5]), RHO]), (2.0,), quantum=q
    ),
    "A.collision_second_laws": lambda q: A.collision_second_laws(MODEL, RHO, 0.1, (2.0,), quantum=q).free_energy_change,
    "jt.frozen_vs_averaged_divergence": lambda q: (
        jt.frozen_vs_averaged_divergence(MODEL, RHO, jax.random.key(0), 8, 3, (2.0,), quantum=q).averaged
    ),
    "jt.ensemble_mean": lambda q: jt.ensemble_mean(MODEL, RHO, 3, 8, observable="free_energy", alpha=2.0, quantum=q),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_quantum_must_be_a_bool(name):
    call = CALLS[name]
    for bad in ("no", "False", 0, 1, None if "frozen" not in name and "ensemble" not in name else "yes"):
        with pytest.raises(TypeError, match=r"quantum=.*: must be True or False"):
            call(bad)
    quantum, classical = np.asarray(call(True)), np.asarray(call(np.bool_(False)))
    assert not np.allclose(quantum, classical)  # the flag chooses a route: "no" took the other one


def test_store_states_must_be_a_bool():
    with pytest.raises(TypeError, match=r"store_states='no': must be True or False"):
        A.trajectory(MODEL, RHO, np.zeros(3), store_states="no")
    assert A.trajectory(MODEL, RHO, np.zeros(3), store_states=False).states is None


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: jt.free_energy(np.array([0.7, 0.3]), 1 + 1j, 1.0, 2.0), "beta must be real"),
        (lambda: jt.free_energy(np.array([0.7, 0.3]), True, 1.0, 2.0), "beta must be a real number"),
        (lambda: jt.free_energy(np.array([0.7, 0.3]), 1.0, "1", 2.0), "g must be a real number"),
        (lambda: jt.quantum_free_energy(RHO, 1j, 1.0, 2.0), "beta must be real"),
        (lambda: jt.divergences_to_thermal(RHO, 1.0, 1 + 1j, (2.0,)), "g must be real"),
        (lambda: jt.petz_renyi_divergence(RHO, np.diag([0.5, 0.5]), "2"), "alpha must be a real number"),
        (lambda: jt.quantum_renyi_divergence(RHO, np.diag([0.5, 0.5]), True), "alpha must be a real number"),
    ],
)
def test_real_parameters_refuse_complex_booleans_and_strings(call, name):
    """A complex β lost its imaginary part, True was β = 1, the string "2" the order 2 (helper-106's trial)."""
    with pytest.raises(TypeError, match=name):
        call()


def test_real_parameters_of_any_real_type_give_the_same_number():
    p = np.array([0.7, 0.3])
    expected = jt.free_energy(p, 1.0, 1.0, 2.0)
    for beta, g in ((np.float32(1.0), 1), (np.int64(1), np.float64(1.0)), (np.asarray(1.0), 1.0)):
        np.testing.assert_allclose(jt.free_energy(p, beta, g, 2.0), expected, rtol=1e-15)
