"""Collisions (docs/inhomogeneous.md): the full density-matrix route against the closed forms, QuTiP, and FD."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from scipy.linalg import expm

import jaxthermo as jt
from jaxthermo.inhomogeneous import collide_closed_form, collide_generic
from tests.helpers import random_state, random_unitary

KINDS = ["hamiltonian", "temperature"]


def _np_collision(rho, tau, u, h_s, h_r):
    """Independent NumPy route: X' = U (ρ ⊗ τ) U†, reduced states via QuTiP's ptrace."""
    d_s, d_r = rho.shape[0], tau.shape[0]
    x = np.kron(rho, tau)
    xp = u @ x @ u.conj().T
    q = qutip.Qobj(xp, dims=[[d_s, d_r], [d_s, d_r]])
    rho_p, tau_p = q.ptrace(0).full(), q.ptrace(1).full()
    h = np.kron(h_s, np.eye(d_r)) + np.kron(np.eye(d_s), h_r)
    work = np.trace((xp - x) @ h).real
    heat = -np.trace((tau_p - tau) @ h_r).real
    du = np.trace((rho_p - rho) @ h_s).real
    return rho_p, tau_p, work, heat, du


@pytest.mark.parametrize("d_s,d_a", [(2, 2), (2, 3), (3, 2)])
def test_collide_unitary_any_unitary_matches_qutip(d_s, d_a):
    rng = np.random.default_rng(d_s * 10 + d_a)
    rho, anc = random_state(d_s, rng), random_state(d_a, rng)
    u = random_unitary(d_s * d_a, rng)
    h_s = np.diag(rng.normal(size=d_s))
    h_a = rng.normal(size=(d_a, d_a))
    h_a = h_a + h_a.T
    res = jt.collide_unitary(rho, anc, u, h_s, h_a)
    rho_p, anc_p, w, q, du = _np_collision(rho, anc, u, h_s, h_a)
    np.testing.assert_allclose(res.system, rho_p, atol=1e-13)
    np.testing.assert_allclose(res.ancilla, anc_p, atol=1e-13)
    np.testing.assert_allclose(res.energetics.work, w, atol=1e-13)
    np.testing.assert_allclose(res.energetics.heat, q, atol=1e-13)
    np.testing.assert_allclose(res.energetics.energy_change, du, atol=1e-13)
    # first law to rounding, W computed from the global state
    e = res.energetics
    assert abs(float(e.work + e.heat - e.energy_change)) < 1e-13


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("diagonal", [True, False])
def test_closed_form_equals_generic_path(kind, d, diagonal):
    rng = np.random.default_rng(d + 7 * diagonal)
    for delta, theta in [(0.0, 0.1), (0.13, 0.4), (-0.3, 1.2)]:
        rho = random_state(d, rng, diagonal=diagonal)
        model = jt.InhomogeneousReservoir(d, 0.8, 1.3, theta, kind=kind)
        gen = collide_generic(model, rho, delta)
        rho_cf, e_cf = collide_closed_form(model, rho, delta)
        np.testing.assert_allclose(rho_cf, gen.system, atol=1e-14)
        for a, b in zip(e_cf, gen.energetics):
            np.testing.assert_allclose(a, b, atol=1e-14)
        # the public collide picks the fast path and gives the same
        rho_pub, e_pub = jt.collide(model, rho, delta)
        np.testing.assert_allclose(rho_pub, gen.system, atol=1e-14)
        np.testing.assert_allclose(e_pub.work, gen.energetics.work, atol=1e-14)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_closed_forms_of_spec(d):
    """ρ' = c²ρ + s²τ + isc[τ, ρ]; W in the seed-000 double-sum form; Q; qubit W."""
    rng = np.random.default_rng(11 + d)
    beta, g0, theta, delta = 1.1, 0.9, 0.35, 0.2
    rho = random_state(d, rng)
    model = jt.InhomogeneousReservoir(d, beta, g0, theta, kind="hamiltonian")
    j = np.arange(d)
    a = np.exp(-beta * g0 * (1 + delta))
    q = a**j * (1 - a) / (1 - a**d)
    tau = np.diag(q)
    c, s = np.cos(theta), np.sin(theta)
    expected = c**2 * rho + s**2 * tau + 1j * s * c * (tau @ rho - rho @ tau)
    res = collide_generic(model, rho, delta)
    np.testing.assert_allclose(res.system, expected, atol=1e-14)
    p = np.diag(rho).real
    w000 = delta * g0 * s**2 * np.sum((j[:, None] - j[None, :]) * p[:, None] * q[None, :])
    np.testing.assert_allclose(res.energetics.work, w000, atol=1e-14)
    np.testing.assert_allclose(res.energetics.work, delta * g0 * s**2 * np.sum(j * (p - q)), atol=1e-14)
    m = j - (d - 1) / 2
    np.testing.assert_allclose(res.energetics.heat, g0 * (1 + delta) * s**2 * np.sum(m * (q - p)), atol=1e-14)
    if d == 2:
        np.testing.assert_allclose(res.energetics.work, delta * g0 * s**2 * (q[0] - p[0]), atol=1e-14)


