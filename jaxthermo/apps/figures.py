"""Every figure of the two model-A papers, as PNG + CSV (docs/inhomogeneous.md).

``jaxthermo figures [--out DIR] [--only NAMES]`` calls :func:`main` (default DIR: :data:`DEFAULT_OUT`,
``figures/inhomogeneous``, ignored by git, as the studies of scripts/). Names:

* ``preprint_fig1`` — [ATO-preprint] Fig. 1: (a) single-collision work y = W/(g0 sin²θ) vs δ for
  p0 ∈ {1, 1/(1+a), ½, a/(1+a), 0}; (b) its distribution G_W(y) (analytic) with exact Monte Carlo.
* ``preprint_fig2`` — [ATO-preprint] Fig. 2: βW, βΔF_1, βΔF_3 vs δ, p0 = 0.75 (θ not given: θ = 0.1).
* ``fig1`` … ``fig5`` — [ATO19] Figs. 1–5: work and G_W; heat and G_Q (Hamiltonian kind); heat
  and G_Q (temperature kind); βW, βΔF_1, βΔF_3 vs δ (θ = 0.1, βg0 = 1, p0 = 0.75); frozen vs
  averaged D_1 and D_∞ per collision (σ = 0.05, p0 = 0.735).

All use βg0 = 1 (a = e^{−1}), σ = 0.02 for the distributions (as the papers). Parameters the papers
leave out are fixed in :data:`CHOSEN` and printed on each plot. Every CSV is in long format with
the columns ``panel, series, x, y`` (x and y named per panel in :data:`AXES`). Beyond the papers,
:func:`validity_study` measures the error of the fixed partial swap. The keys [ATO-preprint] and [ATO19]
are those of docs/references.md.
"""

from __future__ import annotations

import csv
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from ..ensemble import ensemble
from ..inhomogeneous import (
    Gaussian,
    InhomogeneousReservoir,
    averaged_trajectory,
    collide_closed_form,
    collision_second_laws,
    divergences_to_thermal,
    heat_density,
    heat_support,
    mean_partial_swap_error,
    single_collision_histogram,
    single_collision_samples,
    work_density,
    work_support,
)
from ._output import check_output_folder
from ._plotting import MissingPlotDependency, pyplot, require_matplotlib, save_figure

A = float(np.exp(-1.0))
# plot titles name the paper by authors and year ([ATO19] and [ATO-preprint] of docs/references.md)
PUBLISHED = "Shu et al., Phys. Rev. A 100, 042107 (2019)"
PREPRINT = "Shu et al., arXiv:1904.08736 (2019)"
BETA_G0 = 1.0
SIGMA = 0.02
CHOSEN = {
    "theta": 0.1,  # single-collision figures: y = W/(g0 sin²θ) does not depend on θ; Fig. 4 uses 0.1
    "p0_published": (0.9, 1 / (1 + A), 0.5),  # [ATO19] Figs. 1–3 show three unnamed p0 values
    "fig5_theta": 0.2,  # [ATO19] Fig. 5 does not give θ or N
    "fig5_steps": 100,
    "fig5_configs": 20_000,
    "mc_samples": 400_000,
}
DEFAULT_OUT = "figures/inhomogeneous"  # scripts/_study.py: figures/<area>, not tracked
FIGURES = ("preprint_fig1", "preprint_fig2", "fig1", "fig2", "fig3", "fig4", "fig5")
AXES = {
    "vs_delta": ("delta", "y"),
    "density": ("y", "density"),
    "histogram": ("y_bin_centre", "density"),
    "histogram_stderr": ("y_bin_centre", "standard_error_of_density"),
    "second_laws": ("delta", "beta_times_energy"),
    "divergence": ("collision_r", "D_alpha"),
}


def _model(kind="hamiltonian", theta=None, sigma=SIGMA):
    theta = CHOSEN["theta"] if theta is None else theta
    return InhomogeneousReservoir(2, BETA_G0, 1.0, theta, kind=kind, distribution=Gaussian(sigma))


def _rho(p0):
    return jnp.diag(jnp.array([p0, 1.0 - p0]))


