"""Model A keeps float32 (README: precision): with a float32 model and state the averaged reservoir,
ε of the approximate second laws, the partial-swap error and the laws' expectations stay float32
(they came back float64: the laws' quadratures ran in float64 under x64), no float64 array is
computed inside, and the values agree with the float64 call to the documented accuracy (~1e-6
relative for O(1) quantities, ≲ 3e-7 absolute for the small differences: mean W, ε, the errors)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import inhomogeneous as A

LAWS = {
    "gaussian": lambda dt: jt.Gaussian(dt(0.3)),
    "uniform": lambda dt: jt.Uniform(dt(0.8)),
    "two-point": lambda dt: jt.TwoPoint(dt(0.2)),
    "empirical": lambda dt: jt.Empirical(np.linspace(-0.3, 0.4, 9).astype(dt)),
}
RHO = np.array([[0.7, 0.1], [0.1, 0.3]])


def _model(dt, law="gaussian", d=2):
    return jt.InhomogeneousReservoir(d, beta=dt(1.3), g0=dt(1.0), theta=dt(0.4), distribution=LAWS[law](dt))


CALLS = {
    "averaged_reservoir_state": (lambda m, r: A.averaged_reservoir_state(m), 1e-6),
    "averaged_reservoir_populations": (lambda m, r: A.averaged_reservoir_populations(m), 1e-6),
    "approximate_second_law_epsilon": (lambda m, r: tuple(A.approximate_second_law_epsilon(m)), 3e-7),
    "mean_work": (lambda m, r: A.mean_work(m, r), 3e-7),
    "mean_heat": (lambda m, r: A.mean_heat(m, r), 3e-7),
    "partial_swap_error": (
        lambda m, r: tuple(A.partial_swap_error(m, 2.0, np.real(r[0, 1]).astype(r.real.dtype))),
        3e-7,
    ),
    "mean_partial_swap_error": (lambda m, r: tuple(A.mean_partial_swap_error(m, 2.0)), 3e-7),
    "interaction_picture_exact_unitary": (
        lambda m, r: A.interaction_picture_exact_unitary(m, 2.0, np.real(r[0, 1]).astype(r.real.dtype)),
        1e-6,
    ),
}


def _no_float64_inside(fn, *args):
    jaxpr = str(jax.make_jaxpr(fn)(*args))
    # weak-typed Python literals print as f64[] scalars and do not promote; arrays and casts do
    found = re.findall(r"\S*(?:f64\[\d[^\]]*\]|c128\[|new_dtype=float64|new_dtype=complex128)\S*", jaxpr)
    assert not found, found[:5]


@pytest.mark.parametrize("law", sorted(LAWS))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_float32_in_float32_out(name, law):
    call, atol = CALLS[name]
    out32 = call(_model(np.float32, law), RHO.astype(np.complex64))
    out64 = call(_model(np.float64, law), RHO)
    for a, b in zip(jax.tree_util.tree_leaves(out32), jax.tree_util.tree_leaves(out64)):
        assert a.dtype in (jnp.float32, jnp.complex64), (name, a.dtype)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=atol)
    _no_float64_inside(lambda m, r: call(m, r), _model(np.float32, law), RHO.astype(np.complex64))


def test_the_averaged_trajectory_computes_nothing_in_float64():
    _no_float64_inside(lambda m, r: A.averaged_trajectory(m, r, 4), _model(np.float32), RHO.astype(np.complex64))
