"""jaxthermo.config.validate: under jit/vmap/grad, a traced negative eigenvalue, a NaN δ and an
out-of-range λ are caught at run time ("always", the default); "eager" and "off" skip them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

BAD_STATE = jnp.diag(jnp.array([1.5, -0.5]))


def _model_a():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)


def _work(rho, delta=0.1):
    return jt.collide(_model_a(), rho, delta).energetics.work


def _raises(fn, *args, match):
    with pytest.raises(Exception, match=match) as info:
        jax.block_until_ready(fn(*args))
    assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))


@pytest.fixture(autouse=True)
def _strict_mode(request):
    """Every test here exercises the staged checks of "always", except the one about the default."""
    if request.node.name == "test_default_is_eager_and_setting_is_checked":
        yield
        return
    with jt.config.override(validate="always"):
        yield


def test_default_is_eager_and_setting_is_checked():
    assert jt.config.validate == "eager"
    with pytest.raises(ValueError, match="validate"):
        jt.config.validate = "sometimes"
    with pytest.raises(ValueError, match="validate"), jt.config.override(validate="never"):
        pass
    with jt.config.override(validate="off"):
        assert jt.config.validate == "off"
    assert jt.config.validate == "eager"


def test_traced_negative_eigenvalue_is_caught_under_jit_vmap_grad():
    _raises(jax.jit(_work), BAD_STATE, match="rho is not positive semidefinite: smallest eigenvalue")
    batch = jnp.stack([jnp.eye(2) / 2, BAD_STATE])
    _raises(jax.jit(jax.vmap(_work)), batch, match="smallest eigenvalue")
    _raises(jax.jit(jax.grad(lambda d: _work(BAD_STATE, d))), 0.1, match="smallest eigenvalue")
    _raises(jax.jit(_work), jnp.eye(2) / 1.5, match="unit trace")
    # a valid state runs, and gradients are unchanged by the checks
    g = jax.jit(jax.grad(lambda d: _work(jnp.diag(jnp.array([0.8, 0.2])), d)))(0.1)
    with jt.config.override(validate="eager"):
        g_eager = jax.jit(jax.grad(lambda d: _work(jnp.diag(jnp.array([0.8, 0.2])), d)))(0.1)
    np.testing.assert_allclose(g, g_eager, rtol=1e-14)


def test_nan_delta_is_caught_under_jit():
    _raises(jax.jit(lambda d: _work(jnp.eye(2) / 2, d)), jnp.nan, match="delta must be finite")
    deltas = jnp.array([0.1, jnp.nan, 0.2])
    _raises(jax.jit(lambda ds: jt.trajectory(_model_a(), jnp.eye(2) / 2, ds).work), deltas, match="delta")


def test_out_of_range_lambda_is_caught_under_jit():
    model = jt.qubit_example()
    step = jax.jit(lambda lam: jt.stroboscopic_step(model.replace(lam=lam), jnp.eye(2) / 2).system)
    assert np.isfinite(np.asarray(step(0.1))).all()
    _raises(step, 100.0, match="lam: the ancilla state")
    traj = jax.jit(lambda lam: jt.stroboscopic_trajectory(model.replace(lam=lam), jnp.eye(2) / 2, 3).work)
    _raises(traj, 100.0, match="lam")


def test_eager_and_off_skip_traced_checks():
    for mode in ("eager", "off"):
        with jt.config.override(validate=mode):
            # traced: not checked (the documented trade); a fresh function, since a cached trace keeps its setting
            assert np.isfinite(jax.jit(lambda r: _work(r))(BAD_STATE))
    with jt.config.override(validate="eager"), pytest.raises(ValueError, match="rho"):
        _work(BAD_STATE)  # concrete: still checked
    with jt.config.override(validate="off"):
        _work(BAD_STATE)  # off: no value check at all


def test_ensemble_kernels_carry_no_runtime_checks(monkeypatch):
    from jaxthermo.ensemble import _engine

    calls = []
    original = jax.debug.callback
    monkeypatch.setattr(jax.debug, "callback", lambda *a, **k: (calls.append(1), original(*a, **k))[1])
    _engine._COMPILED.clear()  # trace afresh under "always"
    res = jt.ensemble(
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1)),
        np.array([[0.6, 0.1], [0.1, 0.4]]),
        4,
        16,
        alphas=(1.0,),
    )
    assert calls == [] and np.all(np.isfinite(res.mean_work))
    jax.jit(lambda r: _work(r))(jnp.eye(2) / 2)  # outside the engine the checks are staged
    assert calls


def test_unknown_setting_is_refused():
    """``config.valdiate = "off"`` (a typo) used to add an attribute nothing reads: validation stayed on
    without a word."""
    import jaxthermo as jt

    before = jt.config.validate
    with pytest.raises(AttributeError, match="no setting 'valdiate'"):
        jt.config.valdiate = "off"
    assert jt.config.validate == before
    assert not hasattr(jt.config, "valdiate")