def _p0_label(p0):
    names = {1 / (1 + A): "1/(1+a)", A / (1 + A): "a/(1+a)"}
    for value, name in names.items():
        if abs(p0 - value) < 1e-12:
            return f"p0 = {name} ≈ {p0:.3f}"
    return f"p0 = {p0:g}"


def _write_csv(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["panel", "series", "x", "y"])
        writer.writerows(rows)


def _rows(panel, series, x, y):
    return [(panel, series, f"{a:.10g}", f"{b:.10g}") for a, b in zip(np.asarray(x), np.asarray(y))]


def _params_text(**extra):
    items = {"βg0": BETA_G0, **extra}
    return ", ".join(f"{k} = {v}" for k, v in items.items())


def _single_collision_figure(out, name, quantity, kind, p0s, title, quick, key):
    """Left: y(δ) for each p0 (exact), with G(δ) on a twin axis; right: G_Y(y), analytic + exact MC."""
    plt = pyplot()
    model = _model(kind)
    s2 = float(np.sin(model.theta) ** 2)
    deltas = np.linspace(-0.2, 0.2, 101 if quick else 401)
    n_mc = 20_000 if quick else CHOSEN["mc_samples"]
    density = work_density if quantity == "work" else heat_density
    support = work_support if quantity == "work" else heat_support
    rows = []
    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(11, 5.0))
    styles = ["-", "--", ":", "-.", (0, (5, 1))]
    colors = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange"]
    label_q = "W" if quantity == "work" else "Q"
    x_range = (np.inf, -np.inf)
    peaks, diverging, edges_at = [], [], []
    for i, p0 in enumerate(p0s):
        rho = _rho(p0)
        energetics = jax.vmap(lambda x: _collision(model, rho, x))(jnp.asarray(deltas))
        y_delta = np.asarray(getattr(energetics, quantity)) / s2
        series = _p0_label(p0)
        ax_l.plot(deltas, y_delta, ls=styles[i], color=colors[i], label=series)
        rows += _rows("vs_delta", series, deltas, y_delta)
        _, e = single_collision_samples(model, rho, jax.random.fold_in(key, i), n_mc)
        y_mc = np.asarray(getattr(e, quantity)) / s2  # only for the plotted range
        lo_q, hi_q = np.quantile(y_mc, [0.0005, 0.9995])
        lo_s, hi_s = (float(v) for v in support(model, rho))
        lo, hi = max(lo_q, lo_s), min(hi_q, hi_s)
        pad = 0.05 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 400 if quick else 1500)
        x_range = (min(x_range[0], lo - pad), max(x_range[1], hi + pad))
        # the density diverges (1/√) at a support edge lying inside the sampled range
        near = [
            e
            for e in (lo_s, hi_s)
            if np.isfinite(e) and lo_q - 0.02 * (hi_q - lo_q) <= e <= hi_q + 0.02 * (hi_q - lo_q)
        ]
        diverging.append(bool(near))
        edges_at.append(near[0] if near else np.nan)
        dens = np.asarray(density(model, rho, jnp.asarray(grid)))
        peaks.append(float(dens.max()))
        ax_r.plot(grid, dens, ls=styles[i], color=colors[i], label=f"{series} (analytic)")
        rows += _rows("density", series, grid, dens)
        hist = single_collision_histogram(
            model, rho, jax.random.fold_in(key, i), n_mc, quantity, 60, (lo - pad, hi + pad)
        )
        centres = 0.5 * (hist.edges[1:] + hist.edges[:-1])
        ax_r.errorbar(
            centres,
            hist.density,
            yerr=hist.stderr,
            ls="none",
            marker="o",
            ms=2.5,
            color=colors[i],
            alpha=0.6,
            elinewidth=0.6,
        )
        rows += _rows("histogram", series, centres, hist.density)
        rows += _rows("histogram_stderr", series, centres, hist.stderr)
    ax_g = ax_l.twinx()
    g = np.asarray(model.distribution.pdf(jnp.asarray(deltas)))
    ax_g.plot(deltas, g, color="magenta", lw=0.8, marker=".", ms=2, label=f"G(δ), σ = {SIGMA}")
    ax_g.set_ylabel("G(δ)  (magenta, dots)")
    rows += _rows("vs_delta", "G(delta)", deltas, g)
    ax_l.set_xlabel("inhomogeneity δ")
    ax_l.set_ylabel(f"y = {label_q} / (g0 sin²θ)  (dimensionless)")
    # one legend for both axes, below the panel: inside, it covered curves (fig2/fig3: p0 = 0.9, p0 = 0.5)
    handles = ax_l.get_legend_handles_labels()[0] + ax_g.get_legend_handles_labels()[0]
    ax_l.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7)
    ax_l.axhline(0, color="0.7", lw=0.5)
    ax_r.set_xlabel(f"y = {label_q} / (g0 sin²θ)")
    ax_r.set_ylabel(f"G_{label_q}(y)  (per unit y)")
    finite_peaks = [pk for pk, div in zip(peaks, diverging) if not div] or peaks
    if max(finite_peaks) > 5 * min(finite_peaks):  # a narrow density squashed the others to the floor (fig2: 770
        ax_r.set_yscale("log")  # against 100 and 45, their analytic lines hidden under the dots): a log scale
        ax_r.set_ylim(1e-2 * min(finite_peaks), 2 * max(finite_peaks))
        ax_r.set_ylabel(f"G_{label_q}(y)  (per unit y, log scale)")
    else:
        ax_r.set_ylim(0, 1.3 * max(finite_peaks))
    width = x_range[1] - x_range[0]
    ax_r.set_xlim(x_range[0] - 0.04 * width, x_range[1] + 0.04 * width)
    for p0, div, edge in zip(p0s, diverging, edges_at):
        if div:
            ax_r.annotate(
                f"{_p0_label(p0)}: 1/√ divergence\nat the support edge y = {edge:.2g}",
                xy=(edge, 0.97 * ax_r.get_ylim()[1]),
                xytext=(0.55, 0.7),
                textcoords="axes fraction",
                fontsize=7,
                arrowprops=dict(arrowstyle="->", lw=0.6),
            )
    ax_r.legend(fontsize=6, loc="upper left", title="lines: analytic; dots: exact Monte Carlo", title_fontsize=6)
    defined = ", a = e^(−βg0): τ_S = diag(1, a)/(1+a)" if any("a)" in _p0_label(p0) for p0 in p0s) else ""
    fig.suptitle(f"{title}\n{_params_text(σ=SIGMA, kind=kind, MC=f'{n_mc} samples per p0')}{defined}", fontsize=9)
    fig.tight_layout()
    return _save(fig, rows, out, name)


