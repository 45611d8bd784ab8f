"""``summary.png`` of a ``jaxthermo run``: one page drawn from the results Dataset itself."""

from __future__ import annotations

import itertools

import numpy as np

from ._plotting import pyplot, save_figure


def _title(ds):
    study = ds.attrs.get("study", "")
    title = ds.attrs.get("title", "")
    return f"jaxthermo {study}" + (f": {title}" if title else "")


def plot_summary(ds, path):
    """Write a summary figure of a results Dataset (any study) to ``path``."""
    study = ds.attrs.get("study", "ensemble")
    plt = pyplot()
    if study == "ensemble":
        fig = _ensemble(plt, ds)
    elif study == "sweep":
        fig = _sweep(plt, ds)
    elif study == "coherent_scan":
        fig = _scan(
            plt, ds, ("coherent_work_rate", "incoherent_heat_rate", "entropy_production_rate", "excited_population")
        )
    else:
        fig = _assignment(plt, ds)
    save_figure(fig, path, dpi=110)


# how a parameter of the configuration is written on a plot (its symbol in docs/ and the README)
SYMBOLS = {
    "d": "d",
    "beta": "β",
    "g0": "g0",
    "theta": "θ",
    "sigma": "σ",
    "width": "width",
    "delta": "δ",
    "n_steps": "N",
    "lam": "λ",
    "tau": "τ",
    "omega": "Ω",
    "g": "g",
    "detuning": "Δ",
    "effective_coupling": "Γ",
    "nu2": "ν2",
    "beta1": "β1",
    "beta2": "β2",
}


# model C: g is the hopping within each reservoir (beside Γ it read as the coupling between the reservoirs)
ASSIGNMENT_SYMBOLS = {**SYMBOLS, "g": "hopping g", "n1": "N1", "n2": "N2"}


def _symbol(name: str, symbols: dict = SYMBOLS) -> str:
    return symbols.get(name, name)


def _point(names, values, symbols: dict = SYMBOLS) -> str:
    """``θ = 0.1, σ = 0.02``: one grid point in the symbols of the plot."""
    return ", ".join(f"{_symbol(g, symbols)} = {v:g}" for g, v in zip(names, np.atleast_1d(values)))


def _params(ds, width: int = 120):
    """The model-A parameters of a run, written as on a plot (scanned ones are absent from the attributes),
    in lines of at most about ``width`` characters."""
    parts = []
    for k in ("model_d", "model_beta", "model_g0", "model_theta"):
        if k in ds.attrs:
            v = ds.attrs[k]
            text = f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)
            if np.ndim(v) == 1 and np.size(v) > 1:  # a θ schedule: its 200 values ran off the page
                v = np.asarray(v, float)
                text = f"schedule of {v.size} ({v[0]:.4g} … {v[-1]:.4g})"
            parts.append(f"{_symbol(k.removeprefix('model_'))} = {text}")
    if "model_kind" in ds.attrs:
        parts.append(f"{ds.attrs['model_kind']} inhomogeneity")
    if ds.attrs.get("model_coupling") == "ExactUnitary":  # else the title read as the partial swap's
        parts.append(f"exact two-body unitary, g_int = {float(ds.attrs.get('model_coupling_g_int', np.nan)):.4g}")
    law = ds.attrs.get("distribution", "")
    spread = [f"{_symbol(k)} = {ds.attrs[f'distribution_{k}']:.4g}" for k in SPREADS if f"distribution_{k}" in ds.attrs]
    if law:
        parts.append(" ".join([f"{law} G(δ)"] + spread))
    if "n_steps" in ds.attrs:  # absent when the grid has several N (each point's N is on the plot)
        parts.append(f"N = {int(ds.attrs['n_steps'])}")
    initial = _initial_state(ds)
    if initial:
        parts.append(initial)
    if "n_configs" in ds.attrs:
        parts.append(f"{int(ds.attrs['n_configs'])} configurations")
    if "seed" in ds.attrs:
        parts.append(f"seed {ds.attrs['seed']}")
    return _wrap(parts, width)


def _wrap(parts, width: int = 120) -> str:
    """``parts`` joined by ", ", broken into lines of at most about ``width`` characters (the title is
    centred on the figure: a longer line ran off both edges)."""
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + 2 + len(part) > width:
            lines[-1] += ","
            lines.append(part)
        else:
            lines[-1] = f"{lines[-1]}, {part}" if lines[-1] else part
    return "\n".join(lines)


SPREADS = ("sigma", "width", "delta")


def _initial_state(ds) -> str:
    """``ρ0 = ground``, ``ρ0 = thermal (β = 0.5)``, ``ρ0 = thermal (β = 1, the reservoir's)``: the study's
    [initial_state], read from the
    resolved config the run stored in the attribute ``config_toml`` ("" without one)."""
    import tomllib

    try:
        cfg = tomllib.loads(ds.attrs.get("config_toml", ""))
    except tomllib.TOMLDecodeError:
        return ""
    state = cfg.get("initial_state", {})
    name = state.get("name")
    if not name:
        return ""
    if name == "thermal" and "beta" in state:
        return f"ρ0 = thermal (β = {state['beta']:.4g})"
    if name == "thermal":  # τ_S of the model's β (of each grid point)
        beta = cfg.get("model", {}).get("beta")
        if beta is None or "beta" in cfg.get("grid", {}):
            return "ρ0 = thermal (the reservoir's β)"
        return f"ρ0 = thermal (β = {beta:.4g}, the reservoir's)"
    return f"ρ0 = {name}"


