"""optax finds the inhomogeneity δ that maximises the violation ΔF_α − W of one collision (docs/inhomogeneous.md §7).

Setting: qubits, ``kind="hamiltonian"`` (g = g0(1 + δ)), β = g0 = 1, partial swap θ = 0.8, the system starts in
the thermal state of H_S at the colder β' = 2. One collision with a reservoir qudit τ(δ); W is the work done
on system + qudit, ΔF_α the change of the Rényi free energy F_α(ρ‖τ_S) ([ATO19] eq. (32)). The second law of
thermal operations in its α = 1 form (ΔF_1 ≤ W) holds (with equality only at δ*); for α = 2, 3, ∞ optax (Adam on δ, gradients through
``jt.collision_second_laws``) finds the δ with the largest violation.

Independent route (closed form, NumPy): for populations p of ρ and q(δ) of τ(δ), the swap gives
p' = cos²θ p + sin²θ q(δ), W = g0 δ sin²θ (p_1 − q_1(δ)), and D_α is the classical Rényi divergence. Exact
facts: the violation vanishes at δ* where τ(δ*) = ρ, i.e. δ* = β'/β − 1 (the collision then does nothing);
for δ just above δ* it is positive for α > 1 (ρ' moves away from τ_S, W is second order in δ − δ*), and it
changes sign again at an upper threshold δ_+(α) (root of the closed form, scipy ``brentq``). The maximiser of
the closed form (``brentq`` on its analytic slope) is the reference for the optax result.

Usage: python scripts/inhomogeneous/max_violation.py [OUT_DIR] [--quick]
(default figures/inhomogeneous; the published figure, scripts/inhomogeneous/output, only when given as OUT_DIR, never with --quick)
Writes max_violation.png and max_violation.csv (long format: series, x, y).
"""

from __future__ import annotations

import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.optimize import brentq, minimize_scalar

import jaxthermo as jt

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _study import default_out, output_dir, pyplot, run_study, save_figure, write_series_csv

BETA, G0, THETA, BETA_RHO = 1.0, 1.0, 0.8, 2.0
ALPHAS = (2.0, 3.0, np.inf)
DELTA_START = 2.0
MODEL = jt.InhomogeneousReservoir(2, beta=BETA, g0=G0, theta=THETA, kind="hamiltonian")
RHO = jt.thermal_state(2, BETA_RHO, G0)
OUT = pathlib.Path(__file__).resolve().parent / "output"  # the published figure
DEFAULT_OUT = default_out(__file__)


def violation(delta, alpha):
    """ΔF_α − W of one collision (library route), scalar; differentiable in δ."""
    laws = jt.collision_second_laws(MODEL, RHO, delta, [alpha])
    return laws.free_energy_change[0] - laws.work


# ---------------------------------------------------------------- closed form (NumPy, independent)


def _q1(beta, gap):
    """Excited population of a qubit with gap ``gap`` at β."""
    return 1.0 / (1.0 + np.exp(beta * gap))


def _renyi(p, q, alpha):
    if np.isinf(alpha):
        return np.log(np.max(p / q))
    if alpha == 1.0:
        return np.sum(p * np.log(p / q))
    return np.log(np.sum(p**alpha * q ** (1.0 - alpha))) / (alpha - 1.0)


def closed_form_violation(delta, alpha):
    s2 = np.sin(THETA) ** 2
    p1, q1 = _q1(BETA_RHO, G0), _q1(BETA, G0 * (1.0 + delta))
    tau_s = np.array([1.0 - _q1(BETA, G0), _q1(BETA, G0)])
    p, p_new = np.array([1.0 - p1, p1]), np.array([1.0 - p1 - s2 * (q1 - p1), p1 + s2 * (q1 - p1)])
    work = G0 * delta * s2 * (p1 - q1)
    return (_renyi(p_new, tau_s, alpha) - _renyi(p, tau_s, alpha)) / BETA - work


