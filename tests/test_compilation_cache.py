"""The command line keeps compiled programs on disk (jaxthermo/apps/_compilation_cache.py).

Each case runs in a fresh process (the cache folder is a process-wide JAX setting): a command
writes its programs under $XDG_CACHE_HOME/jaxthermo/xla; a second run of the same study with
other parameter values loads them (JAX's cache-hit events) and writes the same numbers as a run
without the cache; a user's own JAX_COMPILATION_CACHE_DIR or JAXTHERMO_COMPILATION_CACHE=off is
respected; importing jaxthermo as a library writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SMALL = ["--steps", "5", "--configs", "64", "--no-progress", "--no-plot"]


def _env(tmp_path, **extra):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAXTHERMO_COMPILATION_CACHE"):
        env.pop(key, None)
    env.update(extra)
    return env


def _cli(args, env, cwd):
    """``jaxthermo ARGS`` in a fresh process that reports JAX's persistent-cache hits on stderr."""
    program = textwrap.dedent(
        """
        import sys, jax.monitoring
        hits = []
        jax.monitoring.register_event_listener(
            lambda event, **kw: hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None
        )
        from jaxthermo.apps.cli import main
        status = main(sys.argv[1:])
        print("CACHE_HITS", len(hits), file=sys.stderr)
        sys.exit(status)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", program, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    hits = [line for line in out.stderr.splitlines() if line.startswith("CACHE_HITS")]
    return int(hits[-1].split()[1])


def _files(folder):
    return [p for p in folder.rglob("*-cache")] if folder.exists() else []


def _results(folder):
    """The data variables of the run's results.nc, as NumPy arrays."""
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(folder / "results.nc") as ds:
        return {name: np.asarray(ds[name].values) for name in ds.data_vars}


def test_a_second_run_loads_the_programs_and_writes_the_same_numbers(tmp_path):
    env = _env(tmp_path)
    cache = tmp_path / "xdg" / "jaxthermo" / "xla"
    first = _cli(["ensemble", *SMALL, "--beta", "1.0", "--out", "a"], env, tmp_path)  # hits: repeats within the run
    written = _files(cache)
    assert written, "the first run cached nothing"
    hits = _cli(["ensemble", *SMALL, "--beta", "1.3", "--out", "b"], env, tmp_path)
    assert hits >= first + len(written), "other parameter values should load every compiled program"
    assert len(_files(cache)) == len(written)  # and compile nothing new
    off = _env(tmp_path, JAXTHERMO_COMPILATION_CACHE="off")
    assert _cli(["ensemble", *SMALL, "--beta", "1.3", "--out", "c"], off, tmp_path) == 0
    with_cache, without = _results(tmp_path / "b"), _results(tmp_path / "c")
    assert with_cache.keys() == without.keys() and with_cache
    for name, values in with_cache.items():
        np.testing.assert_array_equal(values, without[name], err_msg=name)


@pytest.mark.parametrize("choice", ["JAXTHERMO_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR"])
def test_the_users_choice_is_respected(tmp_path, choice):
    own = tmp_path / "own"
    value = "off" if choice == "JAXTHERMO_COMPILATION_CACHE" else str(own)
    env = _env(tmp_path, **{choice: value})
    _cli(["ensemble", *SMALL, "--out", "a"], env, tmp_path)
    assert not _files(tmp_path / "xdg")


def test_the_library_alone_caches_nothing(tmp_path):
    program = "import jaxthermo as jt; jt.averaged_trajectory(jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.1)), jt.thermal_state(2, 1.0, 1.0), 5)"
    subprocess.run([sys.executable, "-c", program], env=_env(tmp_path), check=True, timeout=300, cwd=tmp_path)
    assert not (tmp_path / "xdg").exists()
