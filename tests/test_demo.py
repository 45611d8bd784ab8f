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
    number = r"(-?\d\.\d+e[+-]\d\d)"
    for symbol in ("1", "∞"):  # the mean state's divergence within 5 of its ± of the estimate's expected mean
        row = re.search(rf"D_{symbol}\(ρ̄_30 ‖ τ_S\)\s+{number} ± {number}\s+{number} \(estimate's mean {number}\)", out)
        mc, sd, exact, expected = map(float, row.groups())
        assert abs(mc - expected) <= 5 * sd and expected >= exact > 0, row.group(0)
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


def test_demo_divergence_spread_is_that_of_sampled_mean_states():
    """The table's ± of D_α(ρ̄_N‖τ_S) and the estimate's mean: Gauss–Hermite over p̄_0 ~ N(p_0, se²) against 4·10⁵
    sampled p̄_0 (independent route; agreement within their Monte-Carlo error), and for D_1 the second-order
    expansion D(p_0 + e) ≈ D + a e + b e², b = 1/(2 p_0 p_1): mean D + b se², variance a² se² + 2 b² se⁴."""
    import jax.numpy as jnp

    from jaxthermo import renyi_divergence
    from jaxthermo.apps.demo import _divergence_spread

    q = np.array([0.731, 0.269])
    p = np.array([0.7305, 0.2695])
    se = 1e-4
    draws = np.random.default_rng(7).normal(scale=se, size=400_000)
    states = p[None, :] + np.stack([draws, -draws], -1)
    for alpha in (1.0, np.inf):
        sampled = np.asarray(renyi_divergence(jnp.asarray(states), jnp.asarray(q), alpha))
        mean, sd = _divergence_spread(p, q, se, alpha)
        assert abs(mean - sampled.mean()) <= 4 * sampled.std() / np.sqrt(draws.size), alpha
        np.testing.assert_allclose(sd, sampled.std(), rtol=1e-2, err_msg=str(alpha))
    a = np.log(p[0] / q[0]) - np.log(p[1] / q[1])
    b = 1.0 / (2 * p[0] * p[1])
    d = float(np.sum(p * np.log(p / q)))
    mean, sd = _divergence_spread(p, q, se, 1.0)
    np.testing.assert_allclose(mean, d + b * se**2, rtol=1e-6)
    np.testing.assert_allclose(sd, np.sqrt(a**2 * se**2 + 2 * b**2 * se**4), rtol=1e-3)