def _alpha(a) -> str:
    return "∞" if np.isinf(a) else f"{a:g}"


# model A's energies are in the unit g0 is given in (ħ = k_B = 1), not divided by g0: "energy / g0" and
# "[g0]" read as W/g0, off by the factor g0 for g0 != 1 (and meaningless on a grid over g0)
ENERGY = "in the unit of g0"
# why W_r = 0 in every collision of a temperature inhomogeneity (β_r = β(1+δ_r) leaves the levels alone), said
# beside its zero work, its zero derivatives and its histogram of one value
NO_WORK = "a temperature inhomogeneity does no work"

# up to this many collisions the curves of summary.png carry markers: a line through one point (N = 1)
# draws nothing, and the panels of a one-step run were empty
MARKED_STEPS = 25


def _ensemble(plt, ds):
    n = int(ds.attrs["n_configs"])
    entropy = "mean_entropy_flow" in ds  # results written before the entropy was streamed have none
    fig = plt.figure(figsize=(16, 7.5) if entropy else (11, 7.5))
    grid = fig.add_gridspec(2, 3 if entropy else 2)
    # the energy and divergence panels first (fig.axes[0…3] as in a 2 × 2 page), the entropy column after them
    ax = np.array([[fig.add_subplot(grid[i, j]) for j in (0, 1)] for i in (0, 1)])
    r = ds.collision.values
    dots = dict(marker="o", ms=4) if r.size <= MARKED_STEPS else {}
    for axis, total in ((ax[0, 0], False), (ax[0, 1], True)):  # per collision, accumulated: W, Q ± 2 s.e.
        for name, symbol, color in (("work", "W", "C0"), ("heat", "Q", "C1")):
            field = f"cumulative_{name}" if total else name
            if f"mean_{field}" not in ds:  # a results file of a version without the accumulated heat
                continue
            m, se = ds[f"mean_{field}"].values, np.sqrt(ds[f"var_{field}"].values / n)
            label = f"⟨{symbol}_1 + … + {symbol}_r⟩" if total else f"⟨{symbol}_r⟩"
            axis.plot(r, m, color=color, label=f"{label} (±2 s.e. shaded)", **dots)
            axis.fill_between(r, m - 2 * se, m + 2 * se, color=color, alpha=0.3, lw=0)
    ax[0, 0].set(
        xlabel="collision r", ylabel=f"energy ({ENERGY})", title="mean work on, heat into the system per collision"
    )
    ax[0, 0].legend(fontsize=8)
    ax[0, 1].set(xlabel="collision r", ylabel=f"energy ({ENERGY})", title="accumulated")
    ax[0, 1].legend(fontsize=8)
    steps = ds.step.values
    curves = [
        (ds.mean_state_divergence.values[:, k], "-", f"D_α(ρ̄_r‖τ_S) [nats], α = {_alpha(a)}")
        for k, a in enumerate(ds.alpha.values)
    ]
    curves.append((ds.mean_state_trace_distance.values, "k--", "trace distance D(ρ̄_r, τ̄)"))
    # spanning decades (D_1 ~ D_∞² near τ_S): a log scale when every value from r = 1 on is positive; r = 0
    # (ρ0) drawn where it is positive too (ρ0 = τ_S gives 0; it was always left out)
    log = all(np.all(c[1:] > 0) for c, _, _ in curves)
    for c, style, label in curves:
        first = int(log and not c[0] > 0)
        ax[1, 0].plot(steps[first:], c[first:], style, label=label, **dots)
    if log:
        ax[1, 0].set_yscale("log")
    ax[1, 0].set(xlabel="step r", ylabel="divergence [nats], trace distance", title="mean state ρ̄_r vs τ_S and τ̄")
    ax[1, 0].legend(fontsize=8)
    edges, counts = ds.work_histogram_edges.values, ds.work_histogram_counts.values
    title = f"distribution of W_N (N = {int(ds.attrs['n_steps'])})"
    mean_w = float(ds.mean_cumulative_work.values[-1])
    spread = float(np.sqrt(max(float(ds.var_cumulative_work.values[-1]), 0.0)))  # NaN for one configuration
    if n == 1 or spread <= 1e-9 * max(1.0, abs(mean_w)):
        # one value (a temperature inhomogeneity does no work, or a single configuration): the histogram
        # was a single bar of density ~1e13 on a ±1e-12 axis (1e10 on ±1e-9 for n = 1), a picture of rounding
        why = f"\n({NO_WORK})" if ds.attrs.get("model_kind") == "temperature" else ""
        where = "the only configuration\n(n_configs = 1: no distribution to show)" if n == 1 else "every configuration"
        ax[1, 1].text(
            0.5,
            0.5,
            f"W_N = {mean_w:.6g}{f' ({ENERGY})' if mean_w else ''} in {where}{why}",
            ha="center",
            va="center",
            transform=ax[1, 1].transAxes,
        )
        ax[1, 1].set(xticks=[], yticks=[], title=title)
    else:
        width = np.diff(edges)
        # per configuration, as Histogram.density: those outside the edges count in the norm (they are
        # outside the default range, set by the first 512 configurations; normalised to the ones inside, the
        # bars overstated the density by the fraction outside)
        outside = sum(int(ds[f"work_histogram_{k}"]) for k in ("underflow", "overflow") if f"work_histogram_{k}" in ds)
        density = counts / max(1, int(counts.sum()) + outside) / width
        ax[1, 1].bar(edges[:-1], density, width=width, align="edge", color="C0", alpha=0.7)
        if outside:
            title += f"\n{outside} of {int(counts.sum()) + outside} configurations outside the bins"
        ax[1, 1].set(xlabel=f"W_N ({ENERGY})", ylabel="probability density (per unit of g0)", title=title)
        _readable_ticks(ax[1, 1].xaxis)
    from matplotlib.ticker import MaxNLocator

    whole = [ax[0, 0], ax[0, 1], ax[1, 0]]
    if entropy:
        whole += _entropy_panels(fig.add_subplot(grid[0, 2]), fig.add_subplot(grid[1, 2]), ds, n, dots)
    for a in whole:  # collisions and steps are whole numbers (N = 1 gave 0.96 … 1.04)
        a.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    # a run with [run] wrt: a line of ∂⟨W_N⟩, one of ∂⟨ΔS_1 + … + ΔS_N⟩ (absent from older results files)
    names = _wrt(ds)
    lines = [
        [_derivative(ds, name, "work") for name in names],
        [_derivative(ds, n, "entropy") for n in names if f"{_SENSITIVITY}{n}_mean_total_entropy_production" in ds],
    ]
    lines = [line for line in lines if line]
    if lines:  # the panels shade ±2 s.e.: say which this is
        lines[-1][-1] += " (± 1 standard error)"
    fig.suptitle("\n".join([_title(ds), _params(ds)] + [_wrap(line) for line in lines]), fontsize=10)
    fig.tight_layout()
    return fig


