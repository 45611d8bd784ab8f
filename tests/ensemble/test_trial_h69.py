"""Sweeps (helper-69): grid coordinates labelled in the xarray export; a bad grid value, a bad grid
point, a grid that is not a dict and an unknown keyword refused naming the grid, before any run."""

import re

import numpy as np
import pytest

import jaxthermo as jt

RHO0 = np.diag([0.6, 0.4])


def _model(**kw):
    base = dict(d=2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
    base.update(kw)
    return jt.InhomogeneousReservoir(**base)


def test_sweep_xarray_coordinates_have_values_names_and_units():
    pytest.importorskip("xarray")
    grid = {"beta": [2.0, 0.5], "theta": [0.2, 0.7], "sigma": [0.05]}
    sw = jt.sweep(_model(), RHO0, 2, 16, seed=1, grid=grid, alphas=(1.0,))
    ds = sw.to_xarray(model=_model())
    assert ds.mean_work.dims == ("beta", "theta", "sigma", "collision")
    for name, values in grid.items():  # grid order kept, values as given
        np.testing.assert_array_equal(ds[name].values, values)
    # each label selects the point run with those parameters
    for b in grid["beta"]:
        for t in grid["theta"]:
            point = sw.at(beta=b, theta=t, sigma=0.05)
            np.testing.assert_array_equal(ds.mean_work.sel(beta=b, theta=t, sigma=0.05).values, point.mean_work)
    # units as docs/inhomogeneous.md §1 and the file's own "units" attribute: β in 1/energy, θ an angle, σ of δ_r pure
    assert ds["beta"].attrs["units"] == "1/energy" and "inverse temperature" in ds["beta"].attrs["long_name"]
    assert ds["theta"].attrs["units"] == "rad" and "θ" in ds["theta"].attrs["long_name"]
    assert ds["sigma"].attrs["units"] == "dimensionless" and "σ" in ds["sigma"].attrs["long_name"]
    assert "(1…N)" in ds["collision"].attrs["long_name"] and "ρ0" in ds["step"].attrs["long_name"]
    assert "Rényi" in ds["alpha"].attrs["long_name"]
    single = sw.results[0].to_xarray()
    assert single["step"].attrs == ds["step"].attrs
    # W is the work on system + reservoir qudit (docs/conventions.md §8), not the system's ΔU: the file says so
    for name in ("mean_work", "var_work"):
        assert "system + reservoir qudit" in ds[name].attrs["long_name"]
        assert "done on the system in" not in ds[name].attrs["long_name"]


def test_sweep_xarray_labels_g0_width_and_n_steps():
    pytest.importorskip("xarray")
    model = _model(distribution=jt.Uniform(0.2))
    sw = jt.sweep(model, RHO0, 2, 16, grid={"g0": [1.0, 1.5], "width": [0.1], "n_steps": [2]}, alphas=())
    ds = sw.to_xarray()
    assert ds["g0"].attrs["units"] == "energy" and ds["width"].attrs["units"] == "dimensionless"
    assert ds["n_steps"].attrs["long_name"] == "number of collisions N"


@pytest.mark.parametrize(
    "grid, pattern",
    [
        ({"theta": [0.1, np.nan]}, r"grid\['theta'\] = nan: theta must be finite"),
        ({"sigma": [0.1, -0.1]}, r"grid\['sigma'\] = -0.1: sigma=-0.1"),
        ({"beta": [1.0, np.inf]}, r"grid\['beta'\] = inf: "),
    ],
)
def test_bad_grid_value_is_named(grid, pattern):
    with pytest.raises(ValueError, match=pattern):
        jt.sweep(_model(), RHO0, 3, 16, grid=grid)


@pytest.mark.parametrize("grid", [{"n_steps": [True, 4]}, {"theta": [True, 0.5]}, {"sigma": [np.False_, 0.1]}])
def test_a_boolean_grid_value_is_refused_naming_the_key(grid):
    """A bool among a grid's numbers became 1 or 0 in np.asarray (N = 1, θ = 1 rad, σ = 0 were run), where
    jt.ensemble's n_steps, the model's θ and a TOML grid refuse it."""
    (name,) = grid
    with pytest.raises(TypeError, match=rf"grid\['{name}'\] = .*: booleans are not parameter values"):
        jt.sweep(_model(), RHO0, 3, 16, grid=grid)


def test_bad_grid_point_is_named():
    # a θ schedule of 3 entries holds for N = 3 only: the point N = 4 is named (not only "schedule of shape (4,)")
    model = _model(theta=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"grid point \(sigma=0.2, n_steps=4\): theta must be a scalar or a schedule"):
        jt.sweep(model, RHO0, 3, 16, grid={"sigma": [0.2], "n_steps": [3, 4]})


def test_grid_not_a_dict_and_unknown_keyword_refused():
    with pytest.raises(TypeError, match=r"grid: a dict"):  # was AttributeError: 'list' object has no attribute 'items'
        jt.sweep(_model(), RHO0, 3, 16, grid=[("theta", [0.1, 0.2])])
    with pytest.raises(TypeError, match=r"jt.sweep got unexpected keyword arguments \['n_bins'\]"):  # named run_grid()
        jt.sweep(_model(), RHO0, 3, 16, grid={"theta": [0.1]}, n_bins=32)


def test_at_takes_the_nearest_grid_value():
    # both values lie within at()'s tolerance of each other (1e-12 relative): at() returned the first for both
    grid = {"theta": [0.3, 0.3 + 1e-13]}
    sw = jt.sweep(_model(), RHO0, 2, 16, grid=grid, alphas=())
    assert sw.at(theta=0.3) is sw.results[0]
    assert sw.at(theta=0.3 + 1e-13) is sw.results[1]


def test_to_xarray_refuses_a_model_that_does_not_describe_the_result():
    """to_xarray(model=...) wrote the given model's parameters as attributes whatever it was: a d = 3 Uniform model
    on a qubit run with a Gaussian law gave model_d = 3 and distribution = 'Uniform' beside 2×2 states; a sweep over
    σ passed a Uniform model got distribution_width beside its sigma coordinate. Checked as far as the result can
    tell (d, a θ schedule's length, a scanned field, τ̄ of β, g0, kind and law), naming model; the run's own model
    (and the same model for a float32 run) passes."""
    pytest.importorskip("xarray")
    model = _model()
    result = jt.ensemble(model, RHO0, 4, 32, alphas=())
    assert result.to_xarray(model=model).attrs["model_beta"] == model.beta
    jt.ensemble(model, RHO0.astype(np.complex64), 4, 32, alphas=()).to_xarray(model=model)
    bad = {
        "d=3, but the result's states are 2×2": jt.InhomogeneousReservoir(
            3, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.2)
        ),
        "averaged reservoir state": model.replace(beta=2.0),
        "a θ schedule of 2 collisions for a run of N = 4": model.replace(theta=np.array([0.1, 0.2])),
    }
    for message, other in bad.items():
        with pytest.raises(ValueError, match=rf"model: .*{re.escape(message)}"):
            result.to_xarray(model=other)
    with pytest.raises(TypeError, match="model: the jt.InhomogeneousReservoir the result was run with; got str"):
        result.to_xarray(model="x")
    sweep = jt.sweep(model, RHO0, 3, 16, grid={"sigma": [0.1, 0.2]}, alphas=())
    assert sweep.to_xarray(model=model).attrs["distribution"] == "Gaussian"
    with pytest.raises(ValueError, match="model: the sweep scans 'sigma', not a field of the model's law Uniform"):
        sweep.to_xarray(model=model.replace(distribution=jt.Uniform(0.3)))
