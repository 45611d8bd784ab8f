"""Sensitivities on disk: ``save_result``/``load_result`` and ``save_sweep``/``load_sweep`` keep
``res.sensitivity`` (means and variances, hence standard errors) and ``res.delta_sensitivity`` exactly;
format-version-1 files (written before sensitivities were stored) still load; a run with ``wrt``
killed after a chunk resumes from its checkpoint to exactly the numbers of an uninterrupted run."""

from __future__ import annotations

import dataclasses
import importlib.util

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import FileFormatError, _files

N = 4
RHO0 = np.diag([0.7, 0.3])
WRT = ("theta", "sigma", "deltas")


def _model():
    # a θ schedule: its sensitivity fields carry a trailing (N,) axis, σ's do not
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, jnp.linspace(0.2, 0.5, N), distribution=jt.Gaussian(0.1))


def _assert_same_sensitivities(got, want):
    assert list(got.sensitivity) == list(want.sensitivity)
    for name, s in want.sensitivity.items():
        g = got.sensitivity[name]
        assert (g.name, g.n_configs) == (s.name, s.n_configs)
        for f in dataclasses.fields(s):
            np.testing.assert_array_equal(getattr(g, f.name), getattr(s, f.name), err_msg=f"{name}.{f.name}")
        for field in ("work", "total_work", "cumulative_work", "divergence"):
            np.testing.assert_array_equal(g.standard_error(field), s.standard_error(field), err_msg=field)
    assert got.delta_sensitivity.n_configs == want.delta_sensitivity.n_configs
    for field in ("mean_work", "var_work", "mean_free_energy", "var_free_energy"):
        np.testing.assert_array_equal(getattr(got.delta_sensitivity, field), getattr(want.delta_sensitivity, field))
    np.testing.assert_array_equal(
        got.delta_sensitivity.standard_error("free_energy"), want.delta_sensitivity.standard_error("free_energy")
    )


@pytest.fixture(scope="module")
def result():
    return jt.ensemble(_model(), RHO0, N, 120, seed=2, alphas=(1.0, float("inf")), chunk_size=40, wrt=WRT)


def test_result_file_keeps_sensitivities_and_standard_errors(tmp_path, result):
    assert result.sensitivity["theta"].mean_work.shape == (N, N)  # schedule axis last
    assert result.sensitivity["sigma"].mean_work.shape == (N,)
    loaded = jt.load_result(jt.save_result(tmp_path / "r", result))
    _assert_same_sensitivities(loaded, result)
    # the standard error is √(var/n) of the per-configuration derivative, n from the result
    se = loaded.sensitivity["sigma"].standard_error("total_work")
    assert se == np.sqrt(result.sensitivity["sigma"].var_cumulative_work[-1] / result.n_configs) > 0
    # a run with only "deltas" keeps its (empty) sensitivity dict
    only = jt.ensemble(_model(), RHO0, N, 30, seed=2, alphas=(2.0,), wrt=("deltas",))
    back = jt.load_result(jt.save_result(tmp_path / "d", only))
    assert back.sensitivity == {}
    np.testing.assert_array_equal(back.delta_sensitivity.mean_free_energy, only.delta_sensitivity.mean_free_energy)
    # without wrt nothing is stored and nothing comes back
    plain = jt.ensemble(_model(), RHO0, N, 30, seed=2, alphas=(1.0,))
    back = jt.load_result(jt.save_result(tmp_path / "p", plain))
    assert back.sensitivity is None and back.delta_sensitivity is None


def test_sweep_file_keeps_sensitivities(tmp_path):
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.4, distribution=jt.Gaussian(0.1))
    sw = jt.sweep(model, RHO0, 3, 60, seed=1, grid={"sigma": [0.05, 0.2]}, alphas=(2.0,), wrt=("theta", "deltas"))
    back = jt.load_sweep(jt.save_sweep(tmp_path / "s", sw))
    for a, b in zip(back.results, sw.results):
        _assert_same_sensitivities(a, b)
    np.testing.assert_array_equal(
        back.stack_sensitivity("theta", "mean_total_work"), sw.stack_sensitivity("theta", "mean_total_work")
    )
    if importlib.util.find_spec("xarray"):  # the sweep's Dataset: one point per sigma
        ds = sw.to_xarray()
        for i, point in enumerate(sw.results):
            _assert_sensitivities_in_dataset(ds.isel(sigma=i), point)


