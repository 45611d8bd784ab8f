"""The command line shared by the scripts of ``scripts/`` (``[OUT_DIR] [--quick]`` and ``--help``)."""

from __future__ import annotations

import argparse


def script_arguments(description: str, default_out=None, quick: bool = True, argv=None) -> argparse.Namespace:
    """The command line of a script of ``scripts/``: ``[OUT_DIR] [--quick]`` and ``--help``.

    ``default_out=None``: the script takes no OUT_DIR (it writes to its own folder); ``quick=False``: no
    ``--quick``. An unknown option or a second folder exits with status 2 and argparse's message naming
    it, before any computing (they used to be taken as the output folder, or ignored).
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
    return parser.parse_args(argv)
