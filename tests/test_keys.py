"""Functions that take a PRNG ``key`` name it when given something else (jaxthermo/_validation.py
``check_key``). Before: an int seed gave JAX's "invalid PRNG key data: expected key_data.ndim >= 1",
a string "Error interpreting argument to <function _standard_normal ...>"."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import jaxthermo as jt

MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
RHO = jt.thermal_state(2, 1.0, 1.0)
CALLS = {
    "single_collision_samples": lambda key: jt.single_collision_samples(MODEL, RHO, key, 8),
    "single_collision_histogram": lambda key: jt.single_collision_histogram(MODEL, RHO, key, 8),
    "frozen_ensemble_mean": lambda key: jt.frozen_ensemble_mean(MODEL, RHO, key, 8, 3, lambda tr: tr.work.sum()),
    "frozen_vs_averaged_divergence": lambda key: jt.frozen_vs_averaged_divergence(MODEL, RHO, key, 8, 3, (1.0,)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", [0, np.int64(3), "seed", 1.5])
def test_a_key_that_is_not_one_is_named(name, bad):
    with pytest.raises(TypeError, match=r"key must be a JAX PRNG key, e\.g\. jax\.random\.key\(0\); got"):
        CALLS[name](bad)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_typed_and_legacy_keys_give_the_same_draws(name):
    typed = CALLS[name](jax.random.key(4))
    legacy = CALLS[name](jax.random.PRNGKey(4))
    fields = {"single_collision_samples": "deltas", "single_collision_histogram": "counts"}
    field = fields.get(name, "frozen_mean" if name == "frozen_vs_averaged_divergence" else "mean")
    np.testing.assert_allclose(np.asarray(getattr(typed, field)), np.asarray(getattr(legacy, field)), rtol=1e-15)
