"""``summary.png`` of a ``jaxthermo run``: one page drawn from the results Dataset itself."""

from __future__ import annotations

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


def _params(ds):
    keys = (
        "model_d",
        "model_beta",
        "model_g0",
        "model_theta",
        "model_kind",
        "distribution",
        "distribution_sigma",
        "distribution_width",
        "distribution_delta",
        "n_configs",
        "seed",
    )
    parts = []
    for k in keys:
        if k in ds.attrs:
            v = ds.attrs[k]
            v = f"{v:.4g}" if isinstance(v, (float, np.floating)) else v
            parts.append(f"{k.replace('model_', '').replace('distribution_', '')}={v}")
    return ", ".join(parts)


def _ensemble(plt, ds):
    n = int(ds.attrs["n_configs"])
    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    r = ds.collision.values
    for name, color in (("work", "C0"), ("heat", "C1")):
        m, se = ds[f"mean_{name}"].values, np.sqrt(ds[f"var_{name}"].values / n)
        ax[0, 0].plot(r, m, color=color, label=f"⟨{'W' if name == 'work' else 'Q'}_r⟩ (±2 s.e. shaded)")
        ax[0, 0].fill_between(r, m - 2 * se, m + 2 * se, color=color, alpha=0.3, lw=0)
    ax[0, 0].set(xlabel="collision r", ylabel="energy / g0", title="mean work on, heat into the system per collision")
    ax[0, 0].legend(fontsize=8)
    m, se = ds.mean_cumulative_work.values, np.sqrt(ds.var_cumulative_work.values / n)
    ax[0, 1].plot(r, m, color="C0", label="⟨W_1 + … + W_r⟩")
    ax[0, 1].fill_between(r, m - 2 * se, m + 2 * se, color="C0", alpha=0.3, lw=0, label="±2 s.e.")
    if "mean_cumulative_heat" in ds:
        m, se = ds.mean_cumulative_heat.values, np.sqrt(ds.var_cumulative_heat.values / n)
        ax[0, 1].plot(r, m, color="C1", label="⟨Q_1 + … + Q_r⟩")
        ax[0, 1].fill_between(r, m - 2 * se, m + 2 * se, color="C1", alpha=0.3, lw=0)
    ax[0, 1].set(xlabel="collision r", ylabel="energy / g0", title="accumulated")
    ax[0, 1].legend(fontsize=8)
    for k, a in enumerate(ds.alpha.values):
        ax[1, 0].plot(ds.step.values, ds.mean_state_divergence.values[:, k], label=f"D_α(ρ̄_r‖τ_S), α={a:g}")
    ax[1, 0].plot(ds.step.values, ds.mean_state_trace_distance.values, "k--", label="trace distance to τ̄")
    ax[1, 0].set(xlabel="step r", ylabel="nats / trace distance", title="mean state vs thermal states")
    ax[1, 0].legend(fontsize=8)
    edges, counts = ds.work_histogram_edges.values, ds.work_histogram_counts.values
    width = np.diff(edges)
    ax[1, 1].bar(edges[:-1], counts / max(1, counts.sum()) / width, width=width, align="edge", color="C0", alpha=0.7)
    ax[1, 1].set(xlabel="W_N / g0", ylabel="density", title=f"distribution of W_N (N = {int(ds.attrs['n_steps'])})")
    fig.suptitle(f"{_title(ds)}\n{_params(ds)}", fontsize=10)
    fig.tight_layout()
    return fig


def _at_last(da, dim):
    """``da`` at each point's last entry along ``dim`` (a grid over n_steps pads shorter N with NaN)."""
    last = (da.notnull().sum(dim) - 1).clip(min=0)
    return da.isel({dim: last})