def _entropy_panels(per_collision, accumulated, ds, n, dots) -> list:
    """The entropy column of an ensemble's page (docs/inhomogeneous.md §9), in nats: per collision the flow
    ⟨β_r Q_r⟩ ± 2 standard errors and the production ⟨ΔS_r⟩; accumulated from r = 0 (where each is 0)
    ⟨ΔS_1 + … + ΔS_r⟩, the flow's running sum and their sum, the change ⟨S(ρ_S|r)⟩ − S(ρ0) of the system's
    entropy. The production where the run evaluated D_1 (the rows ``divergence_every`` skips are NaN: the
    evaluated ones drawn as points); the x label says where there is none to draw. ±2 standard errors of the total
    ΔS_1 + … + ΔS_N at r = N (each configuration's total is streamed)."""
    r = ds.collision.values
    flow, se = ds.mean_entropy_flow.values, np.sqrt(ds.var_entropy_flow.values / n)
    steps, flows = np.concatenate([[0], r]), np.concatenate([[0.0], np.cumsum(flow)])
    per_collision.plot(r, flow, color="C1", label="flow ⟨β_r Q_r⟩ (±2 s.e. shaded)", **dots)
    per_collision.fill_between(r, flow - 2 * se, flow + 2 * se, color="C1", alpha=0.3, lw=0)
    accumulated.plot(steps, flows, color="C1", label="flow ⟨β_1 Q_1 + … + β_r Q_r⟩", **dots)
    missing = "needs D_1 (α = 1 among the alphas)"
    if "mean_entropy_production" in ds:
        values = ds.mean_entropy_production.values
        kept = np.isfinite(values)  # a stride of divergence_every: pairs of consecutive evaluated rows only
        style = dots if kept.all() else dict(marker="o", ms=4, ls="none")
        missing = None if kept.any() else f"D_1 every {int(ds.attrs.get('divergence_every', 1))} collisions only"
        if kept.any():
            per_collision.plot(r[kept], values[kept], color="C2", label="production ⟨ΔS_r⟩", **style)
        total = np.concatenate([[0.0], ds.mean_cumulative_entropy_production.values])
        kept = np.isfinite(total)
        style = dots if kept.all() else dict(marker="o", ms=4)
        accumulated.plot(steps[kept], total[kept], color="C2", label="production ⟨ΔS_1 + … + ΔS_r⟩", **style)
        system = total[kept] + flows[kept]
        accumulated.plot(steps[kept], system, color="k", label="system ⟨S(ρ_S|r)⟩ − S(ρ0)", **{**style, "ls": "--"})
    if "mean_total_entropy_production" in ds:  # each configuration's total streamed: its standard error at r = N
        total = float(ds.mean_total_entropy_production)
        se_total = float(np.sqrt(ds.var_total_entropy_production / n))
        accumulated.errorbar(
            r[-1], total, yerr=2 * se_total, color="C2", capsize=4, marker="o", ms=4, label="ΔS_1 + … + ΔS_N: ±2 s.e."
        )
    per_collision.axhline(0.0, color="0.6", lw=0.6)
    xlabel = "collision r" + (f"\n(production ⟨ΔS_r⟩: {missing})" if missing else "")
    per_collision.set(xlabel=xlabel, ylabel="entropy (nats)", title="entropy per collision: flow in, production")
    accumulated.set(xlabel="collision r", ylabel="entropy (nats)", title="accumulated entropy balance")
    for axis in (per_collision, accumulated):
        axis.legend(fontsize=8)
    return [per_collision, accumulated]


