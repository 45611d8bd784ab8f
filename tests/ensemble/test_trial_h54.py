"""Helper-54 trials: what users read from ensemble results after the run (summary.png edge cases)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt


def _summary(res, model):
    pytest.importorskip("matplotlib")
    pytest.importorskip("xarray")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    return summary._ensemble(pyplot(), res.to_xarray(model=model, attrs={"study": "ensemble"}))


def test_summary_of_one_configuration_and_one_collision_shows_its_values():
    """n_configs = 1, N = 1: every curve was one point drawn as a line (nothing visible: three empty
    panels), and the W_N panel, with var = NaN for one configuration, drew one bar of density 1.6e10 on
    a ±1e-9 axis (a histogram of rounding). Now the points carry markers and the panel states W_N."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, jnp.diag(jnp.array([1.0, 0.0])), 1, 1, alphas=(1.0,))
    fig = _summary(res, model)
    for panel in fig.axes[:3]:  # W, Q at r = 1; the divergences at r = 0 (ρ0, positive here) and r = 1
        drawn = panel.get_lines()
        assert drawn and all(len(line.get_xdata()) <= 2 for line in drawn)
        assert all(line.get_marker() not in ("None", None, "") for line in drawn)
    hist = fig.axes[3]
    assert not hist.patches  # no bar
    text = " ".join(t.get_text() for t in hist.texts)
    assert "the only configuration" in text
    # the value stated is W_1 of that configuration: ⟨W_N⟩ of a one-configuration run
    assert f"W_N = {float(res.mean_total_work):.6g} (in the unit of g0)" in text


