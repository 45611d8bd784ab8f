"""Model B: the lower of the model's and the state's precision sets the computation's (docs/coherent.md, README
"Precision"). A complex64 ρ with the default float64 model used to give complex128/float64 results (a silent
promotion); it now computes what the model cast to float32 computes, number for number.

Tolerance against the float64 computation. The float32 run sees its inputs rounded to float32 (relative ε₃₂/2,
ε₃₂ = 2^−23 ≈ 1.19·10⁻⁷) and rounds each of its operations. Every output here is a short chain of well-conditioned
steps on O(1) numbers: one expm of a (d_S d_A)² generator of norm ≲ 1, a few matrix products and traces summing
d_S d_A ≤ 6 terms, the eigenvalues and logarithms of a ρ whose eigenvalues are ≥ 0.5/d_S ≥ 0.25 (log's absolute
condition 1/p ≤ 4), and for the trajectory 10 renormalised collisions. Each step adds a few ε₃₂ times the size of its
O(1) operands, so the total is C·ε₃₂ with C of order ten, absolute on the scale max(1, max|x₆₄|) of the output (the
O(τ) entropic terms are differences of O(1) entropies: absolute, README "Precision"). Bound: 20·ε₃₂ ≈ 2.4·10⁻⁶;
measured worst 3.9·10⁻⁷ = 3.3 ε₃₂ (propagate of the qubit example; the entropic terms of collision_thermodynamics
2.9·10⁻⁷ absolute)."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.coherent import _model
from tests.coherent.helpers import random_model_arrays
from tests.helpers import random_state

TOL = 20 * float(np.finfo(np.float32).eps)
TIMES = np.linspace(0.0, 2.0, 5)

# the rotated model and the pair reach η > 0.1 (docs/coherent.md §8): the exact terms compared here are unaffected
pytestmark = pytest.mark.filterwarnings("ignore:collision_thermodynamics. expansion parameter")


def _narrowed(model):
    """The float32 twin of a float64 model, built by hand: array fields cast to float32 / complex64."""

    def cast(x):
        if not hasattr(x, "dtype"):
            return x
        x = np.asarray(x)
        return x.astype(np.complex64 if np.iscomplexobj(x) else np.float32)

    if isinstance(model, jt.MultiSpeciesModel):
        return jt.MultiSpeciesModel(tuple(_narrowed(s) for s in model.species))
    fields = ("H_S", "H_A", "V", "beta", "chi", "lam", "tau")
    return jt.CoherentCollisionModel(**{f: cast(getattr(model, f)) for f in fields})


def _qubit(dtype=None):
    return jt.qubit_example(omega=1.0, g=1.0, beta=1.0, lam=0.1, tau=0.01, dtype=dtype)


def _pair(dtype=None):
    hot = jt.qubit_example(g=0.8, beta=0.3, lam=0.3, tau=0.01, dtype=dtype)
    cold = jt.qubit_example(g=0.5, beta=3.0, lam=-0.2, tau=0.01, dtype=dtype)
    return jt.MultiSpeciesModel((hot, cold))


def _rotated():
    """A 2 ⊗ 3 model in rotated bases: complex V and χ, numpy-scalar λ (random_model_arrays)."""
    return jt.CoherentCollisionModel(**random_model_arrays(2, 3, np.random.default_rng(7)))


MODELS = {"qubit": _qubit, "pair": _pair, "rotated": _rotated}

# every public model-B function that takes a state (docs/api.md), with the models it accepts
SINGLE, ANY = ("qubit", "rotated"), ("qubit", "pair", "rotated")
FUNCTIONS = {
    "dissipator": (jt.coherent.dissipator, SINGLE),
    "master_equation_rhs": (jt.coherent.master_equation_rhs, ANY),
    "propagate": (lambda m, r: jt.coherent.propagate(m, r, TIMES), ANY),
    "collide": (jt.coherent.collide, SINGLE),
    "stroboscopic_step": (jt.coherent.stroboscopic_step, SINGLE),
    "cycle": (jt.coherent.cycle, ANY),
    "stroboscopic_trajectory": (lambda m, r: jt.coherent.stroboscopic_trajectory(m, r, 10), ANY),
    "coherent_work_rate": (jt.coherent.coherent_work_rate, ANY),
    "incoherent_heat_rate": (jt.coherent.incoherent_heat_rate, ANY),
    "ancilla_heat_rate": (jt.coherent.ancilla_heat_rate, ANY),
    "energy_rate": (jt.coherent.energy_rate, ANY),
    "entropy_rate": (jt.coherent.entropy_rate, ANY),
    "entropy_production_rate": (jt.coherent.entropy_production_rate, ANY),
    "free_energy_rate": (jt.coherent.free_energy_rate, SINGLE),
    "collision_thermodynamics": (jt.coherent.collision_thermodynamics, SINGLE),
    "cycle_thermodynamics": (jt.coherent.cycle_thermodynamics, ANY),
}
CASES = [(f, m) for f, (_, models) in FUNCTIONS.items() for m in models]


def _state(d, dtype=np.complex64):
    """A full-rank state, eigenvalues ≥ 0.5/d (well inside the float32 density-matrix checks)."""
    rho = 0.5 * random_state(d, np.random.default_rng(3)) + 0.5 * np.eye(d) / d
    return jnp.asarray(rho.astype(dtype))


def _leaves(x):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(x)]


def test_every_public_function_taking_a_state_is_covered():
    """Every public function of ``jt.coherent`` whose arguments start ``(model, rho)`` or ``(model, rho0)``."""
    takes_state = set()
    for n in dir(jt.coherent):
        fn = getattr(jt.coherent, n)
        if n.startswith("_") or isinstance(fn, type) or not inspect.isfunction(fn):
            continue
        if list(inspect.signature(fn).parameters)[:2] in (["model", "rho"], ["model", "rho0"]):
            takes_state.add(n)
    assert takes_state == set(FUNCTIONS)


@pytest.mark.parametrize(("name", "which"), CASES)
def test_complex64_state_with_a_float64_model_computes_in_float32(name, which):
    fn = FUNCTIONS[name][0]
    m64 = MODELS[which]()
    rho = _state(m64.dims[0])
    got = _leaves(fn(m64, rho))
    assert {str(x.dtype) for x in got} <= {"complex64", "float32"}, {str(x.dtype) for x in got}
    # the same numbers as the model cast to float32 (by hand, and as qubit_example(dtype=float32) builds it)
    twins = [_narrowed(m64)] + ([MODELS[which](jnp.float32)] if which != "rotated" else [])
    for m32 in twins:
        for a, b in zip(got, _leaves(fn(m32, rho)), strict=True):
            np.testing.assert_array_equal(a, b)
    # and the float64 computation of the same state to float32 accuracy (module docstring)
    for a, b in zip(got, _leaves(fn(m64, rho.astype(jnp.complex128))), strict=True):
        assert b.dtype in (np.complex128, np.float64)
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL * max(1.0, float(np.max(np.abs(b), initial=0.0))))


@pytest.mark.parametrize("name", ["master_equation_rhs", "collide", "coherent_work_rate", "collision_thermodynamics"])
def test_float32_state_and_traced_state(name):
    """A real float32 ρ counts as float32; inside jit the rule is decided on the tracer's dtype."""
    fn = FUNCTIONS[name][0]
    m64, rho = _qubit(), _state(2)
    real = jnp.asarray(np.diag([0.7, 0.3]).astype(np.float32))
    for out in (fn(m64, real), jax.jit(lambda r: fn(m64, r))(rho)):
        assert {str(x.dtype) for x in _leaves(out)} <= {"complex64", "float32"}
    for a, b in zip(_leaves(jax.jit(lambda r: fn(m64, r))(rho)), _leaves(fn(m64, rho)), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=4 * float(np.finfo(np.float32).eps))


