"""Every public function whose first argument is a model refuses a model of another kind with a ``TypeError``
naming ``model`` and the function (it failed deep inside with an ``AttributeError`` on a missing field, e.g.
``'InhomogeneousReservoir' object has no attribute 'species'`` from ``jt.master_equation_rhs``)."""

import importlib
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([1.0, -1.0])

KINDS = {
    "A": jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.05)),
    "B": jt.coherent.qubit_example(),
    "C global": jt.GlobalModel(0.5 * SZ, 0.1 * np.kron(SX, SX), 0.5 * SZ),
    "C quadratic": jt.QuadraticReservoirs.from_regime(
        2, 2, detuning=1.0, effective_coupling=0.3, nu2=2.0, g=0.1, beta1=1.0, beta2=0.5
    ),
}
MODULES = [jt.inhomogeneous, jt.coherent, jt.assignment, jt]


def _model_functions():
    """The public functions (of the model packages and ``jt``) whose first parameter is ``model``; the ensemble
    entry points have their own check (tests/test_entry_checks.py)."""
    found = {}
    engine = importlib.import_module("jaxthermo.ensemble")
    skip = {id(getattr(engine, n)) for n in dir(engine) if callable(getattr(engine, n))}
    for module in MODULES:
        for name in getattr(module, "__all__", dir(module)):
            fn = getattr(module, name, None)
            if name.startswith("_") or not callable(fn) or inspect.isclass(fn) or id(fn) in skip:
                continue
            try:
                first = next(iter(inspect.signature(fn).parameters), None)
            except (TypeError, ValueError):
                continue
            if first == "model":
                found.setdefault(fn.__name__, fn)
    return sorted(found.items())


FUNCTIONS = _model_functions()


def _refusal(fn, model):
    """The decorator's TypeError for ``model``, or None when the function took the model's kind (it may then fail
    on the arguments not given: only the kind is tested here)."""
    try:
        fn(model)
    except TypeError as err:
        if str(err).startswith(f"model: {fn.__name__} takes"):
            return str(err)
    except Exception:
        pass
    return None


def test_found_the_model_functions():
    names = {n for n, _ in FUNCTIONS}
    assert {"mean_work", "master_equation_rhs", "energy_assignment", "quadratic_energetics", "trajectory"} <= names
    assert len(FUNCTIONS) >= 55


@pytest.mark.parametrize("name, fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_one_kind_accepted_others_refused(name, fn):
    refused = {kind: _refusal(fn, model) for kind, model in KINDS.items()}
    accepted = [kind for kind, msg in refused.items() if msg is None]
    assert len(accepted) == 1, (name, refused)
    for kind, msg in refused.items():
        if msg is not None:
            assert type(KINDS[kind]).__name__ in msg
    assert _refusal(fn, "a string") is not None
    assert _refusal(fn, None) is not None


def test_message_names_what_is_taken():
    with pytest.raises(
        TypeError,
        match=r"model: master_equation_rhs takes a model B, jt.CoherentCollisionModel or "
        r"jt.MultiSpeciesModel; got InhomogeneousReservoir",
    ):
        jt.master_equation_rhs(KINDS["A"], jnp.eye(2) / 2)


def test_multi_species_and_transformations_pass():
    """A MultiSpeciesModel is a model B; models rebuilt by vmap and jit keep their class."""
    b = KINDS["B"]
    rho = jnp.eye(2, dtype=jnp.complex128) / 2
    both = jt.MultiSpeciesModel((b, b))
    np.testing.assert_allclose(jt.master_equation_rhs(both, rho), 2 * jt.master_equation_rhs(b, rho), atol=1e-15)
    a = KINDS["A"]
    betas = jnp.array([0.5, 1.0, 2.0])
    batched = jax.vmap(lambda beta: jt.mean_work(a.replace(beta=beta), jnp.eye(2) / 2))(betas)
    one_by_one = jnp.array([jt.mean_work(a.replace(beta=float(x)), jnp.eye(2) / 2) for x in betas])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-13)
    grad = jax.jit(jax.grad(lambda beta: jt.mean_work(a.replace(beta=beta), jnp.eye(2) / 2)))(1.0)
    h = 1e-5
    fd = (
        jt.mean_work(a.replace(beta=1.0 + h), jnp.eye(2) / 2) - jt.mean_work(a.replace(beta=1.0 - h), jnp.eye(2) / 2)
    ) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-7)


@pytest.mark.parametrize("bad", ["gauss", 0.05])
@pytest.mark.parametrize(
    "call",
    [
        lambda d: jt.mean_work(KINDS["A"], jnp.eye(2) / 2, distribution=d),
        lambda d: jt.averaged_trajectory(KINDS["A"], jnp.eye(2) / 2, 3, distribution=d),
        lambda d: jt.single_collision_samples(KINDS["A"], jnp.eye(2) / 2, jax.random.key(0), 4, distribution=d),
        lambda d: jt.frozen_ensemble_mean(
            KINDS["A"], jnp.eye(2) / 2, jax.random.key(0), 4, 3, lambda t: t.work, distribution=d
        ),
    ],
    ids=["mean_work", "averaged_trajectory", "single_collision_samples", "frozen_ensemble_mean"],
)
def test_distribution_of_another_type_refused(call, bad):
    """``distribution="gauss"`` or a bare σ failed with ``AttributeError: 'str' object has no attribute
    'expectation_with_step'``; now the constructor's TypeError naming ``distribution``."""
    with pytest.raises(TypeError, match="distribution must be a Distribution"):
        call(bad)
