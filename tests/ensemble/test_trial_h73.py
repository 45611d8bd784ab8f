"""Results of the ensemble engine (helper-73): the gradient of ``ensemble_mean``'s standard error at zero
spread, ``sweep_to_xarray`` over several N (one route for the API and ``jaxthermo run``), coordinates
with long names and units, and model attributes of more than one dimension through netCDF."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

RHO0 = np.diag([0.6, 0.4])


def _model(**kw):
    base = dict(d=2, beta=1.0, g0=1.0, theta=0.3, distribution=jt.Gaussian(0.1))
    base.update(kw)
    return jt.InhomogeneousReservoir(**base)


def _stderr(model, rho0=RHO0, n_steps=4, n_configs=64, **kw):
    return jt.ensemble_mean(model, rho0, n_steps, n_configs, seed=3, stderr=True, **kw).stderr


# ------------------------------------------------------------------ gap 1: d stderr at zero spread


def test_stderr_gradient_is_finite_at_zero_spread():
    """The temperature kind does no work: W_N = 0 in every configuration (docs/inhomogeneous.md §1,
    g_r = g0), so the standard error of ⟨W_N⟩ is 0 for every θ, σ — its derivative is 0. √ at 0 gave
    NaN in reverse and forward mode."""
    model = _model(kind="temperature")
    assert float(_stderr(model)) == 0.0
    g = jax.grad(_stderr)(model)
    assert float(g.theta) == 0.0 and float(g.distribution.sigma) == 0.0 and float(g.beta) == 0.0
    jf = jax.jacfwd(lambda t: _stderr(model.replace(theta=t)))(jnp.float64(0.3))
    assert float(jf) == 0.0


def test_stderr_gradient_equals_finite_differences_where_the_spread_is_positive():
    """Where the values spread, the derivative of s/√n is the ordinary one: central differences on the
    same configurations (same seed, common random numbers) of the float64 standard error."""
    model = _model()

    def f(theta, sigma):
        return _stderr(model.replace(theta=theta, distribution=jt.Gaussian(sigma)))

    theta, sigma, h = 0.3, 0.1, 1e-5
    g = jax.grad(f, argnums=(0, 1))(jnp.float64(theta), jnp.float64(sigma))
    fd_theta = (f(theta + h, sigma) - f(theta - h, sigma)) / (2 * h)
    fd_sigma = (f(theta, sigma + h) - f(theta, sigma - h)) / (2 * h)
    assert float(f(theta, sigma)) > 0
    np.testing.assert_allclose(float(g[0]), float(fd_theta), rtol=1e-6)
    np.testing.assert_allclose(float(g[1]), float(fd_sigma), rtol=1e-6)


# ------------------------------------------------------------------ gap 2: a grid over several N


def _assert_point_equals_own_dataset(ds, sweep, **where):
    point = sweep.at(**where)
    own = point.to_xarray()
    n = point.n_steps
    sel = ds.sel(**where).isel(collision=slice(0, n), step=slice(0, n + 1))
    for name in own.data_vars:
        got, want = sel[name], own[name]
        assert got.dims == want.dims, name
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got.values, want.values, err_msg=name)
    for name in ("collision", "step", "alpha"):
        np.testing.assert_array_equal(sel[name].values, own[name].values)
    # past the point's own N: NaN, and the variable says so
    rest = ds.sel(**where).isel(collision=slice(n, None))
    assert bool(np.isnan(rest.mean_work).all()) and bool(np.isnan(ds.sel(**where).mean_state_real[n + 1 :]).all())


@pytest.fixture(scope="module")
def several_n():
    """A sweep over θ and two N (one batch per N)."""
    pytest.importorskip("xarray")
    grid = {"theta": [0.2, 0.5], "n_steps": [2, 4]}
    sw = jt.sweep(_model(), RHO0, 4, 16, seed=2, grid=grid, alphas=(1.0, 2.0))
    return grid, sw


def test_sweep_over_several_n_steps_is_one_dataset_equal_to_each_point(tmp_path, several_n):
    """``sweep_to_xarray`` refused a grid over several N (``jaxthermo run`` padded it on its own route);
    now every point of the Dataset is that point's own ``.to_xarray()``, NaN past its N, through netCDF."""
    xr = pytest.importorskip("xarray")
    grid, sw = several_n
    ds = sw.to_xarray(model=_model(), attrs={"study": "sweep"})
    assert ds.mean_work.dims == ("theta", "n_steps", "collision") and ds.sizes["collision"] == 4
    for theta in grid["theta"]:
        for n in grid["n_steps"]:
            _assert_point_equals_own_dataset(ds, sw, theta=theta, n_steps=n)
    assert "NaN past" in ds.mean_work.attrs["padding"] and ds.attrs["padded_to_n_steps"] == 4
    assert "n_steps" not in ds.attrs  # the first point's N (2) described no point of N = 4
    # every coordinate named, with its unit
    for name in ds.coords:
        assert ds[name].attrs.get("long_name") and ds[name].attrs.get("units"), name
    path = tmp_path / "s.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        for name in ds.variables:
            np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
            assert back[name].dtype == ds[name].dtype, name
        assert back.n_steps.attrs == ds.n_steps.attrs and back.attrs["grid"] == "theta,n_steps"


