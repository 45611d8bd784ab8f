"""jaxthermo._eager.compiled_when_concrete: one program for a concrete call, the same values as the operations run
one by one, the plain function inside a caller's trace, one program per setting read while tracing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo._eager import compiled_when_concrete
from jaxthermo._information import renyi_divergence_change_log


def _compilations(fn):
    seen = []

    def listener(event, duration, **kw):
        if event == "/jax/core/compile/backend_compile_duration":
            seen.append(kw.get("fun_name"))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        fn()
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    return seen


def test_a_concrete_call_of_a_renyi_divergence_compiles_one_program_with_the_eager_values():
    jax.clear_caches()
    p, log_q = jnp.array([0.1, 0.2, 0.3, 0.4]), jnp.log(jnp.array([0.4, 0.3, 0.2, 0.1]))
    alphas = jnp.array([-1.0, 0.0, 0.5, 1.0, 2.0, jnp.inf, -jnp.inf])
    names = _compilations(lambda: jt.renyi_divergence_log(p, log_q, alphas))
    assert names == ["jit(_renyi_divergence_log)"]
    with jax.disable_jit():  # the operations one by one, as before
        eager = jt.renyi_divergence_log(p, log_q, alphas)
    np.testing.assert_allclose(jt.renyi_divergence_log(p, log_q, alphas), eager, rtol=1e-14, atol=1e-15)
    assert _compilations(lambda: jt.renyi_divergence_log(p, log_q, alphas)) == []


def test_a_traced_call_inlines_the_function_and_settings_key_the_programs():
    traced = []

    @compiled_when_concrete
    def f(x):
        traced.append(type(x).__name__)
        return jnp.sin(x) * 2.0

    np.testing.assert_allclose(jax.grad(f)(0.3), 2 * np.cos(0.3), rtol=1e-15)
    (grad_tracer,) = traced  # the caller's tracer reaches f itself: no program of its own
    assert grad_tracer != "DynamicJaxprTracer"
    assert float(f(0.3)) == pytest.approx(2 * np.sin(0.3), rel=1e-15)
    assert float(f(0.3)) == pytest.approx(2 * np.sin(0.3), rel=1e-15)
    assert traced == [grad_tracer, "DynamicJaxprTracer"]  # traced once by jit, its program reused
    with jt.config.override(validate="off"):
        f(0.3)  # another setting read while tracing: traced again
    f(0.3)  # the default's program is kept
    assert traced == [grad_tracer] + ["DynamicJaxprTracer"] * 2


def test_the_order_check_stays_before_the_program():
    with pytest.raises(ValueError, match="alpha"):
        jt.renyi_divergence_log(jnp.array([0.5, 0.5]), jnp.log(jnp.array([0.5, 0.5])), float("nan"))
    with pytest.raises(ValueError, match="alpha"):
        renyi_divergence_change_log(
            jnp.array([0.5, 0.5]), jnp.array([0.1, -0.1]), jnp.log(jnp.array([0.5, 0.5])), float("nan")
        )
