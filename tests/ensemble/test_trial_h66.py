"""Derivatives of ensemble averages (helper-66, session 26): ``wrt`` names that have no derivative are
refused; the cold-bath D_1 tangent of the kernel is finite (it was NaN where t² underflows)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.inhomogeneous._model import partial_swap


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class _ScaledSwap(jt.Coupling):
    """Partial swap of angle θ·scale; ``order`` is static, ``flag`` a boolean leaf (neither is used)."""

    scale: float = 1.0
    flag: bool = False
    order: int = dataclasses.field(default=2, metadata=dict(static=True))

    def unitary(self, model, theta, delta):
        return partial_swap(model.d, theta * self.scale)


def _model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, coupling=_ScaledSwap(1.0), distribution=jt.Gaussian(0.1))


RHO0 = np.diag([0.7, 0.3]).astype(complex)


@pytest.mark.parametrize("name, match", [("order", "static field"), ("flag", "not a real number")])
def test_wrt_of_a_field_without_a_derivative_is_refused(name, match):
    """A static field (``order``) or a boolean leaf was accepted and its "derivative" reported as 0.0."""
    with pytest.raises(ValueError, match=f"wrt: '{name}'.*{match}"):
        jt.ensemble(_model(), RHO0, 3, 16, alphas=(), wrt=(name,))
    with pytest.raises(ValueError, match=f"wrt: '{name}'"):
        jt.sweep(_model(), RHO0, 3, 16, grid={"theta": [0.2, 0.3]}, alphas=(), wrt=(name,))


def test_an_unknown_wrt_name_is_refused_listing_the_names_with_a_derivative():
    """The list of an unknown name's refusal held ``order`` and ``flag`` too, which are then refused."""
    with pytest.raises(
        ValueError, match=r"^wrt: unknown parameter 'scal'; choose from theta, beta, g0, sigma, scale, deltas$"
    ):
        jt.ensemble(_model(), RHO0, 3, 16, alphas=(), wrt=("scal",))


def test_wrt_of_a_float_coupling_field_is_the_chain_rule_of_theta():
    """U(θ·scale): ∂⟨W_N⟩/∂scale = (θ/scale)·∂⟨W_N⟩/∂θ on the same configurations (an independent route: the
    chain rule), and the static field beside it does not stop the differentiable one."""
    model = _model()
    res = jt.ensemble(model, RHO0, 3, 16, seed=2, alphas=(), wrt=("scale", "theta"))
    d_scale, d_theta = res.sensitivity["scale"], res.sensitivity["theta"]
    np.testing.assert_allclose(d_scale.mean_cumulative_work, 0.3 * d_theta.mean_cumulative_work, rtol=1e-10)
    assert abs(d_scale.mean_total_work) > 1e-5


@pytest.mark.parametrize("dtype, levels, beta", [(jnp.float64, 2, 700.0), (jnp.float32, 4, 16.0)])
def test_cold_bath_relative_entropy_tangent_is_finite(dtype, levels, beta):
    """∂D_1(p‖τ_S)/∂β by the engine's classical route (jt.ensemble's D_α and its wrt= tangents) equals the
    reference route's (jt.divergences_to_thermal, float64): a qubit at βg0 = 700, a float32 four-level
    system at βg0 = 16 (jt.ensemble(..., dtype=jnp.float32, wrt=("beta",)) reported NaN from r = 1 on)."""
    from jaxthermo.ensemble._divergences import classical_divergences

    p = np.linspace(1.0, 2.0, levels)
    p = p / p.sum()

    def engine(b):
        return classical_divergences(jnp.asarray(p, dtype)[None], b, 1.0, (1.0,))[0, 0]

    def reference(b):
        return jt.divergences_to_thermal(jnp.diag(jnp.asarray(p)).astype(complex), b, 1.0, (1.0,), quantum=False)[0]

    want = float(jax.grad(reference)(beta))
    assert np.isclose(float(jax.grad(engine)(jnp.asarray(beta, dtype))), want, rtol=1e-5)


@pytest.mark.parametrize("coherent", [False, True])
def test_cold_bath_ensemble_tangents_equal_finite_differences(coherent):
    """jt.ensemble(wrt=("theta", "beta")) of a qubit at βg0 = 400 reported NaN for every tangent of D_1 (and
    the θ tangent was finite only without "beta" in wrt); now each equals the central difference of the
    ensemble's own ⟨D_1⟩ over the same configurations (same seed)."""
    rho0 = np.array([[0.7, 0.2], [0.2, 0.3]], complex) if coherent else RHO0
    model = jt.InhomogeneousReservoir(2, 400.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))

    def mean_d1(**change):
        return jt.ensemble(model.replace(**change), rho0, 3, 16, seed=4, alphas=(1.0,)).mean_divergence[:, 0]

    res = jt.ensemble(model, rho0, 3, 16, seed=4, alphas=(1.0,), wrt=("theta", "beta"))
    for name, value, h in (("theta", 0.3, 1e-5), ("beta", 400.0, 1e-3)):
        tangent = res.sensitivity[name].mean_divergence[:, 0]
        assert np.all(np.isfinite(tangent)), name
        fd = (mean_d1(**{name: value + h}) - mean_d1(**{name: value - h})) / (2 * h)
        np.testing.assert_allclose(tangent, fd, rtol=1e-6, atol=1e-9, err_msg=name)