def closed_form_slope(delta, alpha):
    """d(ΔF_α − W)/dδ of the closed form (chain rule through q_1(δ)); its root is the maximiser."""
    s2 = np.sin(THETA) ** 2
    p1, q1 = _q1(BETA_RHO, G0), _q1(BETA, G0 * (1.0 + delta))
    dq1 = -BETA * G0 * q1 * (1.0 - q1)
    tau_s = np.array([1.0 - _q1(BETA, G0), _q1(BETA, G0)])
    p_new = np.array([1.0 - p1 - s2 * (q1 - p1), p1 + s2 * (q1 - p1)])
    dp = np.array([-s2 * dq1, s2 * dq1])
    if np.isinf(alpha):
        k = np.argmax(p_new / tau_s)
        d_renyi = dp[k] / p_new[k]
    else:
        terms = p_new**alpha * tau_s ** (1.0 - alpha)
        d_renyi = alpha * np.sum(terms * dp / p_new) / ((alpha - 1.0) * np.sum(terms))
    return d_renyi / BETA - G0 * s2 * ((p1 - q1) - delta * dq1)


def closed_form_reference(alpha):
    """(argmax, max, δ*, δ_+) of the closed form. The argmax is the root of the slope (brentq, to 1e-14): a
    search on the value itself stops ~1e-8 short at a flat maximum (1.06466049 for α = ∞, maximiser 1.06466051)."""
    star = BETA_RHO / BETA - 1.0
    coarse = minimize_scalar(
        lambda x: -closed_form_violation(x, alpha), bounds=(star + 1e-9, star + 2.0), method="bounded"
    ).x
    arg = brentq(
        lambda x: closed_form_slope(x, alpha), 0.5 * (star + coarse), coarse + 0.5 * (coarse - star), xtol=1e-15
    )
    upper = brentq(lambda x: closed_form_violation(x, alpha), arg, star + 20.0, xtol=1e-14)
    return arg, closed_form_violation(arg, alpha), star, upper


# ---------------------------------------------------------------- the optax search


def search(alpha, steps, lr=0.05):
    """Adam on δ from ``DELTA_START``; the whole loop is one compiled ``lax.scan``. Returns the path (steps + 1, 2)."""
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.01))

    @jax.jit
    def run(delta):
        def step(carry, _):
            delta, state = carry
            loss, grad = jax.value_and_grad(lambda d: -violation(d, alpha))(delta)
            updates, state = opt.update(grad, state, delta)
            return (optax.apply_updates(delta, updates), state), (delta, -loss)

        (final, _), (deltas, values) = jax.lax.scan(step, (delta, opt.init(delta)), None, length=steps)
        return jnp.append(deltas, final), jnp.append(values, violation(final, alpha))

    deltas, values = run(jnp.asarray(DELTA_START))
    return np.stack([np.asarray(deltas), np.asarray(values)], axis=1)


def main(out_dir=DEFAULT_OUT, quick=False):
    t0 = time.perf_counter()
    out = output_dir(out_dir)
    steps = 200 if quick else 1000
    grid = np.linspace(0.5, 2.0, 151)
    rows, results = [], {}
    for alpha in (1.0,) + ALPHAS:
        name = "inf" if np.isinf(alpha) else f"{alpha:g}"
        curve = np.asarray(jax.jit(jax.vmap(lambda d, a=alpha: violation(d, a)))(jnp.asarray(grid)))
        closed = np.array([closed_form_violation(x, alpha) for x in grid])
        rows += [(f"library alpha={name}", x, y) for x, y in zip(grid, curve)]
        rows += [(f"closed form alpha={name}", x, y) for x, y in zip(grid, closed)]
        if alpha == 1.0:
            results[name] = {
                "max_on_grid": float(curve.max()),
                "closed_form_max_abs_diff": float(np.max(np.abs(curve - closed))),
            }
            continue
        path = search(alpha, steps)
        arg, best, star, upper = closed_form_reference(alpha)
        rows += [(f"optax path alpha={name}", x, y) for x, y in path]
        results[name] = {
            "delta_optax": path[-1, 0],
            "violation_optax": path[-1, 1],
            "delta_closed_form": arg,
            "violation_closed_form": best,
            "delta_star": star,
            "delta_upper": upper,
            "closed_form_max_abs_diff": float(np.max(np.abs(curve - closed))),
        }
    write_series_csv(out / "max_violation.csv", rows)
    _plot(out, rows, results)
    results["seconds"] = time.perf_counter() - t0
    return results