def test_temperature_kind_does_no_work():
    rng = np.random.default_rng(2)
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.7, kind="temperature")
    for delta in [-0.4, 0.1, 0.5]:
        e = collide_generic(model, random_state(3, rng), delta).energetics
        assert abs(float(e.work)) < 1e-14
        np.testing.assert_allclose(e.heat, e.energy_change, atol=1e-14)


def test_both_kinds_share_the_reservoir_state():
    for d in (2, 3):
        h = jt.InhomogeneousReservoir(d, 0.7, 1.2, 0.1, kind="hamiltonian")
        t = jt.InhomogeneousReservoir(d, 0.7, 1.2, 0.1, kind="temperature")
        for delta in (-0.2, 0.3):
            np.testing.assert_allclose(
                jt.inhomogeneous.reservoir_state(h, delta), jt.inhomogeneous.reservoir_state(t, delta), atol=1e-15
            )
            rho_h, _ = jt.collide(h, np.eye(d) / d, delta)
            rho_t, _ = jt.collide(t, np.eye(d) / d, delta)
            np.testing.assert_allclose(rho_h, rho_t, atol=1e-15)


def test_exact_unitary_coupling():
    """U_exact = exp(−i t(H_S + H_r − g_int S)); → partial swap when σ ≪ 2g_int/(g0(d−1))."""
    d, g0, theta, delta = 2, 1.0, 0.3, 0.05
    rng = np.random.default_rng(5)
    rho = random_state(d, rng)
    for g_int in [1.0, 10.0]:
        model = jt.InhomogeneousReservoir(d, 1.0, g0, theta, coupling=jt.ExactUnitary(g_int))
        sz = np.diag([-0.5, 0.5])
        h = np.kron(g0 * sz, np.eye(2)) + np.kron(np.eye(2), g0 * (1 + delta) * sz) - g_int * np.asarray(jt.swap(2))
        u = expm(-1j * theta / g_int * h)
        tau = np.asarray(jt.inhomogeneous.reservoir_state(model, delta))
        rho_p, _, w, q, du = _np_collision(rho, tau, u, g0 * sz, g0 * (1 + delta) * sz)
        got_rho, got_e = jt.collide(model, rho, delta)
        np.testing.assert_allclose(got_rho, rho_p, atol=1e-13)
        np.testing.assert_allclose([got_e.work, got_e.heat, got_e.energy_change], [w, q, du], atol=1e-13)
    # homogeneous reservoir: H_S + H_r commutes with S, the exact unitary differs from U(θ) only by
    # the energy-conserving local phase, so populations and energetics coincide with the partial swap
    exact = jt.InhomogeneousReservoir(d, 1.0, g0, theta, coupling=jt.ExactUnitary(0.7))
    swap_model = exact.replace(coupling=jt.PartialSwap())
    diag = np.diag([0.8, 0.2])
    r1, e1 = jt.collide(exact, diag, 0.0)
    r2, e2 = jt.collide(swap_model, diag, 0.0)
    np.testing.assert_allclose(np.diag(r1), np.diag(r2), atol=1e-14)
    np.testing.assert_allclose(e1.heat, e2.heat, atol=1e-14)
    # and the deviation from the partial swap shrinks with g_int at fixed δ
    errs = []
    for g_int in [1.0, 10.0, 100.0]:
        m = exact.replace(coupling=jt.ExactUnitary(g_int))
        errs.append(float(jnp.max(jnp.abs(jt.collide(m, rho, 0.1)[0] - jt.collide(swap_model, rho, 0.1)[0]))))
    assert errs[0] > errs[1] > errs[2]


