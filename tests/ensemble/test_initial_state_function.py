"""ρ0 as a function of the model (``jt.ensemble(model, lambda m: ..., wrt=...)``, docs/ensemble.md §5):
the streamed derivatives then include ρ0's dependence on the parameters, checked against central finite
differences of two runs at p ± h that start from ρ0(p ± h) (common random numbers: the same configurations);
a sweep starts every grid point from its own ρ0. Also ∂D_∞ of qutrits, whose tangent was lost under ``jit``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

INF = float("inf")
H = 1e-5  # central differences: truncation ~h², rounding ~ε/h, both < 1e-9 of these O(1) derivatives
FIELDS = (
    "mean_cumulative_work",
    "mean_heat",
    "mean_energy_change",
    "mean_state",
    "mean_divergence",
    "mean_state_divergence",
    "mean_state_thermal_trace_distance",
)


def thermal(m):
    return jt.thermal_state(m.d, m.beta, m.g0)


def coherent_thermal(m):
    """τ_S(β, g0) with a coherence that grows with g0 (a state for every g0 near 1)."""
    rho = thermal(m).astype(jnp.complex128)
    c = 0.04 * m.g0 * (1.0 + 0.5j)
    return rho + c * jnp.eye(m.d, k=1) + jnp.conj(c) * jnp.eye(m.d, k=-1)


def _model(d, **kw):
    return jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2), **kw)


def _moved(model, name, value):
    return model.replace(**{name: value})


def _assert_finite_difference(res, model, rho0, name, n_steps, n_configs, alphas, value):
    plus = jt.ensemble(_moved(model, name, value + H), rho0, n_steps, n_configs, alphas=alphas, divergence_every=1)
    minus = jt.ensemble(_moved(model, name, value - H), rho0, n_steps, n_configs, alphas=alphas, divergence_every=1)
    sens = res.sensitivity[name]
    for field in FIELDS:
        want = (np.asarray(getattr(plus, field)) - np.asarray(getattr(minus, field))) / (2 * H)
        got = np.asarray(getattr(sens, field))
        scale = np.max(np.abs(want)) + 1e-3
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * scale, err_msg=f"{name}: {field}")


@pytest.mark.parametrize(
    "d,rho0,coupling",
    [
        (2, thermal, None),  # the fused real-qubit path (u = p0 − 1 carried)
        (2, coherent_thermal, None),  # fused, coherent: closed-form 2×2 divergences
        (2, thermal, jt.ExactUnitary()),  # the generic collision of a qubit
        (3, coherent_thermal, None),  # qutrit, coherent: eigenvalues (d = 3 routine)
    ],
)
def test_derivatives_through_rho0_equal_finite_differences(d, rho0, coupling):
    model = _model(d, **({} if coupling is None else {"coupling": coupling}))
    n_steps, n_configs, alphas = 6, 300, (1.0, 2.0, INF)
    res = jt.ensemble(model, rho0, n_steps, n_configs, alphas=alphas, divergence_every=1, wrt=("beta", "g0", "theta"))
    for name in ("beta", "g0", "theta"):
        _assert_finite_difference(res, model, rho0, name, n_steps, n_configs, alphas, float(getattr(model, name)))
    # the derivative at fixed ρ0 differs (the check above can fail): ρ0 = τ_S(β, g0) moves
    fixed = jt.ensemble(
        model, rho0(model), n_steps, n_configs, alphas=alphas, divergence_every=1, wrt=("beta", "theta")
    )
    assert not np.allclose(fixed.sensitivity["beta"].mean_heat, res.sensitivity["beta"].mean_heat, rtol=1e-3)
    # θ does not move ρ0: the same derivative as at fixed ρ0
    np.testing.assert_allclose(
        fixed.sensitivity["theta"].mean_cumulative_work, res.sensitivity["theta"].mean_cumulative_work, atol=1e-15
    )
    # the plain statistics are those of the run from the array ρ0(model)
    np.testing.assert_array_equal(res.mean_cumulative_work, fixed.mean_cumulative_work)


def test_max_divergence_derivative_of_qutrits_equals_finite_differences():
    """∂⟨D_∞(ρ_S|r‖τ_S)⟩/∂θ of coherent qutrits: the tangent of the largest eigenvalue was 0 for some
    configurations under ``jit`` (jnp.maximum's tangent chosen by equality after XLA's recomputation):
    −0.642 against −0.678 from finite differences at N = 10, 1000 configurations."""
    model = _model(3)
    rho0 = coherent_thermal(model)
    alphas = (INF, 2.0)
    res = jt.ensemble(model, rho0, 10, 400, alphas=alphas, divergence_every=1, wrt=("theta",))
    plus = jt.ensemble(model.replace(theta=0.3 + H), rho0, 10, 400, alphas=alphas, divergence_every=1)
    minus = jt.ensemble(model.replace(theta=0.3 - H), rho0, 10, 400, alphas=alphas, divergence_every=1)
    want = (plus.mean_divergence - minus.mean_divergence) / (2 * H)
    np.testing.assert_allclose(res.sensitivity["theta"].mean_divergence, want, rtol=1e-6, atol=1e-9)


def test_sweep_starts_every_point_from_its_own_rho0():
    model = _model(2)
    n_steps, n_configs = 5, 200
    grid = {"beta": [0.5, 1.0], "theta": [0.2, 0.3]}
    sw = jt.sweep(model, thermal, n_steps, n_configs, grid=grid, wrt=("beta", "sigma"))
    for beta in grid["beta"]:
        for theta in grid["theta"]:
            point = model.replace(beta=beta, theta=theta)
            got = sw.at(beta=beta, theta=theta)
            np.testing.assert_allclose(got.mean_state[0], np.asarray(jt.thermal_state(2, beta, 1.0)), atol=1e-15)
            alone = jt.ensemble(point, thermal, n_steps, n_configs, wrt=("beta", "sigma"))
            np.testing.assert_allclose(got.mean_cumulative_work, alone.mean_cumulative_work, rtol=1e-12, atol=1e-15)
            for name in ("beta", "sigma"):
                for field in ("mean_heat", "mean_divergence", "mean_state"):
                    np.testing.assert_allclose(
                        getattr(got.sensitivity[name], field),
                        getattr(alone.sensitivity[name], field),
                        rtol=1e-10,
                        atol=1e-15,
                        err_msg=f"{name} {field}",
                    )


def test_sweep_over_beta_is_one_run_with_one_checkpoint_and_resumes(tmp_path, monkeypatch):
    """Points with different ρ0 (τ_S(β) of each β) run as one batch of the chunk program (ρ0 per grid point),
    so the grid streams over the configurations once and its checkpoint is one file, as with an array ρ0."""
    from jaxthermo.ensemble import _sweep

    batches = []
    run_grid = _sweep.run_grid
    monkeypatch.setattr(
        _sweep, "run_grid", lambda models, *a, **k: batches.append(len(models)) or run_grid(models, *a, **k)
    )
    model = _model(2)
    path = tmp_path / "sweep.npz"
    kw = dict(grid={"beta": [0.5, 1.0]}, wrt=("beta",), chunk_size=64)
    first = jt.sweep(model, thermal, 4, 300, checkpoint=path, **kw)
    assert batches == [2]
    assert sorted(p.name for p in tmp_path.glob("sweep*.npz")) == ["sweep.npz"]
    (tmp_path / "sweep.rho0_1.npz").write_bytes(b"")  # an earlier version's file per ρ0: named, left alone
    with pytest.warns(UserWarning, match=r"sweep.rho0_1.npz'\] hold a sweep .* does not resume those files"):
        again = jt.sweep(model, thermal, 4, 300, checkpoint=path, **kw)  # resumed from the finished file
    np.testing.assert_array_equal(again.stack("mean_cumulative_work"), first.stack("mean_cumulative_work"))
    np.testing.assert_array_equal(
        again.stack_sensitivity("beta", "mean_heat"), first.stack_sensitivity("beta", "mean_heat")
    )
    # each point from its own ρ0: the step-0 state and its derivative are those of τ_S(β)
    for beta in kw["grid"]["beta"]:
        point = first.at(beta=beta)
        np.testing.assert_allclose(point.mean_state[0], np.asarray(jt.thermal_state(2, beta, 1.0)), atol=1e-15)
        step = jt.thermal_state(2, beta + H, 1.0) - jt.thermal_state(2, beta - H, 1.0)
        np.testing.assert_allclose(point.sensitivity["beta"].mean_state[0], np.asarray(step) / (2 * H), atol=1e-9)


def test_sweep_over_beta_without_wrt_equals_each_points_run():
    """The plain program (the tile kernel on a GPU) with one coherent ρ0 per grid point: every point equals its
    own run from the array ρ0(point) to rounding, histograms identical (benchmarks/gpu_checks.sh runs it on a GPU)."""
    model = _model(2)
    grid = {"beta": [0.5, 2.0], "theta": [0.2, 0.3]}
    ranges = dict(work_range=(-1.0, 1.0), collision_work_range=(-0.3, 0.3), seed=3)  # the same edges at every point
    sw = jt.sweep(model, coherent_thermal, 8, 500, grid=grid, **ranges)
    for beta in grid["beta"]:
        for theta in grid["theta"]:
            point = model.replace(beta=beta, theta=theta)
            got, alone = sw.at(beta=beta, theta=theta), jt.ensemble(point, coherent_thermal(point), 8, 500, **ranges)
            for hist in ("work_histogram", "collision_work_histogram"):
                np.testing.assert_array_equal(getattr(got, hist).counts, getattr(alone, hist).counts, err_msg=hist)
            for field in ("mean_cumulative_work", "mean_state", "mean_divergence", "mean_exp_minus_beta_work"):
                want = np.asarray(getattr(alone, field))
                scale = np.max(np.abs(want[np.isfinite(want)]))
                np.testing.assert_allclose(getattr(got, field), want, rtol=0, atol=1e-11 * scale, err_msg=field)


def test_rho0_function_refusals():
    model = _model(2)
    with pytest.raises(ValueError, match="rho0"):  # not a state
        jt.ensemble(model, lambda m: jnp.eye(2), 3, 10)
    with pytest.raises(ValueError, match="rho0.*jax.numpy"):  # NumPy inside: no derivative through it

        def numpy_state(m):
            p = np.exp(-float(m.beta) * np.array([-0.5, 0.5]))
            return np.diag(p / p.sum())

        jt.ensemble(model, numpy_state, 3, 10, wrt=("beta",))
    with pytest.raises(ZeroDivisionError, match="rho0: the function of the model raised"):
        jt.ensemble(model, lambda m: 1 / 0, 3, 10)
    with pytest.raises(KeyError) as err:  # another type as it is, with a note
        jt.ensemble(model, lambda m: {}["rho"], 3, 10)
    assert "raised by rho0, the function of the model" in "".join(err.value.__notes__)
    with pytest.raises(ValueError, match=r"rho0 must be one state of shape \(2, 2\); got \(1, 2, 2\)"):
        jt.ensemble(model, thermal(model)[None], 3, 10)  # a stack of states is a sweep's, not a run's
    with pytest.raises(TypeError, match=r"jt.sweep got unexpected keyword arguments \['rho0_tangents'\]"):
        jt.sweep(model, thermal, 3, 10, grid={"beta": [1.0, 2.0]}, rho0_tangents=None)  # the sweep's own
    with pytest.raises(ValueError, match=r"grid point \(beta=-1.0\)"):  # named at the grid point
        jt.sweep(model, lambda m: jnp.eye(2) * m.beta / 2, 3, 10, grid={"beta": [1.0, -1.0]})


def test_a_qutip_state_is_a_state_not_a_function():
    """A ``Qobj`` is callable: it was taken for a function of the model (``rho0: the function of the model
    raised: Only defined for quantum objects``)."""
    qutip = pytest.importorskip("qutip")
    model = _model(2)
    rho0 = qutip.Qobj(np.asarray(jt.thermal_state(2, 1.0, 1.0)))
    res = jt.ensemble(model, rho0, 3, 64, wrt=("beta",))
    want = jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), 3, 64, wrt=("beta",))
    np.testing.assert_array_equal(res.sensitivity["beta"].mean_heat, want.sensitivity["beta"].mean_heat)
    sw = jt.sweep(model, rho0, 3, 64, grid={"theta": [0.1, 0.2]})
    assert sw.shape == (2,)


def test_a_checkpoint_at_fixed_rho0_is_not_resumed_with_rho0_moving(tmp_path):
    """The derivatives differ, so the runs do: the checkpoint is refused, and the study says why in its terms."""
    from jaxthermo.apps.study import checkpoint_mismatch_message
    from jaxthermo.ensemble import CheckpointMismatch

    model = _model(2)
    path = tmp_path / "run.npz"
    jt.ensemble(model, thermal(model), 3, 128, wrt=("beta",), checkpoint=path, chunk_size=64)
    with pytest.raises(CheckpointMismatch) as err:
        jt.ensemble(model, thermal, 3, 128, wrt=("beta",), checkpoint=path, chunk_size=64)
    assert list(err.value.differences) == ["rho0_tangents"]
    assert "ρ0's change under [run] wrt (a thermal [initial_state]): included here" in checkpoint_mismatch_message(
        err.value, True
    )
    # without wrt the two runs are the same run: it resumes (here: finds every configuration done)
    first = jt.ensemble(model, thermal(model), 3, 128, checkpoint=tmp_path / "plain.npz", chunk_size=64)
    again = jt.ensemble(model, thermal, 3, 128, checkpoint=tmp_path / "plain.npz", chunk_size=64)
    np.testing.assert_array_equal(again.mean_cumulative_work, first.mean_cumulative_work)
