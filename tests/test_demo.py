"""`jaxthermo demo` through the CLI at reduced size: table printed, PNG and CSVs written, numbers
consistent with the exact averaged dynamics."""

import csv
import re
import unicodedata

import numpy as np

from jaxthermo.apps.cli import main


def test_demo_cli_reduced(tmp_path, capsys, monkeypatch):
    import jaxthermo.apps.demo as demo

    figures = []

    def keep(fig, path, dpi):
        fig.canvas.draw()
        figures.append((fig.axes[2].get_yscale(), fig.axes[2]))
        plot_checks(fig.axes[2])
        save_figure(fig, path, dpi)

    save_figure = demo.save_figure
    monkeypatch.setattr(demo, "save_figure", keep)
    assert main(["demo", "--out", str(tmp_path), "--configs", "2000", "--steps", "30", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    for text in ("mean work per collision", "small-δ", "trace distance", "D_1(", "D_∞("):
        assert text in out
    assert "energies (work) in units of g0, divergences D_α in nats" in out
    # the Monte Carlo column starts at one terminal column on every row (ρ̄, τ̄ carry combining bars,
    # which str.ljust counted as characters: those rows were one or two columns short)
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("quantity"))
    rows = [line for line in lines if re.search(r"\d\.\d{4}e[+-]\d\d", line)]
    columns = {_terminal_width(row[: re.search(r"\d\.\d{4}e[+-]\d\d", row).start()]) for row in rows}
    assert len(rows) == 7 and columns == {_terminal_width(header[: header.index("Monte Carlo")])}
    png = tmp_path / "demo.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    with open(tmp_path / "demo_steps.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 31
    mc = np.array([float(r["trace_distance_to_tau_bar_mc"]) for r in rows])
    exact = np.array([float(r["trace_distance_to_tau_bar_exact"]) for r in rows])
    se = np.array([float(r["trace_distance_standard_error"]) for r in rows])
    assert np.all(np.abs(mc - exact) <= 5 * se + 1e-15)
    with open(tmp_path / "demo_work_histogram.csv") as f:
        hist = list(csv.reader(f))
    assert sum(int(r[2]) for r in hist[1:]) == 2000  # every configuration counted once

    assert len(figures) == 1


def _terminal_width(text):
    return sum(not unicodedata.combining(c) for c in text)


def plot_checks(panel):
    """Panel (c) drew r = 0 (D_α = βW = 0 for ρ0 = τ_S) on a log scale, a vertical drop to the bottom
    of the axis, and its legend sat over the α = 1 curves."""
    assert panel.get_yscale() == "log"
    for line in panel.get_lines():
        assert np.all(np.asarray(line.get_ydata()) > 0), line.get_label()
    assert not panel.get_legend().get_window_extent().overlaps(panel.get_window_extent())