@pytest.mark.parametrize(("name", "which"), CASES)
def test_float64_and_float32_models_keep_their_behaviour(name, which):
    """A complex128 ρ: the float64 model computes in float64 as before (the model is passed on unchanged), and a
    float32 model still computes in float32 (ρ cast down to complex64, the same numbers as a complex64 ρ)."""
    fn = FUNCTIONS[name][0]
    m64 = MODELS[which]()
    rho = _state(m64.dims[0], np.complex128)
    assert _model.at_state_precision(m64, rho) is m64
    assert {str(x.dtype) for x in _leaves(fn(m64, rho))} <= {"complex128", "float64"}
    m32 = _narrowed(m64)
    assert _model.at_state_precision(m32, rho) is m32
    for a, b in zip(_leaves(fn(m32, rho)), _leaves(fn(m32, rho.astype(jnp.complex64))), strict=True):
        assert a.dtype in (np.complex64, np.float32)
        np.testing.assert_array_equal(a, b)


def test_eigenoperator_dissipator_takes_the_lower_precision():
    """``EigenoperatorCoupling.dissipator`` (a method, outside at_state_precision) with a complex64 ρ and the
    default float64 coupling: complex64, within 20 ε₃₂ of the float64 dissipator of the same ρ (its entries are
    O(g²) = O(1) sums of a few products); a complex128 ρ keeps complex128."""
    from jaxthermo.coherent import qubit_coupling

    coupling, model = qubit_coupling(omega=1.2, g=0.7), jt.qubit_example(omega=1.2, g=0.7, beta=1.5)
    rho = jnp.asarray([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]], jnp.complex64)
    d32 = coupling.dissipator(rho, model.H_A, 1.5)
    d64 = coupling.dissipator(rho.astype(jnp.complex128), model.H_A, 1.5)
    assert d32.dtype == jnp.complex64 and d64.dtype == jnp.complex128
    np.testing.assert_allclose(np.asarray(d32), np.asarray(d64), atol=20 * np.finfo(np.float32).eps)
