"""Host-driven functions inside jax.grad / jax.jit / jax.vmap: a TypeError naming the traced argument and
what to call instead (they failed deep inside with JAX's TracerArrayConversionError or
ConcretizationTypeError); frozen_vs_averaged_divergence, a JAX computation, runs under jax.jit."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
import jaxthermo.assignment as assignment
import jaxthermo.coherent as coherent
from jaxthermo.ensemble import frozen_vs_averaged_divergence
from jaxthermo.inhomogeneous import accumulated_mean_work, collision_number_scaling

MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
RHO0 = jnp.diag(jnp.array([1.0, 0.0]))
TIMES = np.linspace(0.0, 2.0, 5)


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
    up, down = (collision_number_scaling(MODEL, RHO0, [n], 0.5 + s).accumulated_work[0] for s in (h, -h))
    np.testing.assert_allclose(jax.grad(w)(0.5), (up - down) / (2 * h), rtol=1e-7)


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


def _qubit_b(lam):
    return coherent.qubit_example(lam=lam)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda t: jt.single_collision_histogram(MODEL.replace(theta=t), RHO0, jax.random.key(0), 64).counts,
            r"^single_collision_histogram: model.theta is traced .* single_collision_samples",
        ),
        (
            lambda lam: _qubit_b(lam).lam * coherent.validate(_qubit_b(lam)),
            r"^validate: model\.\w+ is traced .*config.validate = \"always\"",
        ),
        (
            lambda c: assignment.refine_times(TIMES, jnp.stack([c]), 0.1, points=5),
            r"^refine_times: centers is traced",
        ),
        (
            lambda x: len(assignment.non_markovian_intervals(TIMES, jnp.stack([TIMES - x, jnp.ones(5)]).T)),
            r"^non_markovian_intervals: rates is traced",
        ),
        (lambda p: jt.to_qobj(jnp.array([[p, 0.1], [0.1, 1 - p]]) + 0j), r"^to_qobj: x is traced"),
    ],
)
def test_host_functions_refuse_traced_arguments_naming_them(call, message):
    """Each failed with JAX's TracerArrayConversionError or ConcretizationTypeError (helper-92's survey)."""
    if "to_qobj" in message:
        pytest.importorskip("qutip")
    with pytest.raises(TypeError, match=message):
        jax.jit(call)(0.7)


def test_traced_renyi_orders_are_refused_naming_alphas():
    """jnp orders built inside jax.jit with quantum=True: TracerArrayConversionError; the classical route
    takes them traced (one formula for every α)."""
    rho = jnp.array([[0.7, 0.1], [0.1, 0.3]]) + 0j
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)

    def f(beta, quantum):
        return jt.free_energies(model.replace(beta=beta), rho, jnp.array([0.5, 1.0, 2.0]), quantum=quantum)

    with pytest.raises(TypeError, match=r"^alphas must be concrete numbers"):
        jax.jit(lambda b: f(b, True))(1.0)
    with pytest.raises(TypeError, match=r"^alphas must be concrete numbers"):
        jax.jit(
            lambda b: jt.collision_second_laws(model.replace(beta=b), rho, 0.1, jnp.array([0.5, 2.0]), quantum=True)
        )(1.0)
    np.testing.assert_allclose(jax.jit(lambda b: f(b, False))(1.0), f(1.0, False), rtol=1e-13)
    # orders made outside the trace: quantum=True traces, and agrees with the eager call
    alphas = jnp.array([0.5, 1.0, 2.0])
    g = jax.jit(lambda b: jt.free_energies(model.replace(beta=b), rho, alphas, quantum=True))
    np.testing.assert_allclose(g(1.0), jt.free_energies(model, rho, alphas, quantum=True), rtol=1e-12)