# panel limits: the full panel from where α = 1 enters the y range (δ ≈ 0.63) to where α = 3 leaves it (δ ≈ 1.69);
# the zoom: the positive violations (maxima 2.3·10⁻⁴ … 2.7·10⁻³ g0) and α = 1 touching 0 at δ*
FULL = dict(xlim=(0.6, 1.72), ylim=(-0.006, 0.0035))
ZOOM = dict(xlim=(0.9, 1.52), ylim=(-0.0004, 0.003))


def _plot(out, rows, results):
    plt = pyplot()
    from matplotlib.patches import Rectangle

    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(13.5, 4.8))
    colors = {"1": "0.5", "2": "C0", "3": "C1", "inf": "C2"}
    for name, c in colors.items():
        label = "∞" if name == "inf" else name
        text = f"α = {label}: ΔF_α − W (library)"
        if name == "1":
            text += ";\nnever > 0, = 0 only at δ* (zoom)"
        xy = np.array([(x, y) for s, x, y in rows if s == f"library alpha={name}"])
        cf = np.array([(x, y) for s, x, y in rows if s == f"closed form alpha={name}"])
        for a in (ax, zoom):
            a.plot(xy[:, 0], xy[:, 1], color=c, label=text)
            a.plot(cf[::5, 0], cf[::5, 1], "o", ms=3, mfc="none", color=c)
        if name in ("2", "3", "inf"):
            r = results[name]
            for a in (ax, zoom):
                a.plot(r["delta_optax"], r["violation_optax"], "*", ms=13, color=c, mec="k")
                a.axvline(r["delta_upper"], color=c, ls=":", lw=1)
            zoom.annotate(
                f"{r['violation_optax'] * 1e3:.3g}·10⁻³ at δ = {r['delta_optax']:.4f}",
                (r["delta_optax"], r["violation_optax"]),
                xytext=(9, 5),
                textcoords="offset points",
                fontsize=7.5,
                color=c,
                bbox=dict(
                    boxstyle="square,pad=0.1", fc="w", ec="none", alpha=0.8
                ),  # white under the text: it crosses δ₊(∞)
            )
    for a in (ax, zoom):
        a.axvline(results["2"]["delta_star"], color="k", ls="--", lw=1, label="δ* = β'/β − 1 (τ(δ*) = ρ)")
        a.axhline(0.0, color="k", lw=0.6)
        a.set_xlabel("inhomogeneity δ of the reservoir qudit (g = g0(1 + δ))")
        a.grid(alpha=0.3)
    ax.set(**FULL)
    zoom.set(**ZOOM)
    (x0, x1), (y0, y1) = ZOOM["xlim"], ZOOM["ylim"]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.4", ls="--", lw=0.8))
    ax.set_ylabel("violation ΔF_α − W  (units of g0)")
    ax.set_title("ΔF_α − W; dashed box: the zoom on the right", fontsize=10)
    zoom.set_ylabel("violation ΔF_α − W  (units of g0)")
    zoom.set_title("zoom: the violations ΔF_α − W > 0 and their maxima", fontsize=10)
    zoom.plot([], [], "o", ms=3, mfc="none", color="k", label="closed form (NumPy)")
    zoom.plot([], [], "*", ms=11, color="w", mec="k", label="optax optimum")
    zoom.plot([], [], ":", color="k", label="upper threshold δ₊(α) (closed form)")
    zoom.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.02, 0.5))  # outside: no curve hidden
    fig.suptitle(f"One collision, qubits: θ = {THETA}, βg0 = {BETA * G0:g}, ρ = τ_S at β' = {BETA_RHO:g}", fontsize=10)
    save_figure(fig, out / "max_violation.png")


if __name__ == "__main__":
    run_study(main, DEFAULT_OUT, OUT)