_SENSITIVITY = "sensitivity_"
_TOTAL_WORK = "_mean_cumulative_work"


def _wrt(ds) -> list:
    """The parameters of a run's sensitivities (``sensitivity_<name>_…`` variables), in their order."""
    return [
        v[len(_SENSITIVITY) : -len(_TOTAL_WORK)]
        for v in ds.data_vars
        if v.startswith(_SENSITIVITY) and v.endswith(_TOTAL_WORK)
    ]


def _derivative(ds, name, quantity) -> str:
    """``∂⟨W_N⟩/∂θ = 0.0123 ± 0.0004 energy/rad`` at r = N (± 1 s.e.) of one point of a run; a parameter
    with several entries (a θ schedule) by the range of its entries."""
    field = {"work": "cumulative_work", "divergence": "divergence", "entropy": "total_entropy_production"}[quantity]
    if quantity == "entropy":  # one number per configuration, no collision axis
        mean, var = (ds[f"{_SENSITIVITY}{name}_{stat}_{field}"] for stat in ("mean", "var"))
    else:
        mean, var = _final(ds, field, f"{_SENSITIVITY}{name}_")
    label = {"divergence": f"⟨D_{_alpha(ds.alpha.values[0])}(ρ_S|N‖τ_S)⟩", "entropy": "⟨ΔS_1 + … + ΔS_N⟩"}.get(
        quantity, "⟨W_N⟩"
    )
    units = ds[f"{_SENSITIVITY}{name}_mean_{field}"].attrs.get("units", "")
    units = f"({units})" if units == "dimensionless" else units
    symbol = _symbol(name)
    n = int(ds.attrs["n_configs"])
    if mean.ndim:  # ∂/∂θ_s of a schedule: N numbers, each ± its s.e. when few, else their range
        head = f"∂{label}/∂{symbol}_s, s = 1…{mean.size}:"
        mean, var = np.ravel(mean.values), np.ravel(var.values)
        if mean.size <= SCHEDULE_PRINTED and n > 1:
            return f"{head} " + ", ".join(f"{m:.4g} ± {np.sqrt(v / n):.2g}" for m, v in zip(mean, var)) + f" {units}"
        spread = f" (standard errors ≤ {np.sqrt(np.max(var) / n):.2g})" if n > 1 else ""
        return f"{head} {mean.min():.4g} … {mean.max():.4g} {units}{spread}"
    return f"∂{label}/∂{symbol} = {_estimate(mean, var, n, units)}"


# a θ schedule of up to this many angles has each derivative printed, a longer one their range
SCHEDULE_PRINTED = 6


def _estimate(mean, var, n, unit) -> str:
    """``0.0123 ± 0.0004 energy`` (1 standard error √(var/n)); one configuration has none (its variance is NaN)."""
    if n < 2:
        return f"{float(mean):.4g} {unit} (no standard error from one configuration)"
    return f"{float(mean):.4g} ± {float(np.sqrt(var / n)):.2g} {unit}"


def _over(n) -> str:
    if n < 2:
        return "(1 configuration; all in results.nc)"
    return f"(± 1 standard error over {n} configurations; all in results.nc)"


# grid points of a sweep whose derivatives are printed (all are in results.nc)
PRINTED_POINTS = 12


def _per_point(ds, header, parts_of, grid=None, symbols: dict = SYMBOLS) -> list:
    """``header``, then the parts of each grid point of a run (one line each; the first
    :data:`PRINTED_POINTS`) or of its one point (one line per part). ``grid``: the dimensions of the points
    (default: the ``grid`` attribute of a sweep)."""
    lines = [header]
    if grid is None:
        grid = [g for g in ds.attrs.get("grid", "").split(",") if g]
    points = list(itertools.product(*(ds[g].values for g in grid)))
    for k, point in enumerate(points):
        if k == PRINTED_POINTS:
            lines.append(f"  … {len(points) - k} more grid points in results.nc")
            break
        parts = parts_of(ds.sel(dict(zip(grid, point))))
        if grid:
            lines.append(f"  {_point(grid, point, symbols)}: " + "; ".join(parts))
        else:
            lines += [f"  {part}" for part in parts]
    return lines


