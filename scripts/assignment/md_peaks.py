"""Location and height of the minimal-dissipation peaks ([CVS25], slide 'Minimal dissipation
peaks'; docs/assignment.md): K_S(t) stays finite for Δ ≠ 0 but has sharp peaks where σ_min(G(t)) is smallest,
growing with Γ²/Δ; the minimal-dissipation work W^md follows them.

Peaks are located by a two-pass search: a coarse grid finds the local minima of σ_min(G), then
``refine_times`` adds dense points around them. Measured: the peak time of the collective-mode
energy k_c(t) = ⟨u|k(t)|u⟩ (u the uniform mode) and its height k_c − ν1, the maximum of W^md,
compared with the closed forms t_1 = π/Ω and Γ²/(2Δ) (Ω = √(Δ²+Γ²)).

Usage: python scripts/assignment/md_peaks.py [OUT_DIR] [--quick]   (default figures/assignment; the published
figure is in scripts/assignment/output). Writes md_peaks.png, md_peaks.csv and md_peaks_traces.csv. --quick: the
four Δ = 0.2 cases on coarser grids (101 + 101 points per peak instead of 201 + 301).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import DEFAULT_OUT, OUT, PARAMS, param_text, save, write_csv
from _study import run_study

import jaxthermo as jt
from jaxthermo.assignment import refine_times

CASES = [(0.2, 0.2), (0.2, 0.5), (0.2, 1.0), (0.2, 2.0), (0.05, 1.0), (0.5, 2.0), (1.0, 1.0), (0.1, 0.5)]


def analyse(delta, big_gamma, quick=False):
    model = jt.QuadraticReservoirs.from_regime(detuning=delta, effective_coupling=big_gamma, **PARAMS)
    omega = np.hypot(delta, big_gamma)
    coarse = np.linspace(0.0, 3.5 * np.pi / omega, 101 if quick else 201)  # the first two peaks, π/Ω and 3π/Ω
    first = model.energetics(coarse)
    dt = coarse[1] - coarse[0]
    times = refine_times(coarse, first.peak_times, 1.5 * dt, 101 if quick else 301)
    out = model.energetics(times)
    u = np.ones(PARAMS["n1"]) / np.sqrt(PARAMS["n1"])
    nu1 = PARAMS["nu2"] + delta
    k_c = np.einsum("i,tij,j->t", u, np.asarray(out.k), u).real - nu1
    window = times < 2.0 * np.pi / omega  # first peak only
    i = np.argmax(np.where(window, k_c, -np.inf))
    j = np.argmax(np.where(window, np.asarray(out.minimal_dissipation.work), -np.inf))
    return (
        out,
        times,
        k_c,
        dict(
            Delta=delta,
            Gamma=big_gamma,
            peak_time_measured=times[i],
            peak_time_closed_form=np.pi / np.hypot(delta, big_gamma),
            k_peak_height_measured=k_c[i],
            k_peak_height_closed_form=big_gamma**2 / (2 * delta),
            md_work_peak_time=times[j],
            md_work_peak=float(out.minimal_dissipation.work[j]),
            min_sigma_G=float(np.min(out.sigma_min)),
            grid_points=len(times),
        ),
    )


SPREAD = 0.04  # decades: cases with one Γ²/(2Δ) are drawn this far either side of it (else one hides the other)


def spread(x):
    """``x`` with the members of each group of equal values spread to ±``SPREAD`` decades around the value
    (presentation only: the CSV keeps the exact Γ²/(2Δ))."""
    xs = np.array(x, dtype=float)
    done = np.zeros(len(xs), bool)
    for i in range(len(xs)):
        group = np.flatnonzero(np.isclose(x, x[i]) & ~done)
        if len(group) > 1:
            xs[group] = x[i] * 10.0 ** (SPREAD * (2 * np.arange(len(group)) - (len(group) - 1)))
        done[group] = True
    return xs


# where a point's label may go, in points from the marker: upper left first (the closed-form line
# rises to the right and the W^md squares lie below the circles), then the other sides
LABEL_SPOTS = ((-6, 4, "right", "bottom"), (7, -3, "left", "top"), (-6, -3, "right", "top"), (7, 4, "left", "bottom"))


def label_points(ax, rows, xs):
    """Label each circle of the right panel (drawn at ``xs``) with its (Δ, Γ) on the first side where the
    text covers no marker, no line and no other label. Fixed offsets put 'Δ=0.2, Γ=1.0' over the square of
    the next point."""
    from matplotlib.path import Path

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    markers = np.vstack(
        [
            ax.transData.transform(np.column_stack(line.get_data()))
            for line in ax.get_lines()
            if line.get_marker() not in (None, "None", "")
        ]
    )
    paths = [
        Path(ax.transData.transform(np.column_stack(line.get_data())))
        for line in ax.get_lines()
        if line.get_linestyle() not in ("None", "")
    ]
    radius = 5 * fig.dpi / 72  # a marker's half-size in pixels
    taken = []
    for r, x in zip(rows, xs):
        y = r["k_peak_height_measured"]
        for dx, dy, ha, va in LABEL_SPOTS:
            text = ax.annotate(
                f"Δ={r['Delta']}, Γ={r['Gamma']}",
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=6,
            )
            box = text.get_window_extent(renderer).padded(1)
            hits_marker = any(
                box.x0 - radius < mx < box.x1 + radius and box.y0 - radius < my < box.y1 + radius for mx, my in markers
            )
            clear = not hits_marker and not any(p.intersects_bbox(box, filled=False) for p in paths)
            clear = clear and not any(box.overlaps(t) for t in taken) and ax.bbox.contains(box.x0, box.y0)
            clear = (
                clear
                and ax.bbox.contains(box.x1, box.y1)
                and not box.overlaps(ax.get_legend().get_window_extent(renderer))
            )
            if clear or (dx, dy, ha, va) == LABEL_SPOTS[-1]:
                taken.append(box)
                break
            text.remove()


def main(out_dir=DEFAULT_OUT, quick=False):
    rows, traces = [], []
    for delta, big_gamma in CASES[:4] if quick else CASES:
        out, times, k_c, row = analyse(delta, big_gamma, quick)
        rows.append(row)
        if delta == 0.2:
            traces.append(
                (big_gamma, times * np.hypot(delta, big_gamma) / np.pi, np.asarray(out.minimal_dissipation.work))
            )
        print({k: (float(round(v, 6)) if isinstance(v, float) else v) for k, v in row.items()})
    columns = {key: [r[key] for r in rows] for key in rows[0]}
    write_csv(out_dir, "md_peaks", columns)
    write_csv(
        out_dir,  # the left panel's curves, long format (each case has its own refined grid)
        "md_peaks_traces",
        {
            "Delta": np.concatenate([np.full(len(t), 0.2) for _, t, _ in traces]),
            "Gamma": np.concatenate([np.full(len(t), g) for g, t, _ in traces]),
            "omega_t_over_pi": np.concatenate([t for _, t, _ in traces]),
            "md_work_over_Gamma2_over_2Delta": np.concatenate([w / (g**2 / 0.4) for g, _, w in traces]),
        },
    )
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    for big_gamma, times, work in traces:
        ax.plot(times, work / (big_gamma**2 / 0.4), label=f"Γ = {big_gamma}  (Γ²/2Δ = {big_gamma**2 / 0.4:.3g})")
    ax.set_xlabel("Ωt/π  (dimensionless time; Ω = √(Δ²+Γ²))")
    ax.set_ylabel("W^md(t) / (Γ²/2Δ)   (dimensionless)")
    ax.set_title("W^md(t) at Δ = 0.2: peaks at Ωt/π = 1, 3", fontsize=10)
    ax.legend(fontsize=8, loc="center", bbox_to_anchor=(0.57, 0.62))
    ax.grid(alpha=0.3)
    ax = axes[1]
    x = np.array(columns["k_peak_height_closed_form"])
    xs = spread(x)
    circles, squares = np.array(columns["k_peak_height_measured"]), np.abs(columns["md_work_peak"])
    ax.loglog(xs, circles, "o", label="peak of k_c(t) − ν1 (measured, refined grid)")
    ax.loglog(xs, squares, "s", mfc="none", label="max W^md over the first peak")
    for xi, top, bottom in zip(xs, circles, squares):  # one case: its circle and, below it, its square
        ax.plot([xi, xi], [top, bottom], color="0.55", lw=0.8, zorder=1.5)
    ax.plot([], [], color="0.55", lw=0.8, label="joins the square and the circle of one case (Δ, Γ)")
    ax.loglog([x.min() / 2, x.max() * 2], [x.min() / 2, x.max() * 2], "k:", label="closed form Γ²/(2Δ)")
    shared = [i for i in range(len(x)) if np.sum(np.isclose(x, x[i])) > 1]
    if shared:
        cases = " and ".join(f"Δ={rows[i]['Delta']}, Γ={rows[i]['Gamma']}" for i in shared)
        note = f"{cases} both have Γ²/(2Δ) = {x[shared[0]]:.3g};\n"
        note += f"drawn at x × {10**-SPREAD:.2f} and x × {10**SPREAD:.2f} so that both show"
        ax.text(0.98, 0.03, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
    ax.set_xlabel("Γ²/(2Δ) [energy]")
    ax.set_ylabel("peak height [energy]")
    ax.set_title("Peak heights versus the closed form", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    fig.suptitle("Minimal-dissipation peaks (" + param_text() + ")", fontsize=10)
    fig.tight_layout()
    label_points(ax, rows, xs)
    print(save(fig, out_dir, "md_peaks"))
    t_err = max(abs(r["peak_time_measured"] - r["peak_time_closed_form"]) for r in rows)
    h_err = max(abs(r["k_peak_height_measured"] / r["k_peak_height_closed_form"] - 1) for r in rows)
    return {"max |peak time − π/Ω|": f"{t_err:.2e}", "max relative height error": f"{h_err:.2e}"}


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
