"""What the optax studies of scripts/ share: the output folder, the long-format CSV, the figure and the
command line (``python scripts/<area>/<study>.py [OUT_DIR] [--quick]``).

A study module defines ``main(out_dir, quick=False) -> dict`` and ends with
``run_study(main, default_out(__file__), published(__file__))``: by default it writes to ``figures/<area>``
(ignored by git); the tracked ``scripts/<area>/output`` (the published figures) only when passed as OUT_DIR,
and never by a ``--quick`` run. Import it from a study with
``sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))``.
"""

from __future__ import annotations

import pathlib
import sys


def default_out(script) -> str:
    """The default OUT_DIR of the study ``script`` (its ``__file__``): ``figures/<area>``, not tracked."""
    return f"figures/{pathlib.Path(script).resolve().parent.name}"


def published(script) -> pathlib.Path:
    """The tracked folder of the published outputs of the study ``script``: ``scripts/<area>/output``."""
    return pathlib.Path(script).resolve().parent / "output"


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


def run_study(main, default_out, published_out=None) -> None:
    """The command line of a study: ``[OUT_DIR] [--quick]`` (``--help``: the study's docstring); prints
    the result dictionary. ``--quick`` into ``published_out`` stops with status 2 before computing (it
    would replace a published figure by a short run)."""
    from jaxthermo.apps.script_cli import script_arguments

    args = script_arguments(sys.modules[main.__module__].__doc__, default_out)
    if (
        args.quick
        and published_out is not None
        and pathlib.Path(args.out).resolve() == pathlib.Path(published_out).resolve()
    ):
        print(
            f"{pathlib.Path(sys.argv[0]).name}: error: --quick would overwrite the published outputs in "
            f"{published_out}; give another OUT_DIR",
            file=sys.stderr,
        )
        raise SystemExit(2)
    res = main(args.out, quick=args.quick)
    for k, v in res.items():
        print(k, _plain(v))


def _plain(value):
    """``value`` with NumPy scalars as Python numbers (printed ``1.06`` rather than ``np.float64(1.06)``)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value