# the totals printed at the end of a model-A run: (label, variable at r = N, unit)
TOTALS = (
    ("⟨W_N⟩", "cumulative_work", "energy"),
    ("⟨Q_N⟩", "cumulative_heat", "energy"),
    ("⟨ΔU_N⟩", "cumulative_energy_change", "energy"),
)


def mean_lines(ds) -> list:
    """The main statistics of a model-A run, said at the end of ``jaxthermo run``: the totals ⟨W_N⟩, ⟨Q_N⟩
    (into the system) and ⟨ΔU_N⟩ = ⟨W_N⟩ + ⟨Q_N⟩ and the frozen average ⟨D_α(ρ_S|N‖τ_S)⟩ (first α), each
    ± 1 standard error √(var/n_configs), and the entropy production ⟨ΔS_1 + … + ΔS_N⟩ (a mean only from results
    written before its spread was streamed, where they evaluated D_1), per grid point of a sweep; [] for a run of
    another model."""
    if "mean_cumulative_work" not in ds:
        return []
    n = int(ds.attrs["n_configs"])

    def parts(at):
        out = []
        for label, field, unit in TOTALS:
            out.append(f"{label} = {_estimate(*_final(at, field), n, unit)}")
        if ds.attrs.get("model_kind") == "temperature":  # W_N = 0 in every configuration: say why
            out[0] += f" ({NO_WORK})"
        if at.sizes.get("alpha", 0):
            label = f"⟨D_{_alpha(at.alpha.values[0])}(ρ_S|N‖τ_S)⟩"
            out.append(f"{label} = {_estimate(*_final(at, 'divergence'), n, 'nat')}")
        if "mean_total_entropy_production" in at:  # each configuration's ΔS_1 + … + ΔS_N, streamed
            mean, var = at["mean_total_entropy_production"], at["var_total_entropy_production"]
            out.append(f"⟨ΔS_1 + … + ΔS_N⟩ = {_estimate(mean, var, n, 'nat')} (entropy production)")
        elif "mean_cumulative_entropy_production" in at:  # a results file written before the total was streamed
            value = float(_at_last(at["mean_cumulative_entropy_production"], "collision"))
            out.append(f"⟨ΔS_1 + … + ΔS_N⟩ = {value:.4g} nat (entropy production; mean only)")
        return out

    return _per_point(ds, f"means at r = N {_over(n)}:", parts)


# the quantities printed at the end of a scan: (symbol, variable, unit) of model B's steady state and of
# model C's heats at the last time (the bare and the interaction assignments share one heat, Q̃_S + Q̃_I:
# docs/assignment.md §2; they differ in energy and work only)
SCANNED = {
    "coherent_scan": (
        ("Ẇ_C", "coherent_work_rate", "energy/time"),
        ("Q̇_inc", "incoherent_heat_rate", "energy/time"),
        ("Π", "entropy_production_rate", "nat/time"),
    ),
    "assignment_scan": (
        ("Q_bare = Q_int", "bare_heat", "energy"),
        ("Q_md", "minimal_dissipation_heat", "energy"),
    ),
}


def scan_lines(ds) -> list:
    """The main numbers of a model-B or model-C scan, said at the end of ``jaxthermo run``: the steady state's
    Ẇ_C, Q̇_inc and Π, or the heats into reservoir 1 at the last time (bare = interaction, minimal dissipation)
    with their peak (the signed value of largest |Q| and its time), per scan point; [] otherwise."""
    quantities = SCANNED.get(ds.attrs.get("study", ""))
    if quantities is None:
        return []
    grid = [d for d in ds[quantities[0][1]].dims if d != "time"]
    times = ds.time.values if "time" in ds.dims else None

    def part(symbol, values, unit, errors=None):
        value = float(values[-1]) + 0.0  # + 0.0: −0 printed as 0
        if not np.isfinite(value):
            return f"{symbol} undefined (singular)"
        # Q_md with its quadrature error estimate: a result whose estimate reached its size (a warning said
        # "no reliable digit") was printed as an ordinary number
        error = "" if errors is None else f" ± {float(errors[-1]):.2g}"
        if values.size == 1:
            return f"{symbol} = {value:.4g}{error} {unit}"
        # an oscillating heat: its value at one time alone says little. Its peak is signed (a heat flows either
        # way; "largest -0.0047" under a "largest |Q|" header read as a misprint), with the time it is reached
        k = int(np.nanargmax(np.abs(values)))
        peak = f"{float(values[k]) + 0.0:.4g}" + ("" if errors is None else f" ± {float(errors[k]):.2g}")
        return f"{symbol} = {value:.4g}{error} {unit} (peak {peak} at t = {times[k]:g})"

    def parts(at):
        return [
            part(
                symbol,
                np.atleast_1d(at[name].values),
                unit,
                np.atleast_1d(at[f"{name}_error"].values) if f"{name}_error" in at else None,
            )
            for symbol, name, unit in quantities
        ]

    if "time" in ds.dims:
        t = ds.time.values
        header = f"heat into reservoir 1 at t = {t[-1]:g}, and its peak (largest |Q|) over {t[0]:g} ≤ t ≤ {t[-1]:g}:"
        return _per_point(ds, header, parts, grid, ASSIGNMENT_SYMBOLS)
    return _per_point(ds, "steady state (docs/coherent.md §3; all in results.nc):", parts, grid)