def test_summary_density_counts_the_configurations_outside_the_bins():
    """The W_N bars were normalised to the configurations inside the edges, so that Σ density·width = 1
    even when some W_N lie outside: with a range holding about half of them the density was twice the
    true one. Now as Histogram.density: Σ density·width = (inside)/n_configs, the identity
    P(inside) + P(outside) = 1, and the title says how many lie outside."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = jnp.diag(jnp.array([1.0, 0.0]))
    n = 400
    full = jt.ensemble(model, rho0, 5, n, alphas=(1.0,))
    w = full.mean_total_work
    sd = float(np.sqrt(full.var_total_work))
    res = jt.ensemble(model, rho0, 5, n, alphas=(1.0,), work_range=(w, w + 4 * sd))  # about half above the mean
    h = res.work_histogram
    outside = h.underflow + h.overflow
    assert 0.3 * n < outside < 0.7 * n
    fig = _summary(res, model)
    bars = fig.axes[3].patches
    area = sum(b.get_height() * b.get_width() for b in bars)
    np.testing.assert_allclose(area, 1 - outside / n, rtol=1e-12)
    np.testing.assert_allclose([b.get_height() for b in bars], h.density, rtol=1e-12)
    assert f"{outside} of {n} configurations outside the bins" in fig.axes[3].get_title()


def _sweep_model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))


def test_sweep_at_finds_a_float32_grid_value_and_repeated_values_are_refused():
    """A float32 axis holds 0.1 as 0.100000001: at(theta=0.1) said "theta=0.1 is not on the grid
    [0.1, 0.2]" (compared in float64 with rtol 1e-12). A grid with a repeated value ran the point twice,
    and .at() found only the first; now ValueError naming grid['theta']."""
    rho0 = jt.thermal_state(2, 0.5, 1.0)
    grid = {"theta": np.array([0.1, 0.2], np.float32)}
    sw = jt.sweep(_sweep_model(), rho0, 3, 40, seed=1, grid=grid, alphas=(1.0,))
    # the point is the run at θ = float32(0.1), the value the grid holds
    single = jt.ensemble(_sweep_model().replace(theta=float(np.float32(0.1))), rho0, 3, 40, seed=1, alphas=(1.0,))
    np.testing.assert_allclose(sw.at(theta=0.1).mean_work, single.mean_work, rtol=1e-12)
    with pytest.raises(ValueError, match="not on the grid"):
        sw.at(theta=0.15)
    with pytest.raises(ValueError, match=r"grid\['theta'\].*repeated"):
        jt.sweep(_sweep_model(), rho0, 3, 40, grid={"theta": [0.1, 0.2, 0.1]})


def test_sweep_stack_of_a_grid_over_n_steps_names_the_field():
    """stack('mean_work') of a grid over N = 2, 3 failed in NumPy ("all input arrays must have the same
    shape"); now ValueError naming the field and the shapes."""
    sw = jt.sweep(_sweep_model(), jt.thermal_state(2, 0.5, 1.0), 3, 20, grid={"n_steps": [2, 3]}, alphas=(1.0,))
    assert sw.stack("mean_total_work").shape == (2,)  # scalars stack
    with pytest.raises(ValueError, match=r"field='mean_work'.*\(2,\), \(3,\)"):
        sw.stack("mean_work")


def test_sweep_xarray_attributes_do_not_give_the_base_value_of_a_scanned_parameter():
    """sweep.to_xarray(model=model) wrote model_theta = 0.3 and distribution_sigma = 0.2 (the base model's)
    on a Dataset over θ ∈ {0.1, 0.4}, σ ∈ {0.05, 0.1}: values of no grid point. Scanned parameters are now
    given by their coordinates only; unscanned ones stay."""
    pytest.importorskip("xarray")
    grid = {"theta": [0.1, 0.4], "sigma": [0.05, 0.1]}
    sw = jt.sweep(_sweep_model(), jt.thermal_state(2, 0.5, 1.0), 3, 20, grid=grid, alphas=(1.0,))
    ds = sw.to_xarray(model=_sweep_model())
    assert "model_theta" not in ds.attrs and "distribution_sigma" not in ds.attrs
    assert ds.attrs["model_beta"] == 1.0 and ds.attrs["model_g0"] == 1.0 and ds.attrs["distribution"] == "Gaussian"
    np.testing.assert_array_equal(ds.theta.values, grid["theta"])
    np.testing.assert_array_equal(ds.sigma.values, grid["sigma"])
    # each point's numbers are those of the run at its coordinates
    point = jt.ensemble(
        _sweep_model().replace(theta=0.4, distribution=jt.Gaussian(0.05)),
        jt.thermal_state(2, 0.5, 1.0),
        3,
        20,
        alphas=(1.0,),
    )
    np.testing.assert_allclose(ds.mean_work.sel(theta=0.4, sigma=0.05).values, point.mean_work, rtol=1e-12)


def test_standard_error_of_a_mean_without_a_variance_names_the_choices():
    """res.standard_error("state") raised AttributeError ("no attribute 'var_state'"), and so did
    standard_error("exp_minus_beta_work"), though the result keeps that standard error. Now the kept one is
    returned, equal to ensemble_mean's √(Var e^{−βW_N}/n) over the same configurations (β = 1), and a
    ValueError names the choices otherwise."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = jnp.diag(jnp.array([0.8, 0.2]))
    res = jt.ensemble(model, rho0, 1, 300, alphas=(1.0,), wrt="theta")
    # N = 1: W_1 of configuration i from the engine's own draw δ_i (one collision, closed form)
    mean_w = jt.ensemble_mean(model, rho0, 1, 300, stderr=True)
    np.testing.assert_allclose(res.standard_error("total_work"), mean_w.stderr, rtol=1e-10)
    np.testing.assert_array_equal(res.standard_error("exp_minus_beta_work"), res.stderr_exp_minus_beta_work)
    jar = jt.ensemble_mean(model, rho0, 1, 300, observable=lambda rho, w, q: jnp.exp(-w), stderr=True)
    np.testing.assert_allclose(res.standard_error("exp_minus_beta_work"), jar.stderr, rtol=1e-10)
    for target in (res, res.sensitivity["theta"]):
        with pytest.raises(ValueError, match=r"name='state'.*standard errors exist for \[.*'total_work'"):
            target.standard_error("state")


def test_ensemble_mean_refuses_alpha_and_quantum_for_an_observable_without_them():
    """ensemble_mean(..., observable="total_work", alpha=2.0) returned ⟨W_N⟩ and dropped alpha (and
    quantum) without a word; now ValueError naming it."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = jnp.diag(jnp.array([0.8, 0.2]))
    with pytest.raises(ValueError, match=r"alpha=2\.0: only observable=\"free_energy\""):
        jt.ensemble_mean(model, rho0, 2, 10, observable="total_work", alpha=2.0)
    with pytest.raises(ValueError, match=r"quantum=True: only observable=\"free_energy\""):
        jt.ensemble_mean(model, rho0, 2, 10, observable="total_heat", quantum=True)
    # the free energy takes both
    jt.ensemble_mean(model, rho0, 2, 10, observable="free_energy", alpha=2.0, quantum=True)


def test_summary_title_of_a_theta_schedule_fits_the_figure():
    """A θ schedule of 40 values was printed whole in the suptitle of summary.png, a 300-character line
    that ran off both edges and cut 'configurations, seed 0'; now 'θ = schedule of 40 (first … last)'
    and the line is broken at about 120 characters."""
    theta = np.linspace(0.05, 0.4, 40)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, jnp.asarray(theta), distribution=jt.Gaussian(0.05))
    res = jt.ensemble(model, jnp.diag(jnp.array([1.0, 0.0])), 40, 50, alphas=(1.0,))
    fig = _summary(res, model)
    title = fig._suptitle.get_text()
    assert "θ = schedule of 40 (0.05 … 0.4)" in title and "50 configurations, seed 0" in title
    assert max(len(line) for line in title.splitlines()) <= 125


