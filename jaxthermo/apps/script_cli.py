"""The command line shared by the scripts of ``scripts/`` (``[OUT_DIR] [--quick]`` and ``--help``)."""

from __future__ import annotations

import argparse
import os
import tempfile


def script_arguments(description: str, default_out=None, quick: bool = True, argv=None) -> argparse.Namespace:
    """The command line of a script of ``scripts/``: ``[OUT_DIR] [--quick]`` and ``--help``.

    ``default_out=None``: the script takes no OUT_DIR (it writes to its own folder); ``quick=False``: no
    ``--quick``. An unknown option or a second folder exits with status 2 and argparse's message naming
    it, before any computing (they used to be taken as the output folder, or ignored); so does an OUT_DIR
    that is a file or cannot be created or written (checked, not created).
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if default_out is not None:
        parser.add_argument(
            "out",
            nargs="?",
            default=str(default_out),
            metavar="OUT_DIR",
            help=f"output folder (default: {default_out})",
        )
    if quick:
        parser.add_argument("--quick", action="store_true", help="a short run with the same outputs")
    args = parser.parse_args(argv)
    if default_out is not None:  # a file, an uncreatable or read-only folder: a traceback, some after the computing
        problem = _unwritable(args.out)
        if problem:
            parser.error(f"OUT_DIR {args.out!r}: {problem}")
    return args


def _unwritable(out) -> str:
    """Why the folder ``out`` cannot be written (or created), tried and undone: a folder made for the test is
    removed again (nothing is left before the computing); "" where it can."""
    path = os.path.abspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        return "is a file, not a folder; choose another name or remove the file"
    existing = path
    while not os.path.exists(existing):  # the nearest existing folder: what a failed test leaves as it was
        existing = os.path.dirname(existing)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        return f"cannot be written ({err.strerror or err})"
    finally:
        made = path
        while made != existing:
            if os.path.isdir(made):
                os.rmdir(made)
            made = os.path.dirname(made)
    return ""