def derivative_lines(ds) -> list:
    """The main derivatives of a run with ``[run] wrt``, said at the end of ``jaxthermo run``: ∂⟨W_N⟩,
    ∂⟨D_α(ρ_S|N‖τ_S)⟩ (first α) and ∂⟨ΔS_1 + … + ΔS_N⟩ at r = N, ± 1 standard error √(var/n_configs), per parameter
    (and per grid point of a sweep), and where ∂W_N/∂δ_r peaks ("deltas"); [] for a run without."""
    names = _wrt(ds)
    if not names and "delta_sensitivity_mean_work" not in ds:
        return []
    n = int(ds.attrs["n_configs"])

    def parts_of(at):
        quantities = ("work", "divergence") if at.sizes.get("alpha", 0) else ("work",)
        if names and f"{_SENSITIVITY}{names[0]}_mean_total_entropy_production" in at:  # absent from older files
            quantities += ("entropy",)
        parts = [_derivative(at, name, q) for q in quantities for name in names]
        if "delta_sensitivity_mean_work" in at:
            g = at.delta_sensitivity_mean_work.dropna("collision")
            r = int(np.argmax(np.abs(g.values)))
            estimate = _estimate(g.values[r], at.delta_sensitivity_var_work.values[r], n, "energy")
            parts.append(f"∂W_N/∂δ_r largest at r = {r + 1}: {estimate}")
        return parts

    lines = _per_point(ds, f"derivatives at r = N {_over(n)}:", parts_of)
    if names and ds.attrs.get("model_kind") == "temperature":  # ∂⟨W_N⟩ = 0 ± 0 for every parameter: say why
        lines.append(f"  ∂⟨W_N⟩ = 0 for every parameter: {NO_WORK}")
    held = [name for name in names if "comment" in ds[f"{_SENSITIVITY}{name}{_TOTAL_WORK}"].attrs]
    if held:  # a thermal ρ0 = τ_S(β, g0): the derivatives include its change (study._note_moving_rho0)
        comment = ds[f"{_SENSITIVITY}{held[0]}{_TOTAL_WORK}"].attrs["comment"]
        lines.append(f"  ∂/∂{' and ∂/∂'.join(map(_symbol, held))} {comment}")
    return lines


def _readable_ticks(axis):
    """At most 6 ticks, in scientific notation outside 10⁻³…10³ (long decimals overlapped)."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    axis.set_major_locator(MaxNLocator(6))
    formatter = ScalarFormatter(useMathText=True)
    formatter.set_powerlimits((-3, 3))
    axis.set_major_formatter(formatter)


# marker, line style and marker size of successive series (the larger markers first, so that
# series which coincide, e.g. D_α for two σ, stay visible)
STYLES = (("o", "-", 8), ("s", "--", 5), ("^", ":", 4), ("D", "-.", 3), ("v", "-", 3), ("x", "--", 5))


def _spans_decades(values, decades: float = 2.0) -> bool:
    """All finite values positive and spread over more than ``decades`` powers of ten (a log axis reads them)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return v.size > 1 and bool(np.all(v > 0)) and np.log10(v.max() / v.min()) > decades


def _at_last(da, dim, like=None):
    """``da`` at each point's last non-NaN entry along ``dim`` (a grid over n_steps pads shorter N with NaN;
    ``divergence_every`` leaves NaN between its steps too, so the number of non-NaN entries is not the index
    of the last one: ∂⟨D_α⟩ at r = N was printed as nan, or as the derivative at an earlier step). ``like``: the
    entry where that of ``like`` is (a variance, NaN for one configuration, at its mean's step)."""
    import xarray as xr

    position = xr.DataArray(np.arange(da.sizes[dim]), dims=dim)
    last = position.where((da if like is None else like).notnull()).max(dim).fillna(0).astype(int)
    return da.isel({dim: last})


def _final(ds, field, prefix=""):
    """(mean, variance) over configurations of ``<prefix>mean_<field>`` at r = N — each point's last entry
    along its collisions or steps (:func:`_at_last`), the first α of a divergence."""
    mean, var = ds[f"{prefix}mean_{field}"], ds[f"{prefix}var_{field}"]
    if "alpha" in mean.dims:
        mean, var = mean.isel(alpha=0), var.isel(alpha=0)
    dim = "step" if "step" in mean.dims else "collision"
    return _at_last(mean, dim), _at_last(var, dim, like=mean)


