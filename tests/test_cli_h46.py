"""A physicist's trial of the command line and the figures (helper-46).

* ``jaxthermo ensemble --configs 1e400`` (or ``inf``) ended in an OverflowError traceback, exit 1;
  ``--configs nan`` said "invalid _count value". Now the usual one-line message, exit 2.
* ``jaxthermo figures`` fig5: the zoom inset sat in the upper right of each panel, over the frozen
  mean of D_α (r ≳ 55 hidden in both panels), and the legend filled the lower left. Now the legend
  is below the panel and the inset in the lower left, where no curve runs.
"""

import numpy as np
import pytest

from jaxthermo.apps import cli, figures


@pytest.mark.parametrize("count", ["1e400", "inf", "nan"])
def test_a_non_finite_count_is_refused_in_one_line(count, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["ensemble", "--configs", count, "--steps", "2", "--out", str(tmp_path / "o"), "--no-plot"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument --configs: {count!r}: need a positive whole number" in err
    assert "Traceback" not in err and "_count" not in err
    assert not (tmp_path / "o").exists()
    assert cli._count("1e6") == 10**6  # the same parser still reads 1e6


def _inside(box, points):
    """Points (display coordinates) strictly inside a Bbox."""
    x, y = points[:, 0], points[:, 1]
    return (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)


def test_fig5_inset_and_legend_hide_no_curve(tmp_path, monkeypatch):
    """Every vertex of the frozen and averaged curves stays outside the zoom inset and the legend, and
    the annotation stays off the inset; the inset's band is the same data as the main panel's."""
    pytest.importorskip("matplotlib")
    save = figures.save_figure
    checked = []

    def check(fig, path, dpi):
        fig.canvas.draw()
        mains = [ax for ax in fig.axes if ax.child_axes]
        assert len(mains) == 2
        for ax in mains:
            (inset,) = ax.child_axes
            boxes = {"inset": inset.get_tightbbox(), "legend": ax.get_legend().get_window_extent()}
            lines = [line for line in ax.get_lines() if line.get_label().startswith(("frozen", "ensemble-averaged"))]
            assert len(lines) == 2
            for line in lines:
                xy = ax.transData.transform(np.column_stack(line.get_data()))
                xy = xy[np.all(np.isfinite(xy), axis=1)]
                for name, box in boxes.items():
                    hidden = _inside(box, xy)
                    assert not hidden.any(), f"{name} hides {hidden.sum()} points of {line.get_label()!r}"
            for text in ax.texts:
                assert not text.get_window_extent().overlaps(boxes["inset"]), text.get_text()
            assert ax.get_xlabel() and ax.get_ylabel() and inset.get_title()
            checked.append(ax)
        save(fig, path, dpi)

    monkeypatch.setattr(figures, "save_figure", check)
    figures.main(out=str(tmp_path), only="fig5", quick=True)
    assert len(checked) == 2 and (tmp_path / "fig5.png").stat().st_size > 10_000
