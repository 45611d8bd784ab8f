"""``ensemble``'s run options are checked before anything is computed, naming the option.

Each case failed late or without naming the option before (IndexError for ``devices=[]``,
AttributeError for ``devices=[0]``, a TypeError from ``os.fspath`` for ``checkpoint=3``, a TypeError
from calling ``callback=3`` after the first chunk had run), or was taken silently by truthiness
(``coherent="no"`` ran the quantum divergences).
"""

import jax
import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo import Gaussian, InhomogeneousReservoir, thermal_state


@pytest.fixture(scope="module")
def setup():
    model = InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=Gaussian(0.05))
    return model, thermal_state(2, 1.0, 1.0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(devices=[]), ValueError, "devices=[]"),
        (dict(devices=[0]), TypeError, "devices: 0 is a int, not a JAX device"),
        (dict(devices="cpu"), TypeError, "devices='cpu'"),
        (dict(checkpoint=3), TypeError, "checkpoint=3"),
        (dict(callback=3), TypeError, "callback=3"),
        (dict(coherent="no"), TypeError, "coherent='no'"),
        (dict(progress="no"), TypeError, "progress='no'"),
    ],
)
def test_bad_option_named_before_any_chunk(setup, kwargs, error, words, monkeypatch):
    from jaxthermo.ensemble import _engine

    def no_compile(*args, **kw):
        raise AssertionError("compiled before the options were checked")

    monkeypatch.setattr(_engine, "_compiled_chunk", no_compile)
    model, rho0 = setup
    with pytest.raises(error) as info:
        jt.ensemble(model, rho0, 3, 10, **kwargs)
    assert words in str(info.value)


def test_device_listed_twice(setup):
    model, rho0 = setup
    d = jax.devices()[0]
    with pytest.raises(ValueError, match="listed twice"):
        jt.ensemble(model, rho0, 3, 10, devices=[d, d])


def test_single_device_and_numpy_bool_accepted(setup):
    """One device (not in a list) means that device; NumPy booleans are booleans. The numbers are
    those of the run on all devices (configuration i depends on (seed, i) only)."""
    model, rho0 = setup
    ref = jt.ensemble(model, rho0, 3, 64)
    one = jt.ensemble(model, rho0, 3, 64, devices=jax.devices()[0], coherent=np.bool_(False))
    assert one.info["n_devices"] == 1
    np.testing.assert_allclose(one.mean_work, ref.mean_work, rtol=1e-12, atol=1e-18)
