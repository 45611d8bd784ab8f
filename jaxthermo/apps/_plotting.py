"""matplotlib on demand: the optional ``plot`` extra, with one clear message when it is missing."""

from __future__ import annotations

MISSING_MATPLOTLIB = 'matplotlib is needed for plots: pip install "jaxthermo[plot]"'


class MissingPlotDependency(ImportError):
    """matplotlib is not installed (it is the optional extra ``jaxthermo[plot]``)."""


def require_matplotlib() -> None:
    """Raise :class:`MissingPlotDependency` with the install hint when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise MissingPlotDependency(MISSING_MATPLOTLIB) from err


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (files only, no display)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int) -> None:
    """``fig.savefig`` through a temporary file renamed over ``path``, then close ``fig``: a failed or
    killed write leaves the previous figure whole (the format is taken from ``path``'s suffix), and the
    file gets the permissions of the process's umask like the CSVs beside it."""
    import os

    from ..ensemble._files import write_atomically

    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    try:
        write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
    finally:
        pyplot().close(fig)
