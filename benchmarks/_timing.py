"""Timing helpers shared by the benchmark scripts, and the engine's module settings they change."""

from __future__ import annotations

import ast
import contextlib
import importlib
import time

import jax
import numpy as np


def median_time(fn, repeats=10):
    """Median wall time of ``repeats`` calls of ``fn`` (each waited for), after one warm-up call."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return float(np.median(times))


# short names of the modules whose settings a benchmark may change (special rows, counts of variants)
SETTING_MODULES = {
    "engine": "jaxthermo.ensemble._engine",
    "tile": "jaxthermo.ensemble._tile_kernel",
    "sampling": "jaxthermo.ensemble._sampling",
}


def parse_settings(text):
    """``"tile.TILE=64,sampling.FLOAT32_TRANSFORM=0"`` as a dict; values are Python literals, else strings."""
    out = {}
    for kv in filter(None, text.split(",")):
        key, value = kv.split("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _target(key):
    """(module, name) of ``"short.NAME"`` (SETTING_MODULES) or ``"package.module.NAME"``."""
    module, name = key.rsplit(".", 1)
    return importlib.import_module(SETTING_MODULES.get(module, module)), name


def apply_settings(settings):
    """Set each ``{"module.NAME": value}``; returns the values they replace."""
    old = {}
    for key, value in settings.items():
        module, name = _target(key)
        old[key] = getattr(module, name)
        setattr(module, name, value)
    return old


@contextlib.contextmanager
def program(settings):
    """Run with module settings changed (:func:`apply_settings`); the engine's compiled chunks are dropped
    before and after, as the settings are read when a chunk is traced."""
    compiled = importlib.import_module(SETTING_MODULES["engine"])._COMPILED
    compiled.clear()
    old = {}
    try:
        old = apply_settings(settings)
        yield
    finally:
        apply_settings(old)
        compiled.clear()
