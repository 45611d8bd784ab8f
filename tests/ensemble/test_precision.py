"""The ensemble engine keeps the precision of its input state (README: precision; docs/ensemble.md §1):
a float32 state runs in float32 without ``dtype=``, its statistics agree with the float64 run to the
documented ~1e-6 relative, and a mixed call (float32 state, Python-float model) follows the state,
as ``ensemble_mean`` does."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

RHO = np.array([[0.7, 0.1], [0.1, 0.3]])


def _model(dtype):
    return jt.InhomogeneousReservoir(
        2, beta=dtype(1.0), g0=dtype(1.0), theta=dtype(0.4), distribution=jt.Gaussian(dtype(0.3))
    )


def _float_fields(result):
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray | jnp.ndarray) and np.asarray(value).dtype.kind in "fc":
            yield f.name, np.asarray(value)


def test_a_float32_state_runs_in_float32_and_agrees_with_float64():
    r32 = jt.ensemble(_model(np.float32), RHO.astype(np.complex64), 6, 512)
    r64 = jt.ensemble(_model(np.float64), RHO, 6, 512)
    fields64 = dict(_float_fields(r64))
    names = []
    for name, value in _float_fields(r32):
        assert value.dtype in (np.float32, np.complex64), f"{name} is {value.dtype}"
        ref = fields64[name]
        finite = np.isfinite(ref)
        scale = max(np.max(np.abs(ref[finite]), initial=0.0), 1e-30)
        assert np.max(np.abs(value[finite] - ref[finite]), initial=0.0) <= 5e-6 * scale, name
        names.append(name)
    assert {"mean_work", "var_work", "mean_state", "mean_divergence"} <= set(names)


@pytest.mark.parametrize(
    "d, rho0",
    [(3, np.diag([0.5, 0.3, 0.2])), (2, RHO), (2, None)],
    ids=["qutrit", "coherent qubit", "qubit at tau_S"],
)
def test_float32_entropy_production_per_collision_to_its_rounding_bound(d, rho0):
    """⟨ΔS_r⟩ = β⟨ΔU_r⟩ − (⟨D_1⟩_r − ⟨D_1⟩_{r−1}) − ⟨β_r Q_r⟩ (docs/inhomogeneous.md §9) is a difference of terms
    up to ~10× its size: a trial measured its float32 error at 6.6·10⁻⁶ of its largest value for a qutrit, beyond
    the ~1e-6 the README promised for ensemble statistics. The bound the README now states, derived from the
    formula: each of the four terms carries ≲ ε₃₂ relative (4ε₃₂ their sum), and ⟨ΔS_1 + … + ΔS_N⟩ stays ~1e-6."""
    eps = float(np.finfo(np.float32).eps)
    model = jt.InhomogeneousReservoir(d, 1.0, 1.0, 0.3, distribution=jt.Gaussian(0.1))
    rho0 = np.asarray(jt.thermal_state(2, 1.0, 1.0)) if rho0 is None else rho0
    r64 = jt.ensemble(model, rho0, 30, 4000, seed=5, alphas=(1.0,))
    r32 = jt.ensemble(model, rho0, 30, 4000, seed=5, alphas=(1.0,), dtype=jnp.float32)
    assert r32.mean_entropy_production.dtype == np.float32
    divergence = np.asarray(r64.mean_divergence)[:, 0]
    terms = (np.abs(r64.mean_work + r64.mean_heat), divergence[1:], divergence[:-1], np.abs(r64.mean_entropy_flow))
    error = np.abs(np.asarray(r32.mean_entropy_production, float) - r64.mean_entropy_production)
    assert np.all(error <= 4 * eps * sum(terms)), np.max(error / (4 * eps * sum(terms)))
    total32, total64 = r32.mean_total_entropy_production, r64.mean_total_entropy_production
    assert abs(float(total32) - float(total64)) <= 2e-6 * abs(float(total64))


def test_an_explicit_dtype_is_the_same_run():
    implicit = jt.ensemble(_model(np.float32), RHO.astype(np.complex64), 4, 256)
    explicit = jt.ensemble(_model(np.float32), RHO.astype(np.complex64), 4, 256, dtype=jnp.float32)
    np.testing.assert_array_equal(implicit.mean_work, explicit.mean_work)
    np.testing.assert_array_equal(implicit.mean_state, explicit.mean_state)


@pytest.mark.parametrize("state_dtype", [np.float32, np.complex64])
def test_a_mixed_call_follows_the_state_like_ensemble_mean(state_dtype):
    model = _model(float)  # Python floats
    rho = RHO.astype(state_dtype)
    result = jt.ensemble(model, rho, 4, 256)
    mean = jt.ensemble_mean(model, rho, 4, 256)
    assert result.mean_work.dtype == np.float32 and mean.dtype == np.float32
    np.testing.assert_allclose(np.sum(result.mean_work), mean, rtol=1e-5)
    assert jt.ensemble(model, RHO, 4, 256).mean_work.dtype == np.float64


@pytest.mark.parametrize("field", ["theta", "beta", "sigma"])
def test_traced_nan_parameters_of_ensemble_mean_are_named_under_always(field):
    """A NaN θ, β or σ traced through ensemble_mean gave a NaN mean without an error even under
    validate="always" (mean_work and averaged_trajectory named the field)."""
    model = _model(float)

    def mean(x):
        changed = model.replace(distribution=jt.Gaussian(x)) if field == "sigma" else model.replace(**{field: x})
        return jt.ensemble_mean(changed, RHO, 3, 64)

    with jt.config.override(validate="always"), pytest.raises(Exception, match=rf"model\.\S*{field} must be finite"):
        jax.block_until_ready(jax.jit(mean)(np.nan))
    with jt.config.override(validate="always"):  # a finite traced value passes, value and gradient as eager
        good = {"theta": 0.4, "beta": 1.0, "sigma": 0.3}[field]
        np.testing.assert_allclose(jax.jit(mean)(good), mean(good), rtol=1e-12)
        np.testing.assert_allclose(jax.jit(jax.grad(mean))(good), jax.grad(mean)(good), rtol=1e-10)


def test_exp_minus_beta_work_of_a_cold_float32_run_stays_finite():
    """⟨e^{−βW_N}⟩ and its standard error of a float32 run where βW_N ≈ −40…−90: the square of
    e^{−βW_N} overflowed float32 (max 3.4e38) beyond βW_N < −44, so the standard error was inf and,
    past −88, the mean NaN. Computed in float64 and returned in float32, they agree with the float64
    run of the same configurations to the float32 accuracy of βW_N (|β δW_N| ≲ 150 · 20 · 6e-8 ≈ 2e-4)."""
    model = jt.InhomogeneousReservoir(2, beta=150.0, g0=1.0, theta=1.2, distribution=jt.Gaussian(0.8))
    rho0 = jnp.diag(jnp.array([0.3, 0.7])).astype(jnp.complex128)
    r64 = jt.ensemble(model, rho0, 20, 2000)
    r32 = jt.ensemble(model, rho0.astype(jnp.complex64), 20, 2000)
    assert np.log(r64.mean_exp_minus_beta_work) > 44  # the regime of the defect
    for name in ("mean_exp_minus_beta_work", "stderr_exp_minus_beta_work"):
        got, want = getattr(r32, name), getattr(r64, name)
        assert got.dtype == np.float32 and np.isfinite(got), name
        np.testing.assert_allclose(got, want, rtol=2e-4, err_msg=name)


@pytest.mark.parametrize("law, name", [(jt.Gaussian, "sigma"), (jt.Uniform, "width"), (jt.TwoPoint, "delta")])
@pytest.mark.parametrize("route", ["constructed", "model leaf"])
def test_a_traced_negative_spread_is_refused_under_always(law, name, route):
    """Under validate="always" a traced σ < 0 (width, δ) ran as its mirror law with the derivative's sign flipped:
    an optimiser stepping σ below 0 went on without a word. Refused, naming the field, whether the law is built
    from the traced value or the model's leaf is traced (jax.grad over the model: no constructor runs); the
    exact averaged route (accumulated_mean_work) as well. Under the default "eager" nothing is staged (the traced
    value computes), and a positive spread passes with the eager value."""
    model = _model(float).replace(distribution=law(0.2))

    def with_spread(x):
        if route == "constructed":
            return model.replace(distribution=law(x))
        leaves, tree = jax.tree_util.tree_flatten(model)
        where = [i for i, (path, _) in enumerate(jax.tree_util.tree_flatten_with_path(model)[0]) if name in str(path)]
        return jax.tree_util.tree_unflatten(tree, [x if i in where else v for i, v in enumerate(leaves)])

    routes = {
        "ensemble_mean": lambda x: jt.ensemble_mean(with_spread(x), RHO, 3, 64),
        "accumulated_mean_work": lambda x: jt.accumulated_mean_work(with_spread(x), RHO, 3),
    }
    for what, f in routes.items():
        with jt.config.override(validate="always"):
            with pytest.raises(Exception, match=rf"{name} must be >= 0; got \[-0\.2\]"):
                jax.block_until_ready(jax.jit(f)(-0.2))
            np.testing.assert_allclose(jax.jit(f)(0.2), f(0.2), rtol=1e-12, err_msg=what)
        # "eager" (a new trace: a cached one keeps its setting): computed unchecked, as documented
        assert np.isfinite(jax.jit(lambda x, f=f: f(x))(-0.2)), what
