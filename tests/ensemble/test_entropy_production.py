"""The ensemble's entropy per collision (docs/inhomogeneous.md §9): the entropy flow β_r Q_r (streamed for the
temperature kind, β times the heat for the Hamiltonian kind) against NumPy over the same configurations' trajectories,
and the mean entropy production ⟨ΔS_r⟩ (through the frozen ⟨D_1⟩) against ``entropy_production`` of each collision's
full joint state S(ρ'_SR ‖ ρ'_S ⊗ τ(δ_r)), an independent route, on the same configurations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import _files

N, N_CONFIGS, SEED = 12, 200, 3


def _model(d, kind, theta=0.3):
    return jt.InhomogeneousReservoir(d, beta=1.0, g0=1.0, theta=theta, kind=kind, distribution=jt.Gaussian(0.1))


def _rho0(d, coherent):
    p = np.linspace(1.0, 2.0, d)
    rho = np.diag(p / p.sum()).astype(complex)
    if coherent:
        rho[0, 1] = rho[1, 0] = 0.1
    return rho


def _per_configuration(model, rho0):
    """β_r Q_r and ΔS_r (n, N) of configurations 0…n − 1 (their δ's as docs/ensemble.md §1 defines them), by
    trajectories and each collision's joint state."""
    keys = [jax.random.fold_in(jax.random.key(SEED), i) for i in range(N_CONFIGS)]
    draws = jnp.stack([model.distribution.sample(k, (N,)) for k in keys])

    def one(deltas):
        traj = jt.trajectory(model, rho0, deltas)
        beta_r = model.beta * (1 + deltas) if model.kind == "temperature" else model.beta  # docs/inhomogeneous.md §1
        ds = jax.vmap(lambda rho, delta: jt.entropy_production(model, rho, delta))(traj.states[:-1], deltas)
        return beta_r * traj.heat, ds

    flow, ds = jax.jit(jax.vmap(one))(draws)
    return np.asarray(flow), np.asarray(ds)


@pytest.mark.parametrize(
    "d, coherent, kind",
    [(2, False, "hamiltonian"), (2, True, "temperature"), (2, False, "temperature"), (3, True, "temperature")],
)
def test_entropy_flow_and_production_against_each_collision(d, coherent, kind):
    """Same configurations, two routes: the streamed or derived flow against NumPy's mean and unbiased variance,
    ⟨ΔS_r⟩ and its running sum against the joint states' relative entropies (rounding ~1e-16 on values ~1e-2), in
    one chunk and in chunks of 64 (merged moments: the same numbers to rounding); every ΔS_r ≥ 0."""
    model, rho0 = _model(d, kind), _rho0(d, coherent)
    flow, ds = _per_configuration(model, rho0)
    for chunk in (None, 64):
        res = jt.ensemble(model, rho0, N, N_CONFIGS, seed=SEED, chunk_size=chunk, divergence_every=1)
        np.testing.assert_allclose(res.mean_entropy_flow, flow.mean(0), rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(res.var_entropy_flow, flow.var(0, ddof=1), rtol=1e-9)
        np.testing.assert_allclose(res.mean_entropy_production, ds.mean(0), rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(res.mean_cumulative_entropy_production, ds.cumsum(1).mean(0), rtol=1e-11, atol=1e-14)
        # each configuration's ΔS_1 + … + ΔS_N, from its final state: mean and unbiased variance
        np.testing.assert_allclose(res.mean_total_entropy_production, ds.sum(1).mean(), rtol=1e-11)
        np.testing.assert_allclose(res.var_total_entropy_production, ds.sum(1).var(ddof=1), rtol=1e-8)
        np.testing.assert_allclose(
            res.standard_error("total_entropy_production"), ds.sum(1).std(ddof=1) / np.sqrt(N_CONFIGS), rtol=1e-8
        )
    assert np.all(ds >= 0) and np.all(res.mean_entropy_production > 0)
    if kind == "temperature":  # β_r = β(1 + δ_r): not β times the heat
        assert np.max(np.abs(res.mean_entropy_flow - res.mean_heat)) > 1e-3 * np.max(np.abs(res.mean_heat))


def test_kinds_share_the_production_not_the_flow():
    """The two kinds' reservoir qudits have the same states (β_r g_r = βg0(1 + δ_r)), so the same ΔS_r, while the flow
    is βQ_r for one and β(1 + δ_r)Q_r for the other: the production through the streamed flow (temperature) and through
    the work (Hamiltonian, βW_r − ΔD_1) agree to rounding."""
    rho0 = _rho0(2, True)
    ham, tem = (jt.ensemble(_model(2, k), rho0, N, N_CONFIGS, seed=SEED) for k in ("hamiltonian", "temperature"))
    np.testing.assert_allclose(tem.mean_entropy_production, ham.mean_entropy_production, rtol=1e-11)
    np.testing.assert_allclose(ham.mean_entropy_flow, 1.0 * ham.mean_heat, rtol=1e-15)
    np.testing.assert_allclose(ham.var_entropy_flow, ham.var_heat, rtol=1e-15)
    k = list(ham.alphas).index(1.0)
    np.testing.assert_allclose(
        ham.mean_entropy_production, ham.mean_work - np.diff(ham.mean_divergence[:, k]), rtol=1e-12, atol=1e-16
    )


def test_divergence_stride_and_missing_order():
    """With D_1 every k collisions the per-collision production is NaN where D_1 of step r or r − 1 is missing and the
    running sum exact (the k = 1 values) wherever D_1 of step r was evaluated; without α = 1 neither is reported, the
    flow still is."""
    model, rho0 = _model(3, "temperature"), _rho0(3, True)
    every = jt.ensemble(model, rho0, N, 64, seed=SEED, divergence_every=1)
    strided = jt.ensemble(model, rho0, N, 64, seed=SEED, divergence_every=4)
    r = np.arange(1, N + 1)
    evaluated = (r % 4 == 0) | (r == N)
    assert np.all(np.isnan(strided.mean_entropy_production))  # no two consecutive steps evaluated at k = 4
    assert np.array_equal(np.isfinite(strided.mean_cumulative_entropy_production), evaluated)
    np.testing.assert_allclose(
        strided.mean_cumulative_entropy_production[evaluated],
        every.mean_cumulative_entropy_production[evaluated],
        rtol=1e-12,
    )
    none = jt.ensemble(model, rho0, N, 64, seed=SEED, alphas=(2.0,))
    assert none.mean_entropy_production is None and none.mean_cumulative_entropy_production is None
    np.testing.assert_array_equal(none.mean_entropy_flow, every.mean_entropy_flow)
    # the total ΔS_1 + … + ΔS_N comes from each configuration's final state whatever the α's and the stride
    for other in (strided, none, jt.ensemble(model, rho0, N, 64, seed=SEED, alphas=())):
        np.testing.assert_allclose(other.mean_total_entropy_production, every.mean_total_entropy_production, rtol=1e-12)
        np.testing.assert_allclose(other.var_total_entropy_production, every.var_total_entropy_production, rtol=1e-10)
    np.testing.assert_allclose(
        every.mean_total_entropy_production, every.mean_cumulative_entropy_production[-1], rtol=1e-12
    )


def test_saved_loaded_and_older_files(tmp_path):
    """The entropies survive save/load exactly and reach xarray in nats; a file written before they existed (its
    arrays without them) loads with them None, and a wrong shape is refused naming the entry."""
    res = jt.ensemble(_model(2, "temperature"), _rho0(2, True), N, 64, seed=SEED)
    back = jt.load_result(jt.save_result(tmp_path / "r", res))
    assert back == res
    np.testing.assert_array_equal(back.mean_entropy_production, res.mean_entropy_production)
    arrays = _files.result_arrays(res)
    older = {k: v for k, v in arrays.items() if "entropy" not in k}
    old = _files.result_from_arrays(older, cls=jt.EnsembleResult)
    assert old.mean_entropy_flow is None and old.mean_entropy_production is None
    assert old.mean_total_entropy_production is None and old.var_total_entropy_production is None
    assert back.var_total_entropy_production == res.var_total_entropy_production > 0
    bad = dict(arrays, mean_entropy_production=arrays["mean_entropy_production"][:-1])
    with pytest.raises(_files.FileFormatError, match="mean_entropy_production"):
        _files.result_from_arrays(bad, cls=jt.EnsembleResult)
    bad = dict(arrays, var_total_entropy_production=np.ones(2))
    with pytest.raises(_files.FileFormatError, match="var_total_entropy_production"):
        _files.result_from_arrays(bad, cls=jt.EnsembleResult)
    xr = pytest.importorskip("xarray")
    ds = res.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["mean_entropy_production"].dims == ("collision",)
    assert ds["mean_entropy_production"].attrs["units"] == "nat" and ds["var_entropy_flow"].attrs["units"] == "nat^2"
    np.testing.assert_array_equal(ds["mean_entropy_flow"].values, res.mean_entropy_flow)
    assert (
        ds["var_total_entropy_production"].dims == () and ds["var_total_entropy_production"].attrs["units"] == "nat^2"
    )
    assert float(ds["mean_total_entropy_production"]) == res.mean_total_entropy_production


@pytest.mark.parametrize("removed", [("entropy_flow.",), ("entropy_flow.", "total_entropy_production.")])
def test_checkpoint_of_an_earlier_version_resumes(tmp_path, removed):
    """A temperature-kind checkpoint written before the entropy flow (and before the total production) was streamed
    (this run's file with those entries removed, checksum rewritten) resumes: the finished chunk is kept, the
    statistics are those of an uninterrupted run of the same chunking, and what the first chunk lacks is None (not
    the later chunks' alone)."""
    model, rho0 = _model(2, "temperature"), _rho0(2, False)
    path = tmp_path / "ckpt.npz"
    run = dict(seed=SEED, chunk_size=64, checkpoint=path)

    def stop(chunk, done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jt.ensemble(model, rho0, N, N_CONFIGS, callback=stop, **run)
    arrays = _files._read(path, _files.CHECKPOINT, "checkpoint")
    assert any(k.startswith("entropy_flow.") for k in arrays)
    older = {k: v for k, v in arrays.items() if not k.startswith((*removed, "__"))}
    _files._write(path, _files.CHECKPOINT, older)
    resumed = jt.ensemble(model, rho0, N, N_CONFIGS, **run)
    whole = jt.ensemble(model, rho0, N, N_CONFIGS, seed=SEED, chunk_size=64)
    assert int(resumed.n_configs) == N_CONFIGS
    for name in ("mean_work", "mean_heat", "var_heat", "mean_divergence", "mean_state"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(whole, name), err_msg=name)
    assert resumed.mean_entropy_flow is None and resumed.mean_entropy_production is None
    assert whole.mean_entropy_flow is not None
    total = resumed.mean_total_entropy_production
    if len(removed) == 2:
        assert total is None and resumed.var_total_entropy_production is None
    else:
        np.testing.assert_allclose(total, whole.mean_total_entropy_production, rtol=1e-14)


def test_sweep_points_are_single_runs():
    """A sweep over σ (one batched computation of the temperature kind's grid) gives each point's flow and production
    as a run of that point alone; a field the sweep did not compute is refused by name."""
    model, rho0 = _model(2, "temperature"), _rho0(2, True)
    sw = jt.sweep(model, rho0, N, 64, seed=SEED, grid={"sigma": [0.05, 0.1]})
    assert sw.stack("mean_entropy_production").shape == (2, N)
    for sigma, res in zip((0.05, 0.1), sw.results):
        alone = jt.ensemble(model.replace(distribution=jt.Gaussian(sigma)), rho0, N, 64, seed=SEED)
        names = ("mean_entropy_flow", "var_entropy_flow", "mean_entropy_production", "var_total_entropy_production")
        for name in names:
            np.testing.assert_allclose(getattr(res, name), getattr(alone, name), rtol=1e-12, atol=1e-17, err_msg=name)
    no_d1 = jt.sweep(model, rho0, N, 8, seed=SEED, alphas=(2.0,), grid={"sigma": [0.05, 0.1]})
    with pytest.raises(ValueError, match="field='mean_entropy_production'"):
        no_d1.stack("mean_entropy_production")


@pytest.mark.parametrize("kind, schedule", [("temperature", False), ("hamiltonian", False), ("temperature", True)])
def test_sensitivities_against_finite_differences(kind, schedule):
    """∂⟨β_r Q_r⟩ (the streamed tangent) and ∂⟨ΔS_r⟩, ∂⟨ΔS_1 + … + ΔS_r⟩ (the chain rule) with respect to θ, β, g0 and
    σ against central differences of the result on the same configurations (h = 1e-5: truncation ~1e-10, rounding
    ~1e-11 on values ~1e-2); a θ schedule's derivative per entry (a trailing axis)."""
    n, h = 64, 1e-5
    theta = np.linspace(0.2, 0.4, N) if schedule else 0.3
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, theta, kind=kind, distribution=jt.Gaussian(0.1))
    rho0 = _rho0(2, True)
    wrt = ("theta", "beta", "g0", "sigma")
    res = jt.ensemble(model, rho0, N, n, seed=SEED, wrt=wrt)
    fields = ("mean_entropy_flow", "mean_entropy_production", "mean_cumulative_entropy_production")

    def moved(name, step, entry=None):
        if name == "sigma":
            m = model.replace(distribution=jt.Gaussian(0.1 + step))
        elif name == "theta" and schedule:
            m = model.replace(theta=np.where(np.arange(N) == entry, theta + step, theta))
        else:
            m = model.replace(**{name: getattr(model, name) + step})
        return jt.ensemble(m, rho0, N, n, seed=SEED, alphas=(1.0,))

    for name in wrt:
        entries = range(N) if name == "theta" and schedule else [None]
        for entry in entries[:3] if schedule else entries:
            up, down = moved(name, h, entry), moved(name, -h, entry)
            for field in fields:
                got = getattr(res.sensitivity[name], field)
                got = got if entry is None else got[..., entry]
                fd = (getattr(up, field) - getattr(down, field)) / (2 * h)
                np.testing.assert_allclose(got, fd, atol=1e-7, rtol=1e-6, err_msg=f"{name} {field} {entry}")
    sens = res.sensitivity["sigma"]
    assert sens.var_entropy_flow.shape == (N,) and np.all(sens.var_entropy_flow >= 0)


def test_sensitivities_saved_loaded_and_in_xarray(tmp_path):
    """The entropy derivatives survive save/load exactly; a file written before them loads them as None; xarray names
    them with the parameter's unit (nat/rad for θ)."""
    res = jt.ensemble(_model(2, "temperature"), _rho0(2, True), N, 32, seed=SEED, wrt=("theta",))
    back = jt.load_result(jt.save_result(tmp_path / "r", res))
    np.testing.assert_array_equal(
        back.sensitivity["theta"].mean_entropy_production, res.sensitivity["theta"].mean_entropy_production
    )
    older = {k: v for k, v in _files.result_arrays(res).items() if "entropy" not in k}
    old = _files.result_from_arrays(older, cls=jt.EnsembleResult)
    assert old.sensitivity["theta"].mean_entropy_flow is None
    np.testing.assert_array_equal(old.sensitivity["theta"].mean_work, res.sensitivity["theta"].mean_work)
    pytest.importorskip("xarray")
    ds = res.to_xarray()
    var = ds["sensitivity_theta_mean_entropy_production"]
    assert var.dims == ("collision",) and var.attrs["units"] == "nat/rad"
    np.testing.assert_array_equal(var.values, res.sensitivity["theta"].mean_entropy_production)


def _total_production_derivatives(model, rho0, names, n):
    """Each configuration's ∂(ΔS_1 + … + ΔS_N)/∂p (n, P) by forward mode through its trajectory: ΔS_1 + … + ΔS_N =
    S(ρ_S|N) − S(ρ0) − Σ_r β_r Q_r from von Neumann entropies and the heats (docs/inhomogeneous.md §9), δ_r = σ ε_r
    redrawn at the moved σ from the configuration's key; ``rho0`` an array or a function of the model."""
    keys = jnp.stack([jax.random.fold_in(jax.random.key(SEED), i) for i in range(n)])
    values = [jnp.asarray(getattr(model.distribution if p == "sigma" else model, p), float) for p in names]

    def total(params, key):
        changes = dict(zip(names, params))
        sigma = changes.pop("sigma", model.distribution.sigma)
        m = model.replace(distribution=jt.Gaussian(sigma), **changes)
        deltas = m.distribution.sample(key, (N,))
        start = rho0(m) if callable(rho0) else jnp.asarray(rho0)
        traj = jt.trajectory(m, start, deltas)
        beta_r = m.beta * (1 + deltas) if m.kind == "temperature" else m.beta
        entropy = jt.von_neumann_entropy(traj.states)
        return entropy[-1] - entropy[0] - jnp.sum(beta_r * traj.heat)

    grads = jax.jit(jax.vmap(jax.jacfwd(total), in_axes=(None, 0)))(values, keys)
    return [np.asarray(g) for g in grads]  # per parameter: (n,) or (n, entries)


@pytest.mark.parametrize(
    "d, kind, schedule, moving",
    [(2, "temperature", False, False), (2, "hamiltonian", True, False), (3, "hamiltonian", False, True)],
)
def test_total_production_derivative_and_its_spread_against_each_trajectory(d, kind, schedule, moving):
    """``sensitivity[p].mean_total_entropy_production`` and ``var_…`` (each configuration's derivative streamed from
    the kernel's final carry) against forward-mode derivatives of the same configurations' S(ρ_S|N) − S(ρ0) − Σ β_r Q_r
    through their trajectories: mean and unbiased variance over configurations (rtol 1e-9 on values ~1e-2…1); a θ
    schedule per entry (a trailing axis); a ρ0 that moves with β (thermal at β/2) includes ∂ρ0. The mean is the
    chain rule's ⟨ΔS_1 + … + ΔS_r⟩ at r = N too."""
    n = 48
    theta = np.linspace(0.2, 0.4, N) if schedule else 0.3
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, theta, kind=kind, distribution=jt.Gaussian(0.1))
    rho0 = (lambda m: jt.thermal_state(m.d, 0.5 * m.beta, m.g0)) if moving else _rho0(d, True)
    names = ("theta", "beta", "g0", "sigma")
    res = jt.ensemble(model, rho0, N, n, seed=SEED, wrt=names)
    expected = _total_production_derivatives(model, rho0, names, n)
    for name, per_configuration in zip(names, expected):
        sens = res.sensitivity[name]
        assert np.max(np.abs(per_configuration)) > 1e-3, name  # a derivative to see, not zeros against zeros
        np.testing.assert_allclose(sens.mean_total_entropy_production, per_configuration.mean(0), rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(
            sens.var_total_entropy_production, per_configuration.var(0, ddof=1), rtol=1e-9, atol=1e-15, err_msg=name
        )
        np.testing.assert_allclose(
            sens.mean_total_entropy_production, sens.mean_cumulative_entropy_production[-1], rtol=1e-9, atol=1e-13
        )
    assert res.sensitivity["theta"].mean_total_entropy_production.shape == ((N,) if schedule else ())


def test_checkpoint_without_the_total_production_derivative_resumes(tmp_path):
    """A checkpoint of a run with ``wrt`` written before ∂(ΔS_1 + … + ΔS_N) was streamed (this run's file with its
    entries removed) resumes: the other derivatives are those of an uninterrupted run, the total's is None."""
    model, rho0 = _model(2, "hamiltonian"), _rho0(2, True)
    path = tmp_path / "ckpt.npz"
    run = dict(seed=SEED, chunk_size=64, checkpoint=path, wrt=("theta",))

    def stop(chunk, done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jt.ensemble(model, rho0, N, N_CONFIGS, callback=stop, **run)
    arrays = _files._read(path, _files.CHECKPOINT, "checkpoint")
    older = {k: v for k, v in arrays.items() if not k.startswith(("sens_total_entropy_production.", "__"))}
    assert len(older) < len(arrays) - 1  # the entries were there
    _files._write(path, _files.CHECKPOINT, older)
    resumed = jt.ensemble(model, rho0, N, N_CONFIGS, **run).sensitivity["theta"]
    whole = jt.ensemble(model, rho0, N, N_CONFIGS, seed=SEED, chunk_size=64, wrt=("theta",)).sensitivity["theta"]
    np.testing.assert_array_equal(resumed.mean_cumulative_work, whole.mean_cumulative_work)
    np.testing.assert_array_equal(resumed.var_entropy_flow, whole.var_entropy_flow)
    assert resumed.mean_total_entropy_production is None and resumed.var_total_entropy_production is None
    assert whole.mean_total_entropy_production is not None