def _collision(model, rho, delta):
    """Energetics of one partial-swap collision (model A's public closed form; traceable under vmap)."""
    return collide_closed_form(model, rho.astype(jnp.complex128), delta)[1]


def _save(fig, rows, out, name):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    png, csv_path = out / f"{name}.png", out / f"{name}.csv"
    save_figure(fig, png, dpi=130)
    _write_csv(csv_path, rows)
    return png, csv_path


def _second_laws_figure(out, name, title, quick, alphas=(1.0, 3.0), sigma_text="δ ∈ [−0.2, 0.2]"):
    """βW and βΔF_α after one collision vs δ ([ATO-preprint] Fig. 2, [ATO19] Fig. 4)."""
    plt = pyplot()
    model = _model()
    rho = _rho(0.75)
    deltas = np.linspace(-0.2, 0.2, 81 if quick else 401)
    laws = jax.vmap(lambda x: collision_second_laws(model, rho, x, list(alphas)))(jnp.asarray(deltas))
    beta = BETA_G0
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    rows = []
    w = beta * np.asarray(laws.work)
    ax.plot(deltas, w, color="tab:red", lw=2, label="βW")
    rows += _rows("second_laws", "beta_W", deltas, w)
    styles = {1.0: ("tab:blue", "--"), 3.0: ("black", "-.")}
    for k, alpha in enumerate(alphas):
        f = beta * np.asarray(laws.free_energy_change[:, k])
        color, ls = styles.get(alpha, (None, ":"))
        ax.plot(deltas, f, color=color, ls=ls, label=f"βΔF_α, α = {alpha:g}")
        rows += _rows("second_laws", f"beta_dF_alpha={alpha:g}", deltas, f)
    star = np.log(0.75 / 0.25) / BETA_G0 - 1.0
    ax.axvline(star, color="0.6", lw=0.7, ls=":")
    ax.text(star + 0.005, ax.get_ylim()[0] * 0.9, f"δ* = {star:.3g}: τ(δ*) = ρ", fontsize=7, color="0.4")
    ax.axhline(0, color="0.8", lw=0.5)
    ax.set_xlabel("inhomogeneity δ")
    ax.set_ylabel("β × energy (dimensionless)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.legend(fontsize=8)
    ax.set_title(f"{title}\n{_params_text(θ=model.theta, p0=0.75)}, {sigma_text}", fontsize=9)
    fig.tight_layout()
    return _save(fig, rows, out, name)


def _fig5(out, quick, seed):
    plt = pyplot()
    theta, n = CHOSEN["fig5_theta"], CHOSEN["fig5_steps"]
    configs = 400 if quick else CHOSEN["fig5_configs"]
    model = _model(theta=theta, sigma=0.05)
    rho0 = _rho(0.735)
    # The frozen-configuration average streams through the ensemble engine;
    # the averaged state ρ̄_r is exact (quadrature over G), not sampled.
    res = ensemble(model, rho0, n, configs, seed=seed, alphas=(1.0, np.inf), chunk_size=5000)
    averaged = divergences_to_thermal(model, averaged_trajectory(model, rho0, n).states, [1.0, np.inf])
    r = np.arange(n + 1)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4))
    rows = []
    for k, (ax, alpha) in enumerate(zip(axes, ("1", "∞"))):
        fm, fe, av = res.mean_divergence[:, k], res.standard_error("divergence")[:, k], np.asarray(averaged[:, k])
        rel = float(np.max(2 * fe[1:] / np.abs(fm[1:])))
        ax.plot(r, fm, "k-.", label="frozen configurations: mean of D_α(ρ_S|r ‖ τ_S)")
        ax.fill_between(
            r,
            fm - 2 * fe,
            fm + 2 * fe,
            color="tab:blue",
            alpha=0.35,
            lw=0,
            label=f"± 2 standard errors (at most {100 * rel:.2g} % of the mean:\non this log scale about a line width; zoom in the inset)",
        )
        ax.plot(r, av, "r-", label="ensemble-averaged state: D_α(ρ̄_S|r ‖ τ_S)")
        ax.set_xlabel("collision r")
        ax.set_ylabel(f"D_α (nats), α = {alpha}")
        ax.set_yscale("log")
        # legend below the panel and the inset in the lower left, under both curves (they fall from
        # ρ_0's divergence at r = 0): inside, at the upper right, the inset hid the frozen mean for
        # r ≳ 55 and the legend in the lower left took the room the inset now has
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14))
        # inset: a linear zoom on a few collisions, where the ±2 s.e. band is visible
        lo, hi = n // 2 - 4, n // 2 + 4
        ins = ax.inset_axes([0.07, 0.07, 0.36, 0.33])
        ins.fill_between(
            r[lo : hi + 1], (fm - 2 * fe)[lo : hi + 1], (fm + 2 * fe)[lo : hi + 1], color="tab:blue", alpha=0.35, lw=0
        )
        ins.plot(r[lo : hi + 1], fm[lo : hi + 1], "k-.", lw=1)
        ins.set_title(f"zoom, r = {lo}…{hi} (linear)", fontsize=6)
        ins.tick_params(labelsize=5)
        ins.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ins.yaxis.get_offset_text().set_fontsize(5)
        ax.set_title(f"α = {alpha}", fontsize=9)
        dip = int(np.argmin(av[1:])) + 1
        if dip < n:  # ρ̄ passes through τ_S on its way from ρ_0 to τ̄ (q̄0 < q0(0) < p0)
            ax.annotate(
                "ρ̄_S|r crosses τ_S\n(ρ_0 above τ_S, τ̄ below)",
                xy=(r[dip], av[dip]),
                xytext=(0.5, 0.06),
                textcoords="axes fraction",
                fontsize=7,
                arrowprops=dict(arrowstyle="->", lw=0.6),
            )
        rows += _rows("divergence", f"frozen_mean_alpha={alpha}", r, fm)
        rows += _rows("divergence", f"frozen_stderr_alpha={alpha}", r, fe)
        rows += _rows("divergence", f"averaged_alpha={alpha}", r, av)
    fig.suptitle(
        f"{PUBLISHED}, Fig. 5: Rényi divergences, frozen ensemble vs averaged state\n"
        + _params_text(σ=0.05, p0=0.735, θ=theta, configurations=configs),
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, rows, out, "fig5")


