"""Extension points of model A: a user's own law G(δ) (``jt.Distribution``) and a user's own coupling
(``jt.Coupling``), run end to end: single trajectories, exact ensemble averages and the ensemble engine."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from tests.inhomogeneous.helpers import Laplace


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class GenericPartialSwap(jt.Coupling):
    """The partial swap written as a generic unitary exp(iθS) = cos θ + i sin θ S (S² = 1)."""

    def unitary(self, model, theta, delta):
        d = model.d
        cdt = jnp.complex128 if jnp.result_type(theta) == jnp.float64 else jnp.complex64
        return jax.scipy.linalg.expm(1j * theta.astype(cdt) * jt.swap(d, cdt))


def _rho(d):
    v = np.exp(1j * np.arange(d)) / np.sqrt(d)
    return 0.6 * np.outer(v, v.conj()) + 0.4 * np.eye(d) / d


def test_user_classes_are_the_documented_bases():
    assert issubclass(jt.Gaussian, jt.Distribution) and issubclass(jt.Empirical, jt.Distribution)
    assert issubclass(jt.PartialSwap, jt.Coupling) and issubclass(jt.ExactUnitary, jt.Coupling)
    with pytest.raises(TypeError):
        jt.Distribution()  # abstract
    with pytest.raises(TypeError):
        jt.Coupling()


@pytest.mark.parametrize("d", [2, 3])
def test_user_coupling_agrees_with_partial_swap(d):
    law = Laplace(0.05)
    ref = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=law)
    user = ref.replace(coupling=GenericPartialSwap())
    rho0 = _rho(d)
    deltas = law.sample(jax.random.PRNGKey(0), (12,))
    a, b = jt.trajectory(ref, rho0, deltas), jt.trajectory(user, rho0, deltas)
    np.testing.assert_allclose(b.states, a.states, atol=1e-13)
    for name in ("work", "heat", "energy_change"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-14)
    step = jt.collision_step(user, rho0, deltas[0], 0.3)
    np.testing.assert_allclose(step.state, a.states[1], atol=1e-13)
    avg_a, avg_b = jt.averaged_trajectory(ref, rho0, 8), jt.averaged_trajectory(user, rho0, 8)
    np.testing.assert_allclose(avg_b.states, avg_a.states, atol=1e-13)
    np.testing.assert_allclose(avg_b.work, avg_a.work, atol=1e-15)


def test_partial_swap_subclass_takes_the_generic_route():
    """Only PartialSwap itself has the closed form: a subclass with another unitary is honoured."""

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass(frozen=True)
    class Identity(jt.PartialSwap):
        def unitary(self, model, theta, delta):
            return jnp.eye(model.d**2, dtype=jnp.complex128)

    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, coupling=Identity())
    rho = _rho(2)
    out = jt.collide(model, rho, 0.1)
    np.testing.assert_allclose(out.state, rho, atol=1e-14)
    assert float(out.work) == 0.0


def test_user_distribution_quadrature_and_mean_work():
    law = Laplace(0.04)
    np.testing.assert_allclose(law.expectation(lambda x: x**2), law.variance, rtol=1e-10)
    np.testing.assert_allclose(law.expectation(lambda x: jnp.ones_like(x)), 1.0, rtol=1e-12)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=law)
    w = jt.mean_work(model, jnp.eye(2) / 2)
    # to order σ² the mean work depends on G only through its variance (docs/inhomogeneous.md)
    np.testing.assert_allclose(w, jt.inhomogeneous.small_delta_mean_work(model, law.variance), rtol=2e-2)
    avg = jt.averaged_trajectory(model, _rho(2), 5)
    np.testing.assert_allclose(avg.work, w, rtol=1e-12)


def test_user_distribution_through_the_engine():
    law = Laplace(0.05)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=law)
    rho0 = _rho(2)
    res = jt.ensemble(model, rho0, 6, 4000, seed=1, alphas=(1.0,))
    exact = jt.averaged_trajectory(model, rho0, 6)
    se = res.standard_error("work")
    assert np.all(np.abs(res.mean_work - exact.work) <= 5 * se)
    np.testing.assert_allclose(res.mean_state[-1], exact.states[-1], atol=5e-4)
    # the user coupling goes through the engine's generic route, with the same configurations
    user = jt.ensemble(model.replace(coupling=GenericPartialSwap()), rho0, 6, 4000, seed=1, alphas=(1.0,))
    np.testing.assert_allclose(user.mean_work, res.mean_work, rtol=1e-9, atol=1e-15)
    frozen = jt.frozen_ensemble_mean(model, rho0, jax.random.key(1), 4000, 6, lambda t: t.work)
    np.testing.assert_allclose(frozen.mean, res.mean_work, rtol=1e-9, atol=1e-15)
