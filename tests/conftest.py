"""Test configuration: float64 everywhere and 4 forced CPU devices for the sharding tests."""

import decimal
import os

# Must be set before JAX initialises its backends.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
# The command line keeps compiled programs on disk; the suite (in-process CLI calls and the
# subprocesses it starts) writes none to the user's cache and counts compilations undisturbed
# (tests/test_compilation_cache.py turns it on in its own subprocesses).
os.environ["JAXTHERMO_COMPILATION_CACHE"] = "off"

import jax
import pytest

jax.config.update("jax_enable_x64", True)

import jaxthermo  # noqa: E402,F401


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    Every compiled XLA CPU program keeps a few memory mappings; a pytest worker that compiles
    the whole suite's programs in one process reached Linux's default limit of 65 530 mappings
    (vm.max_map_count), and the next compilation died with a segmentation fault.
    """
    yield
    jax.clear_caches()


@pytest.fixture(autouse=True)
def _decimal_precision():
    """Every test in its own decimal context of 250 digits (restored after it): modules that set the global
    precision at import (200, 250, 60 digits) made the others' high-precision references depend on the import
    order of a pytest-xdist worker (test_trial_h51's βg = 300 reference came out 0 at 60 digits)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 250
        yield