def test_histogram_from_samples_refuses_complex_values_and_an_empty_range():
    """Histogram.from_samples binned the real parts of complex values between complex edges (only a
    ComplexWarning), and NumPy widened a range (y, y) to (y − ½, y + ½) without a word: edges nobody
    asked for. Now TypeError naming values, ValueError naming the range (y_range in
    single_collision_histogram)."""
    with pytest.raises(TypeError, match="values must be real"):
        jt.Histogram.from_samples(np.array([1 + 1j, 2 + 5j, 3]), bins=2)
    with pytest.raises(ValueError, match=r"range=\(1\.0, 1\.0\): must be \(lo, hi\) with finite lo < hi"):
        jt.Histogram.from_samples([1.0, 1.0], bins=4, range=(1.0, 1.0))
    with pytest.raises(ValueError, match="give range="):
        jt.Histogram.from_samples([0.1, np.nan], bins=4)
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.05))
    rho = jnp.diag(jnp.array([0.7, 0.3]))
    with pytest.raises(ValueError, match=r"y_range=\(0\.2, 0\.2\)"):
        jt.single_collision_histogram(model, rho, jax.random.key(0), 100, "work", 10, (0.2, 0.2))
    # a proper range: the counts of the values inside, the rest under/overflow (NaN with the overflow)
    h = jt.Histogram.from_samples([-1.0, 0.1, 0.6, 0.6, 2.0, np.nan], bins=2, range=(0.0, 1.0))
    assert h.counts.tolist() == [1, 2] and (h.underflow, h.overflow) == (1, 2)


def test_a_loaded_result_compares_equal_to_the_saved_one(tmp_path):
    """`load_result(path) == res` (the documented exact round trip) raised "The truth value of an array
    with more than one element is ambiguous" (the dataclass == compared arrays as tuples), for
    histograms and sweeps too. Now entry-by-entry equality, NaN rows (divergence_every) equal."""
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.2))
    rho0 = jt.thermal_state(2, 0.5, 1.0)
    res = jt.ensemble(model, rho0, 3, 20, divergence_every=2, alphas=(1.0,))
    assert np.isnan(res.mean_divergence[1]).all()  # a row not evaluated
    back = jt.load_result(jt.save_result(tmp_path / "r", res))
    assert back == res and not (back != res) and back.work_histogram == res.work_histogram
    nudged = dataclasses.replace(back, mean_work=np.nextafter(back.mean_work, np.inf))
    assert nudged != res
    other = dataclasses.replace(back.work_histogram, overflow=back.work_histogram.overflow + 1)
    assert other != res.work_histogram
    sw = jt.sweep(model, rho0, 3, 20, grid={"theta": [0.1, 0.2]}, alphas=(1.0,))
    assert jt.load_sweep(jt.save_sweep(tmp_path / "s", sw)) == sw
    assert jt.sweep(model, rho0, 3, 20, grid={"theta": [0.1, 0.3]}, alphas=(1.0,)) != sw
