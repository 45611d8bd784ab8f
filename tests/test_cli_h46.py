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


def test_summary_title_states_n_and_the_initial_state(tmp_path):
    """summary.png of a sweep plotted ⟨W_N⟩ and D_1(ρ̄_N‖τ_S) without saying N or ρ0 anywhere on the
    page (the title listed d, β, g0, the law, the configurations, the seed). Now 'N = 3, ρ0 = ground'."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    toml = tmp_path / "s.toml"
    toml.write_text(
        f'[study]\nstudy = "sweep"\nout = "{tmp_path / "o"}"\n[initial_state]\nname = "ground"\n'
        "[run]\nn_steps = 3\nn_configs = 4\nalphas = [1.0]\n[grid]\ntheta = [0.1, 0.2]\n"
    )
    assert cli.main(["run", str(toml), "--no-progress", "--no-plot"]) == 0
    with xr.open_dataset(tmp_path / "o" / "results.nc") as ds:
        ds.load()
    plt = pyplot()
    fig = summary._sweep(plt, ds)
    title = fig._suptitle.get_text()
    plt.close(fig)
    assert "N = 3" in title and "ρ0 = ground" in title and "4 configurations" in title, title
    thermal = ds.assign_attrs(config_toml='[initial_state]\nname = "thermal"\nbeta = 0.5\n')
    assert summary._initial_state(thermal) == "ρ0 = thermal (β = 0.5)"
    assert summary._initial_state(ds.assign_attrs(config_toml="")) == ""  # a Dataset not from `jaxthermo run`


def test_md_peaks_labels_cover_no_marker(tmp_path, monkeypatch):
    """scripts/assignment/md_peaks.py: the right panel's (Δ, Γ) labels had fixed offsets and
    'Δ=0.2, Γ=1.0' lay over the W^md square of the next point; now no label covers a marker (circle or
    square, 4-point margin), the closed-form line or another label."""
    pytest.importorskip("matplotlib")
    import pathlib
    import runpy
    import sys

    from matplotlib.path import Path

    folder = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "assignment"
    monkeypatch.syspath_prepend(str(folder))
    import _common

    monkeypatch.setattr(_common, "OUT", tmp_path)
    seen = []

    def check(fig, out, name):
        fig.canvas.draw()
        ax = fig.axes[1]
        margin = 4 * fig.dpi / 72
        markers = [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "")]
        points = np.vstack([ax.transData.transform(np.column_stack(line.get_data())) for line in markers])
        (closed,) = [line for line in ax.get_lines() if line.get_label().startswith("closed form")]
        path = Path(ax.transData.transform(np.column_stack(closed.get_data())))
        boxes = [text.get_window_extent() for text in ax.texts]
        assert len(ax.texts) >= 7
        for text, box in zip(ax.texts, boxes):
            grown = box.padded(margin)
            assert not _inside(grown, points).any(), f"{text.get_text()!r} covers a marker"
            assert not path.intersects_bbox(box, filled=False), text.get_text()
            assert sum(box.overlaps(other) for other in boxes) == 1, text.get_text()
        seen.append(name)
        return tmp_path / f"{name}.png"

    monkeypatch.setattr(sys, "argv", ["md_peaks.py"])
    script = runpy.run_path(str(folder / "md_peaks.py"), run_name="md_peaks")
    monkeypatch.setitem(script["main"].__globals__, "save", check)
    script["main"](tmp_path)
    assert seen == ["md_peaks"]