def make_figure(name: str, out, quick: bool = False, seed: int = 0):
    """Write ``{out}/{name}.png`` and ``{out}/{name}.csv``; returns their paths."""
    key = jax.random.PRNGKey(seed)
    p0_pre = (1.0, 1 / (1 + A), 0.5, A / (1 + A), 0.0)
    p0_pub = CHOSEN["p0_published"]
    if name == "preprint_fig1":
        title = f"{PREPRINT}, Fig. 1: single-collision work (a) and its distribution (b)"
        return _single_collision_figure(out, name, "work", "hamiltonian", p0_pre, title, quick, key)
    if name == "fig1":
        title = f"{PUBLISHED}, Fig. 1: single-collision work and its distribution, inhomogeneous Hamiltonian"
        return _single_collision_figure(out, name, "work", "hamiltonian", p0_pub, title, quick, key)
    if name == "fig2":
        title = f"{PUBLISHED}, Fig. 2: single-collision heat and its distribution, inhomogeneous Hamiltonian"
        return _single_collision_figure(out, name, "heat", "hamiltonian", p0_pub, title, quick, key)
    if name == "fig3":
        title = f"{PUBLISHED}, Fig. 3: single-collision heat and its distribution, inhomogeneous temperature"
        return _single_collision_figure(out, name, "heat", "temperature", p0_pub, title, quick, key)
    if name == "preprint_fig2":
        # Both papers show the same curves (same parameters); this file repeats fig4 and says so.
        title = (
            f"{PREPRINT}, Fig. 2: βW and βΔF_α after one collision —\n"
            "the same curves as the published Fig. 4 (fig4.png); the preprint gives no θ: 0.1 as published"
        )
        return _second_laws_figure(out, name, title, quick)
    if name == "fig4":
        return _second_laws_figure(out, name, f"{PUBLISHED}, Fig. 4: βW and βΔF_α after one collision", quick)
    if name == "fig5":
        return _fig5(out, quick, seed)
    raise ValueError(f"only: unknown figure {name!r}; choose from {list(FIGURES)}")