def _assert_sensitivities_in_dataset(ds, res):
    """Every derivative of ``res`` is a variable of the Dataset ``ds`` with the dims of its field (a θ
    schedule adds ``theta_entry``); complex ones as ``_real``/``_imag``."""
    for name, sens in res.sensitivity.items():
        for f in dataclasses.fields(sens):
            value = getattr(sens, f.name)
            if not isinstance(value, np.ndarray):
                continue
            key, plain = f"sensitivity_{name}_{f.name}", f.name
            if value.dtype.kind == "c":
                got = ds[key + "_real"].values + 1j * ds[key + "_imag"].values
                key, plain = key + "_real", plain + "_real"
            else:
                got = ds[key].values
            np.testing.assert_array_equal(got, value, err_msg=key)
            assert ds[key].dims[: ds[plain].ndim] == ds[plain].dims and ds[key].ndim == value.ndim, key
    for field, value in zip(res.delta_sensitivity._fields, res.delta_sensitivity):
        np.testing.assert_array_equal(ds[f"delta_sensitivity_{field}"].values, value, err_msg=field)


def test_to_xarray_keeps_sensitivities_through_netcdf(tmp_path, result):
    """to_xarray of a run with wrt holds its derivatives (they were dropped), and a netCDF round trip
    keeps them bit for bit."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    ds = result.to_xarray(model=_model())
    _assert_sensitivities_in_dataset(ds, result)
    assert ds["sensitivity_theta_mean_work"].dims == ("collision", "theta_entry")  # ∂⟨W_r⟩/∂θ_s
    assert ds["sensitivity_sigma_mean_work"].attrs["long_name"].startswith("∂/∂sigma of mean_work: mean work W_r")
    assert ds["sensitivity_sigma_mean_work"].attrs["units"] == "energy"  # σ is dimensionless
    assert ds["sensitivity_theta_var_work"].attrs["units"] == "energy^2/rad^2"
    np.testing.assert_array_equal(  # ∂⟨W_N⟩/∂σ: the last cumulative entry
        ds["sensitivity_sigma_mean_cumulative_work"].sel(collision=N).values,
        result.sensitivity["sigma"].mean_total_work,
    )
    path = tmp_path / "run.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        for key in ds.data_vars:
            np.testing.assert_array_equal(back[key].values, ds[key].values, err_msg=key)


def test_inconsistent_sensitivity_entries_are_refused(tmp_path, result):
    arrays = _files.result_arrays(result)
    path = str(tmp_path / "bad.npz")
    for key, value in (
        ("sensitivity/theta/mean_work", np.zeros((N, N + 1))),  # its parameter axis disagrees with the others
        ("sensitivity/sigma/mean_state", np.zeros((N, 2, 2))),  # one step short
        ("delta_sensitivity/mean_free_energy", np.zeros((N, 3))),  # three orders α for two
    ):
        _files._write(path, _files.RESULT, dict(arrays, **{key: value}))  # a valid checksum over bad contents
        with pytest.raises(FileFormatError, match=key.split("/")[0]) as err:
            jt.load_result(path)
        assert "bad.npz" in str(err.value)
    missing = {k: v for k, v in arrays.items() if k != "sensitivity/sigma/var_work"}
    _files._write(path, _files.RESULT, missing)
    with pytest.raises(FileFormatError, match="missing"):
        jt.load_result(path)


def test_version_1_files_still_load_and_unknown_versions_are_refused(tmp_path, monkeypatch):
    plain = jt.ensemble(_model(), RHO0, N, 30, seed=2, alphas=(1.0,))
    monkeypatch.setattr(_files, "FORMAT_VERSION", 1)  # the writer of version 1: no sensitivity entries
    old = jt.save_result(tmp_path / "v1", plain)
    monkeypatch.setattr(_files, "FORMAT_VERSION", 3)
    new = jt.save_result(tmp_path / "v3", plain)
    monkeypatch.undo()
    with np.load(old) as z:
        assert int(z["__version__"]) == 1 and not [k for k in z.files if "sensitivity" in k]
    loaded = jt.load_result(old)
    np.testing.assert_array_equal(loaded.mean_work, plain.mean_work)
    assert loaded.sensitivity is None and loaded.delta_sensitivity is None
    with pytest.raises(FileFormatError, match="version 3"):
        jt.load_result(new)


class _Killed(Exception):
    pass


def test_checkpoint_with_wrt_resumes_midway_to_the_uninterrupted_numbers(tmp_path, result):
    ck = tmp_path / "run.npz"
    kw = dict(alphas=(1.0, float("inf")), chunk_size=40, wrt=WRT, checkpoint=ck)  # 3 chunks

    def die_after_first(chunk, done):
        if chunk == 0:
            raise _Killed

    with pytest.raises(_Killed):
        jt.ensemble(_model(), RHO0, N, 120, seed=2, callback=die_after_first, **kw)
    with np.load(ck) as z:
        assert int(z["chunks_done"]) == 1
    computed = []
    resumed = jt.ensemble(_model(), RHO0, N, 120, seed=2, callback=lambda c, n: computed.append(c), **kw)
    assert computed == [1, 2] and resumed.info["chunks_resumed"] == 1
    _assert_same_sensitivities(resumed, result)  # the uninterrupted run (same chunking)
    np.testing.assert_array_equal(resumed.mean_work, result.mean_work)
