"""The command line's persistent compilation cache (README, "Your own study without Python").

A command-line process is short: compiling its programs is most of a small run (`jaxthermo demo`
on 2 cores: 12.3 s, of which 6.8 s compile). JAX can keep compiled programs on disk and load them
in the next process (same program, same jax/jaxlib, same machine, devices and flags), so the
commands point JAX's persistent cache at ``$XDG_CACHE_HOME/jaxthermo/xla`` (default
``~/.cache/jaxthermo/xla``), every program cached (JAX's default keeps only those that took > 1 s
to compile), at most 1 GiB (least recently used entries go first). Parameter values are inputs of
the programs, not part of them: a study run again with other β, θ or σ loads the same programs.

Left alone when the user chose: ``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``'s
``jax_compilation_cache_dir`` already set, or ``JAXTHERMO_COMPILATION_CACHE=off`` (also ``0``,
``false``, ``no``). A cache folder that cannot be created is skipped without error (the cache
only saves time). Importing jaxthermo as a library never turns it on.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

MAX_BYTES = 1 << 30
_OFF = {"off", "0", "false", "no"}


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/jaxthermo/xla``, or ``~/.cache/jaxthermo/xla``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxthermo" / "xla"


def use_compilation_cache() -> Path | None:
    """Turn JAX's persistent compilation cache on for this process (see the module docstring).

    Returns the folder in use, or None where the user chose otherwise or it cannot be created.
    """
    if os.environ.get("JAXTHERMO_COMPILATION_CACHE", "").strip().lower() in _OFF:
        return None
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or jax.config.jax_compilation_cache_dir:
        return None
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder
