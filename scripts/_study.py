"""What the optax studies of scripts/ share: the output folder, the long-format CSV, the figure and the
command line (``python scripts/<area>/<study>.py [OUT_DIR] [--quick]``).

A study module defines ``main(out_dir, quick=False) -> dict`` and ends with ``run_study(main, OUT)``.
Import it from a study with ``sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))``.
"""

from __future__ import annotations

import pathlib
import sys


def output_dir(out_dir) -> pathlib.Path:
    """``out_dir`` as a path, created if missing."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_series_csv(path, rows) -> None:
    """Write ``rows`` of (series, x, y) as a long-format CSV with the header ``series,x,y``."""
    with open(path, "w") as f:
        f.write("series,x,y\n")
        f.writelines(f"{s},{x:.12g},{y:.12g}\n" for s, x, y in rows)


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def twin_legend(ax, twin, **kwargs) -> None:
    """One legend on ``ax`` for the lines of ``ax`` and of its ``twinx`` axis ``twin``."""
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, **kwargs)


def save_figure(fig, path, dpi: int = 130) -> None:
    """Lay out, write and close ``fig``."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    fig.clf()
    pyplot().close(fig)


def run_study(main, default_out) -> None:
    """The command line of a study: ``[OUT_DIR] [--quick]`` (``--help``: the study's docstring); prints
    the result dictionary."""
    from jaxthermo.apps.script_cli import script_arguments

    args = script_arguments(sys.modules[main.__module__].__doc__, default_out)
    res = main(args.out, quick=args.quick)
    for k, v in res.items():
        print(k, v)
