"""Sweeps (one batched computation per N), save/load round trips, float32, bad input."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt


def _model(**kw):
    base = dict(d=2, beta=1.0, g0=1.0, theta=0.2, distribution=jt.Gaussian(0.05))
    base.update(kw)
    return jt.InhomogeneousReservoir(**base)


def _assert_results_equal(a, b):
    for f in dataclasses.fields(jt.EnsembleResult):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, jt.Histogram):
            for g in dataclasses.fields(jt.Histogram):
                np.testing.assert_array_equal(getattr(va, g.name), getattr(vb, g.name))
                assert np.asarray(getattr(va, g.name)).dtype == np.asarray(getattr(vb, g.name)).dtype
        elif f.name == "info":
            assert va.keys() == vb.keys()
            for k in va:
                np.testing.assert_array_equal(va[k], vb[k], err_msg=k)
        else:
            np.testing.assert_array_equal(va, vb, err_msg=f.name)
            assert np.asarray(va).dtype == np.asarray(vb).dtype, f.name


def test_sweep_points_equal_single_runs_and_round_trip(tmp_path):
    rho0 = np.diag([0.7, 0.3])
    grid = {"theta": [0.1, 0.4], "sigma": [0.02, 0.08], "n_steps": [5, 8]}
    sw = jt.sweep(_model(), rho0, 8, 300, seed=5, grid=grid, alphas=(1.0,), chunk_size=64)
    assert sw.shape == (2, 2, 2) and len(sw.results) == 8
    single = jt.ensemble(
        _model(theta=0.4, distribution=jt.Gaussian(0.08)), rho0, 5, 300, seed=5, alphas=(1.0,), chunk_size=64
    )
    point = sw.at(theta=0.4, sigma=0.08, n_steps=5)
    for name in ("mean_state", "mean_work", "var_work", "mean_divergence"):
        np.testing.assert_allclose(getattr(point, name), getattr(single, name), rtol=1e-12, atol=1e-18)
    total = sw.stack("mean_total_work")
    assert total.shape == (2, 2, 2)
    # larger σ and θ give more work (qubit: W̄ ≈ g0 q0'(0) σ² sin²θ per collision)
    assert np.all(np.diff(total, axis=1) > 0) and np.all(np.diff(total, axis=0) > 0)
    jt.save_sweep(tmp_path / "sweep.npz", sw)
    back = jt.load_sweep(tmp_path / "sweep.npz")
    assert list(back.axes) == list(sw.axes) and back.shape == sw.shape
    for name in sw.axes:
        np.testing.assert_array_equal(back.axes[name], sw.axes[name])
    for a, b in zip(sw.results, back.results):
        _assert_results_equal(a, b)
    with pytest.raises(ValueError, match="grid parameter 'width'"):
        jt.sweep(_model(), rho0, 5, 10, grid={"width": [0.1]})


def test_result_round_trip_coherent(tmp_path):
    rho0 = np.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    res = jt.ensemble(_model(), rho0, 6, 100, seed=9, alphas=(0.5, 1.0, float("inf")))
    jt.save_result(tmp_path / "r.npz", res)
    _assert_results_equal(res, jt.load_result(tmp_path / "r.npz"))


def test_float32_stays_float32_and_agrees_with_float64():
    rho0 = np.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    kw = dict(n_steps=100, n_configs=500, seed=1, alphas=(1.0, float("inf")))
    for model in (_model(), _model(d=3, theta=0.3)):
        r0 = rho0 if model.d == 2 else np.diag([0.5, 0.3, 0.2])
        r32 = jt.ensemble(model, r0, dtype=jnp.float32, **kw)
        r64 = jt.ensemble(model, r0, **kw)
        for name in ("mean_work", "var_work", "mean_heat", "mean_cumulative_work", "mean_divergence"):
            assert getattr(r32, name).dtype == np.float32, name
        assert r32.mean_state.dtype == np.complex64 and r32.work_histogram.edges.dtype == np.float32
        # measured (README/RESULTS): relative deviations ~1e-6; asserted with margin
        scale = np.max(np.abs(r64.mean_work))
        assert np.max(np.abs(r32.mean_work - r64.mean_work)) <= 2e-5 * scale
        assert np.max(np.abs(r32.mean_state - r64.mean_state)) <= 1e-5
        np.testing.assert_allclose(r32.mean_total_work, r64.mean_total_work, rtol=2e-5)
        np.testing.assert_allclose(r32.var_total_work, r64.var_total_work, rtol=1e-3)


def test_bad_input_names_the_parameter():
    rho0 = np.diag([0.5, 0.5])
    with pytest.raises(ValueError, match="distribution"):
        jt.ensemble(_model(distribution=None), rho0, 5, 10)
    with pytest.raises(ValueError, match="n_steps"):
        jt.ensemble(_model(), rho0, 0, 10)
    with pytest.raises(ValueError, match="n_configs"):
        jt.ensemble(_model(), rho0, 5, -3)
    with pytest.raises(ValueError, match="rho0"):
        jt.ensemble(_model(), np.diag([0.7, 0.7]), 5, 10)
    with pytest.raises(ValueError, match="theta"):
        jt.ensemble(_model(theta=np.ones(4)), rho0, 5, 10)
    with pytest.raises(ValueError, match="chunk_size"):
        jt.ensemble(_model(), rho0, 5, 10, chunk_size=0)
    with pytest.raises(ValueError, match="range"):
        jt.ensemble(_model(), rho0, 5, 10, work_range=(1.0, 0.0))


@pytest.mark.parametrize(
    "model, grid, match",
    [
        (_model(), {"n_steps": [3, 0]}, "n_steps"),
        (_model(theta=np.full(3, 0.2)), {"n_steps": [3, 4]}, "theta"),
    ],
)
def test_a_bad_grid_point_is_refused_before_any_point_runs(model, grid, match):
    """Grid points of different N run one after the other; a bad point of a later N was refused only
    once the earlier N had run (its work lost). Now every point is checked first: no chunk runs."""
    chunks = []
    with pytest.raises(ValueError, match=match):
        jt.sweep(model, np.diag([0.5, 0.5]), 3, 40, grid=grid, callback=lambda c, n: chunks.append(n))
    assert chunks == []


def test_theta_schedule():
    thetas = np.linspace(0.05, 0.5, 7)
    res = jt.ensemble(_model(theta=thetas), np.diag([0.9, 0.1]), 7, 400, alphas=())
    qbar = np.asarray(jt.inhomogeneous.averaged_reservoir_populations(_model(), jt.Gaussian(0.05)))
    expect = qbar[0] - (qbar[0] - 0.9) * np.concatenate([[1.0], np.cumprod(np.cos(thetas) ** 2)])
    # p0_r = Π c_l² p0 + Σ_k s_k² Π_{l>k} c_l² q0(δ_k): exact variance from Var q0(δ)
    q2 = jt.Gaussian(0.05).expectation(lambda dl: jt.inhomogeneous.reservoir_populations(_model(), dl)[:, 0] ** 2)
    var_q0 = float(q2) - qbar[0] ** 2
    c2, s2 = np.cos(thetas) ** 2, np.sin(thetas) ** 2
    var = [sum(s2[k] ** 2 * np.prod(c2[k + 1 : r] ** 2) for k in range(r)) * var_q0 for r in range(8)]
    assert np.all(np.abs(res.mean_state[:, 0, 0].real - expect) <= 5 * np.sqrt(np.asarray(var) / 400) + 1e-15)


def test_changing_parameter_values_does_not_recompile():
    from jaxthermo.ensemble import _engine

    rho0 = np.diag([0.6, 0.4])
    jt.ensemble(_model(), rho0, 5, 64, chunk_size=32, alphas=(1.0,))
    per_device = 32 // len(jax.devices())  # the chunk is split over every device (4 forced CPUs, or 1 GPU)
    fns = [v for k, v in _engine._COMPILED.items() if k[0] != "pilot" and k[1:3] == (per_device, 5)]
    assert fns
    sizes = [f._cache_size() for f in fns]
    jt.ensemble(
        _model(theta=0.33, beta=0.7, distribution=jt.Gaussian(0.2)), rho0, 5, 64, seed=3, chunk_size=32, alphas=(1.0,)
    )
    assert [f._cache_size() for f in fns] == sizes