def _sweep(plt, ds):
    grid = ds.attrs["grid"].split(",")
    n = int(ds.attrs["n_configs"])
    x = grid[0]
    total = _at_last(ds.mean_cumulative_work, "collision")
    se = np.sqrt(_at_last(ds.var_cumulative_work, "collision") / n)
    with_divergence = ds.sizes.get("alpha", 0) > 0  # no panel for a run with alphas = []
    fig, ax = plt.subplots(1, 2 if with_divergence else 1, figsize=(11 if with_divergence else 6, 4.5), squeeze=False)
    ax = ax[0]
    others = [g for g in grid if g != x]

    def stacked(da):
        return da.stack(_other=others) if others else da.expand_dims(_other=[0])

    stacked_w, stacked_s = stacked(total), stacked(se)
    if with_divergence:
        stacked_d = stacked(_at_last(ds.mean_state_divergence.isel(alpha=0), "step"))
    xs = ds[x].values
    for k in range(stacked_w.sizes["_other"]):
        label = (
            ", ".join(f"{g}={v:g}" for g, v in zip(others, np.atleast_1d(stacked_w._other.values[k])))
            if others
            else None
        )
        w, s = stacked_w.isel(_other=k).values, stacked_s.isel(_other=k).values
        (line,) = ax[0].plot(xs, w, "o-", label=label)
        ax[0].fill_between(xs, w - 2 * s, w + 2 * s, color=line.get_color(), alpha=0.3, lw=0)
        if with_divergence:
            ax[1].plot(xs, stacked_d.isel(_other=k).values, "o-", label=label)
    ax[0].set(xlabel=x, ylabel="⟨W_N⟩ / g0", title="mean accumulated work (±2 s.e. shaded)")
    if with_divergence:
        ax[1].set(xlabel=x, ylabel="nats", title=f"D_α(ρ̄_N‖τ_S), α = {ds.alpha.values[0]:g}")
    if others:
        for a in ax:
            a.legend(fontsize=8)
    fig.suptitle(f"{_title(ds)}: grid {', '.join(grid)}\n{_params(ds)}", fontsize=10)
    fig.tight_layout()
    return fig


def _lines(ax, da, x):
    others = [d for d in da.dims if d != x]
    if not others:
        ax.plot(da[x].values, da.values, "o-")
        return False
    st = da.stack(_other=others)
    for k in range(st.sizes["_other"]):
        vals = np.atleast_1d(st._other.values[k])
        ax.plot(
            da[x].values, st.isel(_other=k).values, "o-", label=", ".join(f"{g}={v:g}" for g, v in zip(others, vals))
        )
    return True


def _scan(plt, ds, names):
    x = list(ds[names[0]].dims)[0]
    fig, ax = plt.subplots(1, len(names), figsize=(4 * len(names), 4))
    for a, name in zip(ax, names):
        legend = _lines(a, ds[name], x)
        a.set(xlabel=x, title=name.replace("_", " "))
        if legend:
            a.legend(fontsize=7)
    fig.suptitle(f"{_title(ds)} — {ds.attrs.get('model', '')}", fontsize=10)
    fig.tight_layout()
    return fig


def _assignment(plt, ds):
    names = ("bare_heat", "interaction_heat", "minimal_dissipation_heat")
    grid = [d for d in ds.bare_heat.dims if d != "time"]
    flat = ds[list(names)].stack(_point=grid)
    fig, ax = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    t = ds.time.values
    for a, name in zip(ax, names):
        for k in range(flat.sizes["_point"]):
            vals = np.atleast_1d(flat._point.values[k])
            a.plot(t, flat[name].isel(_point=k).values, label=", ".join(f"{g}={v:g}" for g, v in zip(grid, vals)))
        a.set(xlabel="time (1/energy units)", title=name.replace("_", " ") + " into reservoir 1")
    ax[0].set_ylabel("heat")
    ax[0].legend(fontsize=7)
    fig.suptitle(f"{_title(ds)} — {ds.attrs.get('model', '')}", fontsize=10)
    fig.tight_layout()
    return fig
