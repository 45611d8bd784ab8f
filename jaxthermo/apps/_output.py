"""Output files of the commands: the folder checked before computing (jaxthermo run, demo, figures);
files are replaced by :func:`~jaxthermo.ensemble._files.write_atomically`."""

from __future__ import annotations

import os

from ..ensemble._files import check_writable
from . import config as cfgmod


def check_output_folder(out, names, where=None) -> None:
    """Create ``out`` and check that the files ``names`` can be written in it, before any computing;
    otherwise :class:`~.config.ConfigError` naming ``where`` (default ``[study] out = …``)."""
    where = f"[study] out = {out!r}" if where is None else where
    if os.path.exists(out) and not os.path.isdir(out):
        raise cfgmod.ConfigError(f"{where}: is a file, not a folder; choose another name or remove the file")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise cfgmod.ConfigError(f"{where}: cannot create the output folder ({err.strerror or err})") from err
    for name in names:
        path = os.path.join(out, name)
        if os.path.isdir(path):
            raise cfgmod.ConfigError(f"{where}: {path!r} is a folder; remove it or choose another out")
        try:
            check_writable(path, name)
        except OSError as err:
            raise cfgmod.ConfigError(f"{where}: {err}") from err