def test_trajectory_homogeneous_relaxation_and_first_law():
    d, theta, n = 3, 0.2, 40
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta)
    rho0 = random_state(d, np.random.default_rng(0), diagonal=True)
    traj = jt.trajectory(model, rho0, jnp.zeros(n))
    tau = np.asarray(jt.thermal_state(d, 1.0, 1.0))
    r = np.arange(n + 1)[:, None, None]
    np.testing.assert_allclose(traj.states, tau - (tau - rho0) * np.cos(theta) ** (2 * r), atol=1e-14)
    assert traj.states.shape == (n + 1, d, d) and traj.work.shape == (n,)
    np.testing.assert_allclose(traj.work + traj.heat, traj.energy_change, atol=1e-15)
    np.testing.assert_allclose(traj.work, 0.0, atol=1e-15)  # δ = 0: no work


def test_trajectory_matches_loop_of_collisions_with_theta_schedule():
    rng = np.random.default_rng(1)
    n, d = 12, 3
    deltas = rng.normal(scale=0.1, size=n)
    thetas = np.linspace(0.05, 0.6, n)
    rho0 = random_state(d, rng)
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, thetas)
    traj = jt.trajectory(model, rho0, deltas)
    rho = rho0
    for r in range(n):
        rho, e = jt.collide(model.replace(theta=thetas[r]), rho, deltas[r])
        np.testing.assert_allclose(traj.states[r + 1], rho, atol=1e-14)
        np.testing.assert_allclose(traj.work[r], e.work, atol=1e-15)
        np.testing.assert_allclose(traj.heat[r], e.heat, atol=1e-15)
    light = jt.trajectory(model, rho0, deltas, store_states=False)
    assert light.states is None
    np.testing.assert_allclose(light.work, traj.work, atol=0)
    # the generic path through the scan agrees too (exact unitary with huge g_int ≈ partial swap)
    exact = model.replace(coupling=jt.ExactUnitary(1e6))
    np.testing.assert_allclose(jt.trajectory(exact, rho0, deltas).states, traj.states, atol=1e-5)


def test_trajectory_jit_vmap_and_float32():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1)
    rho0 = jnp.eye(2) / 2
    deltas = jax.random.normal(jax.random.key(0), (8, 50)) * 0.05
    f = jax.jit(jax.vmap(lambda dl: jt.trajectory(model, rho0, dl).work))
    np.testing.assert_allclose(f(deltas)[3], jt.trajectory(model, rho0, deltas[3]).work, atol=1e-15)
    t32 = jt.trajectory(model, rho0.astype(jnp.float32), deltas[0].astype(jnp.float32))
    assert t32.states.dtype == jnp.complex64 and t32.work.dtype == jnp.float32
    # float32 accuracy: relative error of the accumulated work ~ 1e-6
    w64 = float(jnp.sum(jt.trajectory(model, rho0, deltas[0]).work))
    assert abs(float(jnp.sum(t32.work)) - w64) < 1e-5 * abs(w64) + 1e-7


@pytest.mark.parametrize("name", ["theta", "beta", "g0", "delta3"])
def test_trajectory_gradients_match_finite_differences(name):
    rng = np.random.default_rng(4)
    deltas = jnp.asarray(rng.normal(scale=0.1, size=20))
    rho0 = jnp.asarray(random_state(3, rng))
    base = dict(beta=0.9, g0=1.1, theta=0.3)

    def total(x):
        params = dict(base)
        dl = deltas
        if name == "delta3":
            dl = deltas.at[3].set(x)
        else:
            params[name] = x
        model = jt.InhomogeneousReservoir(3, params["beta"], params["g0"], params["theta"])
        t = jt.trajectory(model, rho0, dl)
        return jnp.sum(t.work) + 0.3 * jnp.sum(t.heat) + jt.von_neumann_entropy(t.states[-1])

    x0 = float(deltas[3]) if name == "delta3" else base[name]
    h = 1e-6
    fd = (total(x0 + h) - total(x0 - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(total)(x0), fd, rtol=1e-6, atol=1e-9)


def test_small_delta_mean_work_derivative_in_theta():
    """∂W̄_r/∂θ = 2 sinθ cosθ g0 q0'(0) σ² (docs/ensemble.md), W̄_r by exact two-point average, small δ."""
    g0, beta, delta = 1.0, 1.0, 1e-3
    a = np.exp(-beta * g0)
    q0p = beta * g0 * a / (1 + a) ** 2
    rho = jt.thermal_state(2, beta, g0)  # start thermal so only the O(δ²) part survives

    def mean_work(theta):
        m = jt.InhomogeneousReservoir(2, beta, g0, theta)
        return 0.5 * (jt.collide(m, rho, delta)[1].work + jt.collide(m, rho, -delta)[1].work)

    theta = 0.4
    expected = 2 * np.sin(theta) * np.cos(theta) * g0 * q0p * delta**2
    np.testing.assert_allclose(jax.grad(mean_work)(theta), expected, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_states_are_named():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="rho is not Hermitian"):
        jt.collide(model, np.array([[0.5, 0.3], [0.0, 0.5]]), 0.0)
    with pytest.raises(ValueError, match="rho must have unit trace"):
        jt.collide(model, np.eye(2), 0.0)
    with pytest.raises(ValueError, match="rho is not positive"):
        jt.collide(model, np.array([[1.2, 0.0], [0.0, -0.2]]), 0.0)
    with pytest.raises(ValueError, match="rho0 has dimension 3"):  # trajectory's parameter
        jt.trajectory(model, np.eye(3) / 3, jnp.zeros(4))
    with pytest.raises(ValueError, match="deltas must be finite"):
        jt.trajectory(model, np.eye(2) / 2, jnp.array([0.0, jnp.nan]))
    with pytest.raises(ValueError, match="rho must be finite|rho.*nan"):
        jt.collide(model, np.array([[np.nan, 0], [0, 0.5]]), 0.0)


def test_bad_model_parameters_are_named():
    with pytest.raises(ValueError, match="theta must be finite"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, np.nan)
    with pytest.raises(ValueError, match="beta must be finite"):
        jt.InhomogeneousReservoir(2, np.inf, 1.0, 0.1)
    with pytest.raises(ValueError, match="d=1"):
        jt.InhomogeneousReservoir(1, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="kind="):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, kind="pressure")
    with pytest.raises(ValueError, match="g_int"):
        jt.ExactUnitary(0.0)
    with pytest.raises(ValueError, match="theta must be a scalar or have shape"):
        jt.trajectory(jt.InhomogeneousReservoir(2, 1.0, 1.0, jnp.ones(3) * 0.1), np.eye(2) / 2, jnp.zeros(4))
    with pytest.raises(ValueError, match="theta: one collision needs a scalar"):
        jt.collide(jt.InhomogeneousReservoir(2, 1.0, 1.0, jnp.ones(3) * 0.1), np.eye(2) / 2, 0.0)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("beta", jnp.array([1.0, 2.0]), r"beta must be a scalar; got shape \(2,\) \(use jax.vmap or jt.sweep"),
        ("g0", [1.0, 2.0], r"g0 must be a scalar; got shape \(2,\)"),
        ("theta", np.zeros((0,)), r"theta must be a scalar or a non-empty \(N,\) schedule θ_r; got shape \(0,\)"),
        (
            "theta",
            np.full((2, 2), 0.1),
            r"theta must be a scalar or a non-empty \(N,\) schedule θ_r; got shape \(2, 2\)",
        ),
    ],
)
def test_model_parameters_of_the_wrong_shape_are_named_at_construction(field, value, message):
    """A (2,) β or g0 was taken, and every function then failed inside JAX ("scan body function carry input and
    carry output must have equal types", "Cannot concatenate arrays ...") or returned two values
    (entropy_production); an empty θ schedule failed as NumPy's "zero-size array to reduction operation
    maximum". A σ array is refused the same way (Gaussian); a scalar and an (N,) schedule θ_r pass."""
    params = dict(beta=1.0, g0=1.0, theta=0.1)
    with pytest.raises(ValueError, match=message):
        jt.InhomogeneousReservoir(2, **dict(params, **{field: value}))
    jt.InhomogeneousReservoir(2, **dict(params, theta=np.array([0.1, 0.2])))
    # traced values keep their checks for the functions that take them (jax.vmap over β: one model per member)
    betas = jnp.array([1.0, 2.0])
    law = jt.Gaussian(0.1)
    works = jax.vmap(
        lambda b: jt.mean_work(jt.InhomogeneousReservoir(2, b, 1.0, 0.3, distribution=law), np.eye(2) / 2)
    )(betas)
    assert works.shape == (2,) and np.all(np.isfinite(works))


def test_float32_states_pass_validation_with_their_own_rounding():
    """A float32 state whose trace is off by float32 rounding is accepted; a real error is not."""
    p = np.float32(1 / 3)
    rho32 = np.diag(np.array([p, p, np.float32(1) - 2 * p], dtype=np.float32))
    rho32[0, 0] += np.float32(3e-8)
    model = jt.InhomogeneousReservoir(3, 1.0, 1.0, 0.1)
    jt.collide(model, rho32, np.float32(0.01))
    with pytest.raises(ValueError, match="rho must have unit trace"):
        jt.collide(model, rho32 + np.float32(1e-3) * np.eye(3, dtype=np.float32), np.float32(0.01))
