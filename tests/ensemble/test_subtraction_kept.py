"""D_1's terms in the GPU tile kernel's one-logarithm form (``subtraction_kept``): (t u)(log u + shift) − t(u − 1),
u = 1 + x, as Triton compiles it (no pass rewrites (1 + x) − 1 to x; benchmarks/triton_keeps_subtraction.py).
Evaluated op by op here (eager: every primitive its own program, nothing rewritten), against decimals: accurate
to ≈ ε/|x| relative, the error the deviation itself carries when it comes from populations rounded to ε, and
equal to the series form where x is not small."""

from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import pytest

from jaxthermo._information import relative_entropy_term, subtraction_kept

getcontext().prec = 60


def _exact(dev: float, t: float) -> float:
    """t[(1 + x) log(1 + x) − x], x = dev/t, in 60 digits from the float inputs as given."""
    d, tt = Decimal(repr(dev)), Decimal(repr(t))
    lam = tt + d
    return float(lam * (lam / tt).ln() - lam + tt)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("x", [3e-7, -2e-5, 1e-3, 0.04, -0.3, 0.9, 5.0])
def test_one_logarithm_form_is_as_accurate_as_its_deviation(dtype, x):
    eps = float(jnp.finfo(dtype).eps)
    t = dtype(0.27)
    dev = dtype(float(t) * x)
    with jax.disable_jit(), subtraction_kept():
        got = float(relative_entropy_term(jnp.asarray(dev), jnp.asarray(t), jnp.log(jnp.asarray(t))))
    exact = _exact(float(dev), float(t))
    # the rounding of u = 1 + x moves the term by log(1 + x)·ε/2·t, relative ≈ ε/|x| for small x; the
    # logarithm's ulp and the products a few ε more
    assert abs(got - exact) <= (4 / min(abs(x), 1.0) + 8) * eps * exact
    if abs(x) > 0.02:  # away from the series' reach both forms hold a few ε·(1/|x|)
        series = float(relative_entropy_term(jnp.asarray(dev), jnp.asarray(t), jnp.log(jnp.asarray(t))))
        assert abs(got - series) <= (4 / min(abs(x), 1.0) + 8) * eps * exact
