"""Test configuration: float64 everywhere and 4 forced CPU devices for the sharding tests."""

import os

# Must be set before JAX initialises its backends.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import jax

jax.config.update("jax_enable_x64", True)

import jaxthermo  # noqa: E402,F401
