"""Test configuration: float64 everywhere, 4 forced CPU devices for the sharding tests, programs compiled fast."""

import decimal
import os

# Must be set before JAX initialises its backends. The suite compiles ~20 000 programs and runs most of them
# once on small inputs: LLVM's optimisation level 0 (XLA keeps its own graph passes, so the programs and
# their floating-point semantics are the same) cut tests/coherent from 381 s to 270 s with ``-n 2`` on a
# 2-core AMD EPYC. ``python -m jaxthermo.verify`` (``make test``, after the suite) and the benchmarks run
# with XLA's default level, as users do.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0")
# The command line keeps compiled programs on disk; the suite (in-process CLI calls and the
# subprocesses it starts) writes none to the user's cache and counts compilations undisturbed
# (tests/test_compilation_cache.py turns it on in its own subprocesses).
os.environ["JAXTHERMO_COMPILATION_CACHE"] = "off"

import jax
import pytest

jax.config.update("jax_enable_x64", True)

import jaxthermo  # noqa: E402,F401

# Half of Linux's default vm.max_map_count (65 530).
MAX_MAPPINGS = 32_000


def _memory_mappings() -> int:
    """The number of this process's memory mappings (0 where /proc is not there)."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after a test module once the worker holds many of them.

    Every compiled XLA CPU program keeps a few memory mappings; a pytest worker that compiles
    the whole suite's programs in one process reached Linux's default limit of 65 530 mappings
    (vm.max_map_count), and the next compilation died with a segmentation fault. Dropping them
    after every module instead made each module trace and compile again what the modules before
    it had compiled: 19 570 compilations in tests/inhomogeneous for 11 443 when kept (10.6 min
    for 8.8 min with ``-n 2`` on a 2-core AMD EPYC; one module compiles at most ~2 500 programs,
    ~9 000 mappings). A test that needs a program compiled afresh calls ``jax.clear_caches()``.
    """
    yield
    if _memory_mappings() > MAX_MAPPINGS:
        jax.clear_caches()


@pytest.fixture(autouse=True)
def _decimal_precision():
    """Every test in its own decimal context of 250 digits (restored after it): modules that set the global
    precision at import (200, 250, 60 digits) made the others' high-precision references depend on the import
    order of a pytest-xdist worker (test_trial_h51's βg = 300 reference came out 0 at 60 digits)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 250
        yield
