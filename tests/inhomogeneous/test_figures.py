"""Every model-A figure is generated (reduced size) with a PNG and a CSV of named columns (docs/inhomogeneous.md)."""

import csv
import pathlib
import runpy
import sys

import pytest

from jaxthermo.apps import figures

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "inhomogeneous"


def test_every_figure_writes_png_and_csv(tmp_path):
    assert figures.main(out=str(tmp_path), quick=True) == 0
    for name in figures.FIGURES:
        png, table = tmp_path / f"{name}.png", tmp_path / f"{name}.csv"
        assert png.stat().st_size > 10_000
        with open(table) as fh:
            rows = list(csv.DictReader(fh))
        assert rows and set(rows[0]) == {"panel", "series", "x", "y"}
        assert {r["panel"] for r in rows} <= set(figures.AXES)
        assert all(r["y"] not in ("nan", "inf") for r in rows)
        assert (SCRIPTS / f"{name}.py").exists()
    for name in (*figures.FIGURES, "partial_swap_validity"):  # figure scripts call the applications layer
        assert "from jaxthermo.apps.figures import run_script" in (SCRIPTS / f"{name}.py").read_text()
    for script in SCRIPTS.glob("*.py"):  # no script plots through a model module
        assert "jaxthermo.inhomogeneous.figures" not in script.read_text()


def test_only_and_unknown_names(tmp_path):
    figures.main(out=str(tmp_path), only="fig4", quick=True)
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["fig4.csv", "fig4.png"]
    with pytest.raises(ValueError, match="only"):
        figures.main(out=str(tmp_path), only="fig9")


def test_cli_and_script_call_the_figures_module(tmp_path, monkeypatch):
    from jaxthermo.apps.cli import main as cli_main

    monkeypatch.setattr(figures, "FIGURES", ("fig4",))
    assert cli_main(["figures", "--out", str(tmp_path / "cli"), "--only", "fig4", "--quick"]) == 0
    assert (tmp_path / "cli" / "fig4.png").exists()
    with open(tmp_path / "cli" / "fig4.csv") as fh:  # --quick reaches the figures: 81 δ per curve, not 401
        assert sum(1 for row in csv.DictReader(fh) if row["series"] == "beta_W") == 81
    monkeypatch.setattr(sys, "argv", ["fig4.py", str(tmp_path / "script"), "--quick"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(SCRIPTS / "fig4.py"), run_name="__main__")
    assert stop.value.code == 0 and (tmp_path / "script" / "fig4.csv").exists()


def test_the_notation_on_the_pages_is_defined_there(tmp_path, monkeypatch):
    """fig1's p0 = 1/(1+a) and fig4's δ* were used on the page without saying what a and δ* are. Independent
    check of the δ* printed: the reservoir's thermal ground population 1/(1 + e^{−βg0(1+δ*)}) equals ρ's 0.75."""
    import re

    import numpy as np

    texts = {}

    def record(fig, path, dpi):
        texts[pathlib.Path(path).stem] = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))

    monkeypatch.setattr(figures, "save_figure", record)
    for name in ("fig1", "fig4"):
        figures.make_figure(name, str(tmp_path), quick=True)
    assert "a = e^(−βg0): τ_S = diag(1, a)/(1+a)" in texts["fig1"] and "1/(1+a) ≈ 0.731" in texts["fig1"]
    star = float(re.search(r"δ\* = ([0-9.]+): τ\(δ\*\) = ρ", texts["fig4"]).group(1))
    np.testing.assert_allclose(1 / (1 + np.exp(-figures.BETA_G0 * (1 + star))), 0.75, rtol=1e-3)


@pytest.mark.parametrize("name", (*figures.FIGURES, "partial_swap_validity"))
def test_script_help_says_what_the_figure_shows(name, monkeypatch, capsys):
    """``fig3.py --help`` said only "fig3: Writes fig3.png and fig3.csv": the figure's subject and parameters (the
    script's docstring) come first; argparse's usage line is not repeated."""
    doc = (SCRIPTS / f"{name}.py").read_text().split('"""')[1]
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="__main__")
    shown = capsys.readouterr().out
    assert stop.value.code == 0
    assert f"{name}: {doc.splitlines()[0]}" in shown and doc.splitlines()[2] in shown, shown
    assert f"Writes {name}.png and {name}.csv" in shown and "Usage: python" not in shown


def test_validity_study_collapses_on_the_condition_variable(tmp_path, monkeypatch):
    """The mean error depends on σ, g_int and d through x = σ g0 (d − 1)/(2 g_int) ([ATO-preprint] eq. (A6))."""
    save = figures.save_figure

    def inside(fig, path, dpi):  # the 'x = 1' marks ran off the right edge of the panels
        fig.canvas.draw()
        for ax in fig.axes:
            for text in ax.texts:
                assert ax.get_window_extent().contains(*text.get_window_extent().p1), text.get_text()
        save(fig, path, dpi)

    monkeypatch.setattr(figures, "save_figure", inside)
    assert figures.run_script("partial_swap_validity", [str(tmp_path), "--quick"]) == 0
    with open(tmp_path / "partial_swap_validity.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["panel"] == "unitary"]
    x = [float(r["x"]) for r in rows]
    y = [float(r["y"]) for r in rows]
    import numpy as np

    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    residual = np.max(np.abs(np.log(y) - (slope * np.log(x) + intercept)))
    assert abs(slope - 1) < 0.05 and residual < np.log(1.5)  # one line through all (d, g_int)
    # the map reaches past the marked x = 1 (it stopped at x ≈ 0.4), where the error is of order one
    assert max(x) > 1 and y[int(np.argmax(x))] > 0.3


def test_a_density_panel_whose_peaks_differ_widely_is_drawn_on_a_log_scale(tmp_path, monkeypatch):
    """fig2's right panel: the p0 = 0.9 heat density (peak ~770) set a linear scale that squashed p0 = 0.731 and 0.5
    (~100, ~45) and hid their analytic lines under the dots; peaks more than 5× apart now take a log scale whose
    range holds every finite peak. fig3's peaks are within 5× of each other: linear, from 0."""
    scales = {}

    def keep(fig, path, dpi):
        right = fig.axes[1]
        peaks = [max(line.get_ydata()) for line in right.get_lines() if len(line.get_ydata()) > 2]
        scales[pathlib.Path(path).stem] = (right.get_yscale(), right.get_ylim(), peaks)

    monkeypatch.setattr(figures, "save_figure", keep)
    for name in ("fig2", "fig3"):
        figures.main(out=str(tmp_path), only=name, quick=True)
    scale, (lo, hi), peaks = scales["fig2"]
    assert scale == "log" and max(peaks) > 5 * min(peaks) and lo < min(peaks) / 10 and hi > max(peaks)
    scale, (lo, hi), peaks = scales["fig3"]
    assert scale == "linear" and lo == 0 and max(peaks) < 5 * min(peaks) <= 5 * hi
