"""Every public function of model B that takes a system state checks it (README validation table)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import coherent as C

MODEL = C.qubit_example(lam=0.3, tau=0.01)
RHO = jnp.array([[0.6, 0.1], [0.1, 0.4]])

ENTRY_POINTS = {
    "collide": lambda r: C.collide(MODEL, r),
    "cycle": lambda r: C.cycle(MODEL, r),
    "stroboscopic_step": lambda r: C.stroboscopic_step(MODEL, r),
    "stroboscopic_trajectory": lambda r: C.stroboscopic_trajectory(MODEL, r, 2),
    "master_equation_rhs": lambda r: C.master_equation_rhs(MODEL, r),
    "dissipator": lambda r: C.dissipator(MODEL, r),
    "coherent_work_rate": lambda r: C.coherent_work_rate(MODEL, r),
    "incoherent_heat_rate": lambda r: C.incoherent_heat_rate(MODEL, r),
    "ancilla_heat_rate": lambda r: C.ancilla_heat_rate(MODEL, r),
    "energy_rate": lambda r: C.energy_rate(MODEL, r),
    "entropy_rate": lambda r: C.entropy_rate(MODEL, r),
    "entropy_production_rate": lambda r: C.entropy_production_rate(MODEL, r),
    "free_energy_rate": lambda r: C.free_energy_rate(MODEL, r),
    "collision_thermodynamics": lambda r: C.collision_thermodynamics(MODEL, r),
    "propagate": lambda r: C.propagate(MODEL, r, jnp.array([0.0, 0.1])),
}

BAD_STATES = {
    "not Hermitian": (jnp.array([[0.6, 0.3], [0.1, 0.4]]), "Hermitian"),
    "trace 2": (2 * RHO, "unit trace"),
    "negative": (jnp.diag(jnp.array([1.5, -0.5])), "positive semidefinite"),
    "NaN entry": (RHO.at[0, 1].set(jnp.nan), "finite"),
    "wrong dimension": (jnp.eye(3) / 3, r"(dimension 3|shape \(3, 3\))"),
}


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("bad", sorted(BAD_STATES))
def test_bad_state_is_refused_naming_it(function, bad):
    state, message = BAD_STATES[bad]
    name = "rho0" if function in ("propagate", "stroboscopic_trajectory") else "rho"
    with pytest.raises(ValueError, match=f"^{name}\\b.*{message}"):
        ENTRY_POINTS[function](state)


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
def test_good_state_and_a_batch_of_states_pass(function):
    leaves = jax.tree_util.tree_leaves(ENTRY_POINTS[function](RHO))
    assert all(np.all(np.isfinite(np.asarray(x))) for x in leaves)
    if function not in ("propagate", "stroboscopic_trajectory"):  # these take one ρ(0): vmap for a batch
        ENTRY_POINTS[function](jnp.stack([RHO, jnp.eye(2) / 2]))


def _staged_error(fn, *args, match):
    with jt.config.override(validate="always"), pytest.raises(Exception, match=match) as info:
        jax.block_until_ready(fn(*args))
    assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))


@pytest.mark.parametrize(
    "field, value, match",
    [("lam", jnp.nan, "lam"), ("lam", 1e3, "lam"), ("tau", -0.01, "tau"), ("tau", jnp.nan, "tau")],
)
@pytest.mark.parametrize("function", ["collide", "stroboscopic_step", "collision_thermodynamics"])
def test_traced_lambda_and_tau_are_checked_under_always(field, value, match, function):
    run = getattr(C, function)
    _staged_error(
        jax.jit(lambda x: jax.tree_util.tree_leaves(run(MODEL.replace(**{field: x}), RHO))[0]), value, match=match
    )


@pytest.mark.parametrize("n_species", [0, -1, 1.5, True])
def test_n_species_must_be_a_positive_integer(n_species):
    for run in (C.collide, C.collision_thermodynamics):
        with pytest.raises(ValueError, match="n_species"):
            run(MODEL, RHO, n_species=n_species)


@pytest.mark.parametrize(
    "run", [C.collision_thermodynamics, C.free_energy_rate, C.collide, C.stroboscopic_step], ids=lambda f: f.__name__
)
def test_single_species_functions_refuse_a_multi_species_model(run):
    with pytest.raises(ValueError, match="single-species"):
        run(C.MultiSpeciesModel((MODEL, MODEL)), RHO)


def test_batched_fields_that_do_not_broadcast_are_named():
    with pytest.raises(ValueError, match=r"beta \(3,\), lam \(2,\) do not broadcast"):
        C.steady_state(MODEL.replace(lam=jnp.array([0.1, 0.2]), beta=jnp.array([1.0, 2.0, 3.0])))