def _sweep(plt, ds):
    grid = ds.attrs["grid"].split(",")
    n = int(ds.attrs["n_configs"])
    x = grid[0]
    total, var = _final(ds, "cumulative_work")
    se = np.sqrt(var / n)
    with_divergence = ds.sizes.get("alpha", 0) > 0  # no panel for a run with alphas = []
    # each configuration's ΔS_1 + … + ΔS_N, streamed for every run (absent from results written before it was)
    with_entropy = "mean_total_entropy_production" in ds
    n_panels = 1 + with_divergence + with_entropy
    fig, ax = plt.subplots(1, n_panels, figsize=(6 if n_panels == 1 else 5.5 * n_panels, 4.5), squeeze=False)
    ax = list(ax[0])
    work_ax = ax[0]
    divergence_ax = ax[1] if with_divergence else None
    entropy_ax = ax[-1] if with_entropy else None
    others = [g for g in grid if g != x]

    def stacked(da):
        return da.stack(_other=others) if others else da.expand_dims(_other=[0])

    # (panel, mean, standard error or None, slopes of [run] wrt or None)
    series = [(work_ax, stacked(total), stacked(se), _slopes(ds, x, "cumulative_work"))]
    if with_divergence:
        series.append((divergence_ax, stacked(_at_last(ds.mean_state_divergence.isel(alpha=0), "step")), None, None))
    if with_entropy:
        se_entropy = np.sqrt(ds.var_total_entropy_production / n)
        slopes = _slopes(ds, x, "total_entropy_production")
        series.append((entropy_ax, stacked(ds.mean_total_entropy_production), stacked(se_entropy), slopes))
    xs = ds[x].values
    for k in range(series[0][1].sizes["_other"]):
        label = _point(others, series[0][1]._other.values[k]) if others else None
        style = dict(zip(("marker", "ls", "ms"), STYLES[k % len(STYLES)]))  # curves that coincide stay visible
        for panel, mean, error, slopes in series:
            m = mean.isel(_other=k).values
            (line,) = panel.plot(xs, m, label=label, **style)
            if error is not None:
                s = error.isel(_other=k).values
                panel.fill_between(xs, m - 2 * s, m + 2 * s, color=line.get_color(), alpha=0.3, lw=0)
            if slopes is not None:
                _tangents(panel, xs, m, stacked(slopes).isel(_other=k).values)
    bars = f"\nblack bars: the slope ∂⟨{{}}⟩/∂{_symbol(x)} of [run] wrt"
    title = "mean accumulated work (±2 s.e. shaded)"
    if series[0][3] is not None:
        title += bars.format("W_N")
    work_ax.set(xlabel=_symbol(x), ylabel=f"⟨W_N⟩ ({ENERGY})", title=title)
    if with_divergence:
        if _spans_decades(series[1][1].values):
            divergence_ax.set_yscale("log")
        divergence_ax.set(xlabel=_symbol(x), ylabel="nats", title=f"D_α(ρ̄_N‖τ_S), α = {_alpha(ds.alpha.values[0])}")
    if with_entropy:
        title = "entropy production (±2 s.e. shaded)"
        if series[-1][3] is not None:
            title += bars.format("ΔS_1 + … + ΔS_N")
        entropy_ax.axhline(0.0, color="0.6", lw=0.6)  # the second law: ⟨ΔS_1 + … + ΔS_N⟩ ≥ 0
        entropy_ax.set(xlabel=_symbol(x), ylabel="⟨ΔS_1 + … + ΔS_N⟩ (nats)", title=title)
    if others:
        for a in ax:
            a.legend(fontsize=8)
    if x == "n_steps":  # a number of collisions: ticks 2.5, 3.5 … read as half collisions
        from matplotlib.ticker import MaxNLocator

        for a in ax:
            a.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    params = _params(ds, {1: 65, 2: 120, 3: 170}[n_panels])  # characters across a figure 6, 11, 16.5 inches wide
    fig.suptitle(f"{_title(ds)}: grid over {', '.join(map(_symbol, grid))}\n{params}", fontsize=10)
    fig.tight_layout()
    return fig


def _slopes(ds, x, field):
    """∂⟨``field``⟩/∂x (at r = N where the field has a collision axis) at each grid point where the run has the
    derivative along the plotted axis (``[run] wrt`` naming it, a scalar parameter), else None."""
    name, like = f"{_SENSITIVITY}{x}_mean_{field}", ds[f"mean_{field}"]
    if name not in ds or set(ds[name].dims) != set(like.dims):
        return None
    return _at_last(ds[name], "collision", like=like) if "collision" in like.dims else ds[name]


def _tangents(ax, xs, w, slopes):
    """A short bar through each point with the slope of the derivative: where it follows the curve, the
    derivative and the finite differences of the grid agree."""
    half = 0.4 * np.min(np.diff(np.sort(xs))) if len(xs) > 1 else 0.1 * max(abs(float(xs[0])), 1.0)
    for x0, w0, slope in zip(xs, w, slopes):
        ax.plot([x0 - half, x0 + half], [w0 - slope * half, w0 + slope * half], color="k", lw=1.2, zorder=3)


# the k-th curve of a panel: marker and dash cycle apart from the colours, and each marker smaller than the one
# before, so curves that coincide (λ = 0 at two g: the same rates) stay visible as rings within rings
MARKERS, DASHES = "os^vDx", ("-", "--", "-.", ":")