def figure_names(only=None) -> tuple:
    """The figures named in ``only`` (comma-separated; None: all); ValueError names an unknown one."""
    # each once: --only fig4,fig4 computed and wrote fig4 twice
    names = FIGURES if only is None else tuple(dict.fromkeys(n.strip() for n in only.split(",") if n.strip()))
    for name in names:
        if name not in FIGURES:
            raise ValueError(f"--only: unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    if not names:
        raise ValueError(f"--only: name at least one figure of {', '.join(FIGURES)}")
    return names


def main(out=DEFAULT_OUT, only=None, quick: bool = False) -> int:
    """Write the figures (all, or the comma-separated names in ``only``) into ``out``; returns 0."""
    names = figure_names(only)
    require_matplotlib()
    files = [f"{name}.{ext}" for name in names for ext in ("png", "csv")]
    check_output_folder(out, files, where=f"output folder {str(out)!r}")  # before computing: ConfigError
    for name in names:
        start = time.perf_counter()
        png, csv_path = make_figure(name, out, quick=quick)
        print(f"{name}: {png} + {csv_path.name} ({time.perf_counter() - start:.1f} s)")
    return 0


VALIDITY = "partial_swap_validity"


def run_script(name: str, argv=None, description: str | None = None) -> int:
    """Entry point of ``scripts/inhomogeneous/<name>.py``: ``[OUT_DIR] [--quick]``.

    ``name`` is one of :data:`FIGURES` or ``"partial_swap_validity"`` (:func:`validity_study`);
    ``description``: the script's docstring, shown by ``--help`` (its ``Usage:`` line left to argparse).
    Returns the exit status: 1 with the install hint on stderr when matplotlib is missing.
    """
    import sys

    from .script_cli import script_arguments

    what = f"Writes {name}.png and {name}.csv" + ("." if name == VALIDITY else " (long format: panel, series, x, y).")
    if description:  # what the figure shows and its parameters, before what it writes
        shown = [line for line in description.strip().splitlines() if not line.startswith("Usage:")]
        what = "\n".join(shown).strip() + "\n\n" + what
    elif name == VALIDITY:
        what = " ".join(validity_study.__doc__.split("\n\n")[0].split()) + "\n\n" + what
    args = script_arguments(f"{name}: {what}", default_out=DEFAULT_OUT, argv=argv)
    out, quick = args.out, args.quick
    try:
        if name == VALIDITY:
            png, csv_path = validity_study(out=out, quick=quick)
            print(f"{name}: {png} + {csv_path.name}")
            return 0
        return main(out=out, only=name, quick=quick)
    except MissingPlotDependency as err:
        print(f"{name}: {err}", file=sys.stderr)
        return 1


def validity_study(out=DEFAULT_OUT, quick: bool = False):
    """Beyond the papers (docs/inhomogeneous.md, [ATO-preprint] App. A1): mean distance between the exact
    two-body evolution and the partial swap vs x = σ g0 (d − 1)/(2 g_int), for several d and g_int.

    Writes ``partial_swap_validity.png`` and ``.csv``; θ = 0.7, βg0 = 1, Gaussian G.
    """
    plt = pyplot()
    sigmas = np.geomspace(1e-3, 0.5, 5 if quick else 12)
    fig, (ax_u, ax_c) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = []
    markers = {2: "o", 3: "s", 4: "^"}
    # g_int = 0.5 g0 carries x past 1 at σ ≤ 0.5, where the error leaves the line (with g_int ≥ 2 g0 alone the data
    # stopped at x ≈ 0.4 while the condition x ≪ 1 was marked at x = 1)
    colors = {0.5: "tab:red", 2.0: "tab:blue", 5.0: "tab:orange", 20.0: "tab:green"}
    for d in (2, 3, 4):
        model = InhomogeneousReservoir(d, BETA_G0, 1.0, 0.7)
        error = jax.jit(jax.vmap(lambda g, s: mean_partial_swap_error(model, g, Gaussian(s)), in_axes=(None, 0)))
        for g_int in colors:
            batch = error(g_int, jnp.asarray(sigmas))
            errs = [type(batch)(*(v[i] for v in batch)) for i in range(len(sigmas))]
            x = sigmas * (d - 1) / (2 * g_int)
            series = f"d={d}, g_int/g0={g_int:g}"
            for ax, values, panel in (
                (ax_u, [float(e.unitary) for e in errs], "unitary"),
                (ax_c, [float(e.channel) for e in errs], "channel"),
            ):
                ax.loglog(x, values, marker=markers[d], color=colors[g_int], ms=4, lw=0.8, label=series)
                rows += _rows(panel, series, x, values)
    for ax, what in (
        (ax_u, "E_G ‖V − U(θ)‖ (operator norm)"),
        (ax_c, "E_G Choi trace distance of the system channels"),
    ):
        ax.set_xlabel("x = σ g0 (d − 1) / (2 g_int)")
        ax.set_ylabel(what)
        ax.axvline(1.0, color="0.6", ls=":", lw=0.8)
        # left of the line, in axes height: at x = 1.05 the label ran off the right edge of the panel
        ax.text(0.95, 0.04, "x = 1", fontsize=7, color="0.4", ha="right", transform=ax.get_xaxis_transform())
    ax_u.legend(fontsize=6, ncol=3, loc="upper left")
    fig.suptitle(
        f"Validity of the fixed partial swap ({PREPRINT}, App. A1): "
        "exact evolution (interaction picture of H_0) vs U(θ)\n" + _params_text(θ=0.7, G="Gaussian(σ)"),
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, rows, out, "partial_swap_validity")
