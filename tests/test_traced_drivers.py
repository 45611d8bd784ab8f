"""Host-driven functions inside jax.grad / jax.jit / jax.vmap: a TypeError naming the traced argument and
what to call instead (they failed deep inside with JAX's TracerArrayConversionError or
ConcretizationTypeError); frozen_vs_averaged_divergence, a JAX computation, runs under jax.jit."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import frozen_vs_averaged_divergence
from jaxthermo.inhomogeneous import accumulated_mean_work, collision_number_scaling

MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
RHO0 = jnp.diag(jnp.array([1.0, 0.0]))


@pytest.mark.parametrize("transform", [jax.grad, jax.jit, lambda f: lambda x: jax.vmap(f)(jnp.stack([x, x]))])
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: jt.ensemble(MODEL.replace(theta=x), RHO0, 3, 64).mean_total_work, "model.theta"),
        (
            lambda x: jt.ensemble(MODEL.replace(distribution=jt.Gaussian(x)), RHO0, 3, 64).mean_total_work,
            "model.distribution.sigma",
        ),
        (lambda x: jt.ensemble(MODEL, jnp.diag(jnp.stack([x, 1 - x])), 3, 64).mean_total_work, "rho0"),
        (lambda x: jt.sweep(MODEL, RHO0, 3, 64, grid={"theta": [x]}).results[0].mean_total_work, "grid['theta'][0]"),
    ],
)
def test_ensemble_and_sweep_refuse_traced_arguments_naming_them(transform, call, name):
    function = "jaxthermo.sweep" if "grid" in name else "jaxthermo.ensemble"
    with pytest.raises(TypeError, match=rf"^{function}: {re.escape(name)} is traced .* pass wrt="):
        transform(call)(0.3)


def test_ensemble_wrt_gives_the_derivative_the_refusal_points_to():
    """The route the message names: ∂⟨W_N⟩/∂θ from wrt equals central differences of two concrete runs
    on the same configurations."""
    res = jt.ensemble(MODEL, RHO0, 3, 256, wrt=("theta",))
    h = 1e-5
    up, down = (jt.ensemble(MODEL.replace(theta=0.3 + s), RHO0, 3, 256).mean_total_work for s in (h, -h))
    np.testing.assert_allclose(res.sensitivity["theta"].mean_total_work, (up - down) / (2 * h), rtol=1e-6)


def test_collision_number_scaling_refuses_traced_c_and_the_suggested_route_differentiates():
    with pytest.raises(TypeError, match=r"^collision_number_scaling: c is traced .* accumulated_mean_work"):
        jax.grad(lambda c: collision_number_scaling(MODEL, RHO0, [4, 8], c).work_limit)(0.5)
    with pytest.raises(TypeError, match=r"^collision_number_scaling: model.beta is traced"):
        jax.grad(lambda b: collision_number_scaling(MODEL.replace(beta=b), RHO0, [4], 0.5).work_limit)(1.0)
    n, xi = 8, 1.0

    def w(c):  # W̄_N at sin²θ = c N^{−ξ}
        return accumulated_mean_work(MODEL.replace(theta=jnp.arcsin(jnp.sqrt(c * n**-xi))), RHO0, n)

    h = 1e-5
    fd = [
        (
            collision_number_scaling(MODEL, RHO0, [n], c + h).accumulated_work[0]
            - collision_number_scaling(MODEL, RHO0, [n], c - h).accumulated_work[0]
        )
        / (2 * h)
        for c in (0.5,)
    ]
    np.testing.assert_allclose(jax.grad(w)(0.5), fd[0], rtol=1e-7)


def test_frozen_vs_averaged_divergence_under_jit_equals_the_eager_call():
    """A concrete ρ0 inside jax.jit was turned into a tracer before its coherences were read."""
    key = jax.random.key(0)

    def f(theta):
        out = frozen_vs_averaged_divergence(MODEL.replace(theta=theta), RHO0, key, 64, 3, (1.0, 2.0))
        return out.frozen_mean, out.averaged

    eager, jitted = f(0.3), jax.jit(f)(0.3)
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    # and its derivative (common random numbers) against central differences
    h = 1e-5
    grad = jax.grad(lambda t: jnp.sum(f(t)[0][1:]))(0.3)
    fd = (jnp.sum(f(0.3 + h)[0][1:]) - jnp.sum(f(0.3 - h)[0][1:])) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