def _lines(ax, da, x):
    others = [d for d in da.dims if d != x]
    if not others:
        ax.plot(da[x].values, da.values, "o-")
        return False
    st = da.stack(_other=others)
    n = st.sizes["_other"]
    for k in range(n):
        style = dict(
            marker=MARKERS[k % len(MARKERS)], ls=DASHES[k % len(DASHES)], ms=4 + 5 * (n - 1 - k) / max(n - 1, 1)
        )
        ax.plot(da[x].values, st.isel(_other=k).values, mfc="none", label=_point(others, st._other.values[k]), **style)
    return True


# model B's steady-state quantities: title and unit on the plot (ħ = k_B = 1: a time is 1/energy)
SCAN_AXES = {
    "coherent_work_rate": ("coherent work rate Ẇ_C", "energy / time (ħ = 1)"),
    "incoherent_heat_rate": ("incoherent heat rate Q̇_inc (into S)", "energy / time (ħ = 1)"),
    "entropy_production_rate": ("entropy production rate Π", "nats / time"),
    "excited_population": ("excited population of ρ_ss", "probability"),
}


# the units of model B's scanned parameters (ħ = k_B = 1; λ is a number)
SCAN_UNITS = {"omega": "energy", "g": "energy", "beta": "1/energy"}


def _scan(plt, ds, names):
    x = list(ds[names[0]].dims)[0]
    fig, ax = plt.subplots(1, len(names), figsize=(4 * len(names), 4))
    for a, name in zip(ax, names):
        legend = _lines(a, ds[name], x)
        title, unit = SCAN_AXES[name]
        a.set(xlabel=f"{_symbol(x)} ({SCAN_UNITS[x]})" if SCAN_UNITS.get(x) else _symbol(x), ylabel=unit, title=title)
        if legend:
            a.legend(fontsize=7)
    fixed = ", ".join(
        f"{_symbol(k)} = {ds.attrs[f'coherent_{k}']:g}"
        for k in ("omega", "g", "beta", "lam", "tau")
        if f"coherent_{k}" in ds.attrs
    )
    fig.suptitle(
        f"{_title(ds)}: steady state of the weakly coherent qubit collision model (docs/coherent.md)\n{fixed}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# model C's summary: one row per scan point up to this many (the three assignments of a point on one y scale; points
# of another magnitude on their own: a dispersive point's heat, 10⁻³, was a flat line beside an ultrastrong one's, 1)
ASSIGNMENT_ROWS = 6


def _assignment(plt, ds):
    names = ("bare_heat", "interaction_heat", "minimal_dissipation_heat")
    grid = [d for d in ds.bare_heat.dims if d != "time"]
    flat = ds[list(names)].stack(_point=grid)
    n = flat.sizes["_point"]
    per_point = n <= ASSIGNMENT_ROWS  # else every point's curve in one row, with a legend
    rows = n if per_point else 1
    fig, ax = plt.subplots(rows, 3, figsize=(13, 1.2 + 2.8 * rows), sharex=True, sharey="row", squeeze=False)
    t = ds.time.values
    unit = "heat (energy: the unit of Δ, Γ, ν2, g)"
    for k in range(n):
        label = _point(grid, flat._point.values[k], ASSIGNMENT_SYMBOLS)
        row = ax[k] if per_point else ax[0]
        for a, name in zip(row, names):
            values = flat[name].isel(_point=k).values
            line = a.plot(t, values, label=label)[0]
            if np.isnan(values).any():  # Q^md is NaN where G(t) is singular: the curve stopped there without a word
                first = t[np.argmax(np.isnan(values))]
                a.axvline(first, color=line.get_color(), ls=":", lw=1.0, label=f"G(t) singular at t = {first:.4g}")
                a.legend(handles=[h for h in a.get_lines() if h.get_linestyle() == ":"], fontsize=7, loc="best")
        if per_point:
            row[0].set_ylabel(f"{label}\n{unit}" if label else unit)
    for a, name in zip(ax[0], names):
        a.set_title(name.replace("_", " ") + " Q(t) into reservoir 1")
    for a in ax[-1]:
        a.set_xlabel("time t (1/energy, ħ = 1)")
    for a in ax.ravel():  # one zero line per panel (it was drawn once per point in the one-row layout)
        a.axhline(0.0, color="0.7", lw=0.6, zorder=0)
    if not per_point:
        ax[0][0].set_ylabel(unit)
        ax[0][0].legend(fontsize=7)
    fixed = ", ".join(
        f"{_symbol(k, ASSIGNMENT_SYMBOLS)} = {ds.attrs[f'assignment_{k}']:g}"
        for k in ("n1", "n2", "detuning", "effective_coupling", "nu2", "g", "beta1", "beta2")
        if f"assignment_{k}" in ds.attrs
    )
    stats = ds.attrs.get("assignment_statistics", "")
    fig.suptitle(
        f"{_title(ds)}: local energy assignment, two quadratic {stats} reservoirs (docs/assignment.md)\n{fixed}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
