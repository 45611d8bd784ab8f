"""Property tests (hypothesis) over the public API: random valid inputs keep the invariants (trace,
positivity, first law, D_α ≥ 0, data processing); random invalid inputs get a clear error; batch
axes are kept or refused, never summed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxthermo as jt

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
reals = st.floats(-1.0, 1.0, allow_nan=False)


@st.composite
def states(draw, d):
    """A random density matrix ρ = A A†/Tr(A A†) with a random mixing weight."""
    a = np.array(draw(st.lists(reals, min_size=2 * d * d, max_size=2 * d * d))).reshape(2, d, d)
    m = a[0] + 1j * a[1] + 1e-3 * np.eye(d)
    rho = m @ m.conj().T
    return rho / np.trace(rho).real


@st.composite
def populations(draw, d):
    w = np.array(draw(st.lists(st.floats(1e-3, 1.0), min_size=d, max_size=d)))
    return w / w.sum()


@SETTINGS
@given(
    st.sampled_from([2, 3]).flatmap(lambda d: st.tuples(st.just(d), states(d))),
    st.floats(-0.5, 0.5),
    st.floats(0.0, 1.5),
    st.floats(0.2, 3.0),
    st.sampled_from(["hamiltonian", "temperature"]),
)
def test_collision_keeps_trace_positivity_and_first_law(d_rho, delta, theta, beta, kind):
    d, rho = d_rho
    model = jt.InhomogeneousReservoir(d, beta, 1.0, theta, kind=kind)
    out, e = jt.collide(model, rho, delta)
    out = np.asarray(out)
    assert abs(np.trace(out) - 1) < 1e-10
    np.testing.assert_allclose(out, out.conj().T, atol=1e-12)
    assert np.linalg.eigvalsh(out).min() > -1e-10
    np.testing.assert_allclose(float(e.energy_change), float(e.work + e.heat), atol=1e-12)


@SETTINGS
@given(
    st.sampled_from([2, 3, 4]).flatmap(lambda d: st.tuples(populations(d), populations(d))),
    st.sampled_from([0.5, 1.0, 2.0, float("inf")]),
)
def test_renyi_divergence_is_non_negative(pq, alpha):
    p, q = pq
    assert float(jt.renyi_divergence(p, q, alpha)) >= -1e-12


@SETTINGS
@given(
    st.sampled_from([2, 3]).flatmap(lambda d: st.tuples(st.just(d), populations(d))),
    st.floats(0.05, 1.5),
    st.floats(0.2, 3.0),
    st.sampled_from([0.5, 1.0, 2.0, float("inf")]),
)
def test_data_processing_for_the_thermal_collision(d_p, theta, beta, alpha):
    """A collision with a thermal reservoir qudit (δ = 0) fixes τ_S: D_α(ρ'‖τ_S) ≤ D_α(ρ‖τ_S)."""
    d, p = d_p
    model = jt.InhomogeneousReservoir(d, beta, 1.0, theta)
    tau = jt.thermal_populations(d, beta, 1.0)
    rho_next = jt.collide(model, np.diag(p), 0.0).state
    before = float(jt.renyi_divergence(p, tau, alpha))
    after = float(jt.renyi_divergence(jnp.real(jnp.diagonal(rho_next)), tau, alpha))
    assert after <= before + 1e-10


@SETTINGS
@given(st.sampled_from([2, 3]), st.floats(0.05, 2.0), st.integers(0, 2))
def test_invalid_states_get_a_named_error(d, size, kind):
    rho = np.eye(d) / d
    if kind == 0:
        rho = rho + size * np.diag(np.r_[1.0, -1.0, np.zeros(d - 2)])  # negative eigenvalue, unit trace
        if np.linalg.eigvalsh(rho).min() > -1e-6:
            return
    elif kind == 1:
        rho = rho * (1 + size)  # wrong trace
    else:
        rho = rho + size * np.triu(np.ones((d, d)), 1)  # not Hermitian
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3)
    with pytest.raises(ValueError, match="rho"):
        jt.collide(model, rho, 0.1)
    with pytest.raises(ValueError, match="rho"):
        jt.relative_entropy(rho, np.eye(d) / d)


@SETTINGS
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=4))
def test_invalid_populations_get_a_named_error(values):
    p = np.array(values)
    valid = np.all(np.isfinite(p)) and np.all(p >= 0) and abs(p.sum() - 1) < 1e-8
    if valid:
        return
    with pytest.raises(ValueError, match="p"):
        jt.renyi_divergence(p, np.full(p.size, 1 / p.size), 2.0)


def test_batches_are_refused_or_kept():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)
    rho = np.diag([0.7, 0.3])
    with pytest.raises(ValueError, match="delta must be a scalar"):
        jt.collide(model, rho, jnp.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="rho must be one state"):
        jt.collide(model, np.stack([rho, rho, rho]), 0.1)
    # the batch is explicit with vmap, and every output keeps it
    out = jax.vmap(lambda r, dl: jt.collide(model, r, dl))(jnp.stack([rho, rho, rho]), jnp.array([0.0, 0.1, 0.2]))
    assert out.state.shape == (3, 2, 2) and out.energetics.work.shape == (3,)
    np.testing.assert_allclose(out.energetics.work[1], jt.collide(model, rho, 0.1).energetics.work, rtol=1e-12)
