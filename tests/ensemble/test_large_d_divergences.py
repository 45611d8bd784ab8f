"""The engine's classical D_α (diagonal states) for qudits beyond d = 8: taken level by level, the traced program grew
with d (the choice of the largest ratio for D_∞ as d²), so a diagonal d = 50 qudit's default ``jt.ensemble`` spent
minutes compiling and ``jaxthermo run`` with d = 1000 never started. Above d = 8 the levels are an array axis. Checked
against the reference :func:`jaxthermo.divergences_to_thermal` (``quantum=False``, its own log-sum-exp route) and by
the program's size, which must not depend on d."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

D = importlib.import_module("jaxthermo.ensemble._divergences")
ALPHAS = (0.5, 1.0, 2.0, 3.5, float("inf"))


def _populations(d, n, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(d), size=n)
    p[1, 0] = 0.0  # a level without weight: D_∞ and D_α must skip it
    p[1] /= p[1].sum()
    p[2] = np.asarray(jt.thermal_populations(d, 0.7, 1.3))  # τ_S itself: every D_α is 0
    return jnp.asarray(p)


@pytest.mark.parametrize("d", [9, 30])
def test_classical_divergences_beyond_eight_levels(d):
    p = _populations(d, 64, d)
    got = np.asarray(D.classical_divergences(p, 0.7, 1.3, ALPHAS))
    eye = jnp.eye(d)
    ref = np.asarray(
        jax.vmap(lambda x: jt.divergences_to_thermal(x[:, None] * eye, 0.7, 1.3, ALPHAS, quantum=False))(p)
    )
    # τ_S against itself: D_α (α < ∞) sums terms ≥ 0 each accurate relative to itself (~ε² here); D_∞ is
    # log t_b − log t_b of two routes to the same population (~ε)
    assert np.all(np.abs(got[2, :-1]) < 1e-28) and abs(got[2, -1]) < 1e-14, got[2]
    keep = np.ones(len(p), bool)
    keep[2] = False
    np.testing.assert_allclose(got[keep], ref[keep], rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(got))


def test_program_does_not_grow_with_the_number_of_levels():
    def size(d):
        p = jnp.full((4, d), 1.0 / d)
        return len(jax.make_jaxpr(lambda p: D.classical_divergences(p, 1.0, 1.0, ALPHAS))(p).jaxpr.eqns)

    assert size(200) == size(20), (size(20), size(200))  # level by level: 9× the equations (D_∞: 99×)


def test_ensemble_of_a_diagonal_qudit_beyond_eight_levels():
    """σ = 0: every configuration is the trajectory, so each collision's ⟨D_α⟩ is the reference's D_α of its state."""
    d, n_steps = 12, 3
    model = jt.InhomogeneousReservoir(d, beta=0.8, g0=1.0, theta=0.5, distribution=jt.Gaussian(0.0))
    rho0 = jnp.diag(jnp.asarray(np.random.default_rng(1).dirichlet(np.ones(d)))).astype(jnp.complex128)
    res = jt.ensemble(model, rho0, n_steps, 3, alphas=ALPHAS)
    states = jt.trajectory(model, rho0, jnp.zeros(n_steps)).states
    for r in range(n_steps + 1):
        expected = np.asarray(jt.divergences_to_thermal(states[r], 0.8, 1.0, ALPHAS, quantum=False))
        np.testing.assert_allclose(np.asarray(res.mean_divergence[r]), expected, rtol=1e-12, atol=1e-15)