def test_study_sweep_dataset_is_the_library_dataset(several_n):
    """``jaxthermo run``'s sweep Dataset is ``SweepResult.to_xarray`` (one route): its own padding left the
    ``n_steps`` coordinate without a long name."""
    from jaxthermo.apps.study import sweep_dataset

    _, sw = several_n
    ds = sweep_dataset(sw, _model(), {"study": "sweep"})
    assert ds.n_steps.attrs["long_name"] == "number of collisions N"
    assert ds.identical(sw.to_xarray(model=_model(), attrs={"study": "sweep"}))


# ------------------------------------------------------------------ gap 3: matrices among the model's fields


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class _HamiltonianCoupling(jt.Coupling):
    """U = exp(−iθH) with a Hermitian (d², d²) H: a coupling whose field is a complex matrix."""

    h: jnp.ndarray

    def unitary(self, model, theta, delta):
        return jax.scipy.linalg.expm(-1j * theta * jnp.asarray(self.h).astype(jnp.result_type(theta, 1j)))


def test_matrix_attributes_come_back_with_their_shape_through_netcdf(tmp_path):
    """A (4, 4) complex coupling matrix was written as its string (``str(array)``), a real (4, 4) one flat
    without its shape; now flat with ``_shape`` and real/imaginary parts, and ``attr_array`` restores it
    exactly after a netCDF round trip."""
    xr = pytest.importorskip("xarray")
    from jaxthermo.ensemble import attr_array

    rng = np.random.default_rng(7)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    h = (a + a.conj().T) / 2
    model = _model(coupling=_HamiltonianCoupling(h))
    res = jt.ensemble(model, RHO0, 2, 8, alphas=(1.0,))
    real = np.real(h)
    ds = res.to_xarray(model=model, attrs={"hamiltonian": real, "flag": True})
    path = tmp_path / "r.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        got = attr_array(back.attrs, "model_coupling_h")
        assert got.shape == (4, 4) and got.dtype == np.complex128
        np.testing.assert_array_equal(got, h)
        np.testing.assert_array_equal(attr_array(back.attrs, "hamiltonian"), real)
        assert int(back.attrs["flag"]) == 1 and float(back.attrs["model_theta"]) == 0.3


def test_variable_units_are_those_of_a_change_of_energy_unit():
    """Every variable states its unit (they had long names only). Checked by dimensional analysis: g0 → 2g0,
    β → β/2 leaves βg0, θ and δ, hence every dimensionless number, as it is (docs/inhomogeneous.md §1:
    τ(δ) and U(θ) depend on βg0(1 + δ) and θ only), so a variable in energy^p must scale by exactly 2^p,
    one in nat, dimensionless or count not at all."""
    pytest.importorskip("xarray")
    scale = {"energy": 2.0, "energy^2": 4.0, "nat": 1.0, "nat^2": 1.0, "dimensionless": 1.0, "count": 1.0}
    kw = dict(n_steps=3, n_configs=32, seed=5, alphas=(0.5, 2.0))
    a = jt.ensemble(_model(beta=1.0, g0=1.0), RHO0, **kw).to_xarray()
    b = jt.ensemble(_model(beta=0.5, g0=2.0), RHO0, **kw).to_xarray()
    for name in a.data_vars:
        unit = a[name].attrs["units"]
        if unit.startswith("energy^k"):  # k-statistics k2, k3, k4 of W_N and Q_N
            factor = 2.0 ** a[name].cumulant.values
        else:
            factor = scale[unit]
        np.testing.assert_allclose(b[name].values, factor * a[name].values, rtol=1e-12, atol=1e-300, err_msg=name)
