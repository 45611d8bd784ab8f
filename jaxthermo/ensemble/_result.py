"""The ensemble result, the public entry point :func:`ensemble`, and saving/loading (docs/ensemble.md)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from .._config import config
from .._histogram import Histogram, fields_equal
from .._host import check_untraced
from .._information import trace_distance
from .._qudit import thermal_state
from ..inhomogeneous import averaged_reservoir_state
from . import _files
from ._engine import run_grid
from ._kernel import model_divergences
from ._sensitivity import check_wrt, initial_state, sensitivities_from_stats
from ._statistics import MeansOverConfigurations, cumulants, standard_error, take, variance


def _histogram(counts, edges):
    counts = np.asarray(counts, np.int64)
    return Histogram(np.asarray(edges), counts[1:-1], int(counts[0]), int(counts[-1]))


@dataclasses.dataclass(frozen=True)
class EnsembleResult(MeansOverConfigurations):
    """Statistics of a model-A ensemble over ``n_configs`` configurations of N collisions.

    Per collision r = 1…N (shape (N,)): ``mean_work``/``var_work`` of W_r, ``mean_heat``/
    ``var_heat`` of Q_r (heat into the system), ``mean_energy_change``/``var_energy_change`` of ΔU_r and
    ``mean_cumulative_work``/``var_cumulative_work`` of W_1 + … + W_r (the last entry is W_N).
    Per step r = 0…N: ``mean_state`` (N+1, d, d); ``mean_divergence``/``var_divergence``
    (N+1, n_alpha), the frozen-configuration average of D_α(ρ_{S|r}‖τ_S);
    ``mean_state_divergence`` (N+1, n_alpha), D_α(ρ̄_r‖τ_S) of the mean state;
    ``mean_state_trace_distance`` (N+1,), D(ρ̄_r, τ̄) to the averaged reservoir state, and
    ``mean_state_thermal_trace_distance`` (N+1,), D(ρ̄_r, τ_S); ``averaged_reservoir_state`` τ̄ (d, d) in the
    dtype of ``mean_state`` (complex, as ρ0 is complex inside the engine; ``jt.averaged_reservoir_state`` returns
    the same matrix real, and results files keep its ``_real``/``_imag`` parts). Histograms with stated bins:
    ``work_histogram`` of W_N, ``collision_work_histogram`` of every single-collision W_r
    (:class:`~jaxthermo.Histogram`: ``counts``, ``underflow``, ``overflow``; ``density`` and ``stderr`` arrays).
    Variances are unbiased sample variances (divide by n − 1), NaN for a single configuration (and so
    its standard errors), where no variance can be estimated. A quantity that is +∞ (−∞) in some
    configuration, e.g. D_α of a state without full support for α < 0 or e^{−βW_N} beyond float64's
    range, has the mean +∞ (−∞), NaN if both signs or a NaN occur (NumPy's mean of the same values), and
    its variance, k-statistics and standard error are NaN (the spread of a sample holding ∞ is undefined).

    Also per collision r: ``mean_cumulative_heat``/``var_cumulative_heat`` of Q_1 + … + Q_r and
    ``mean_cumulative_energy_change``/``var_cumulative_energy_change`` of ΔU_1 + … + ΔU_r. For the
    totals W_N and Q_N: ``work_cumulants`` and ``heat_cumulants`` (3,), the unbiased estimators
    (k-statistics) of the second, third and fourth cumulants (NaN where n_configs is below 2, 3, 4: the
    estimator is undefined there); ``mean_exp_minus_beta_work`` =
    ⟨e^{−βW_N}⟩ over configurations (β of the unperturbed reservoir) and its standard error
    ``stderr_exp_minus_beta_work``. Here W_N is each configuration's mean work on S + R, not a
    two-point-measurement work, so ⟨e^{−βW_N}⟩ = 1 is not an identity of the model: Jensen gives
    ⟨e^{−βW_N}⟩ ≥ e^{−β⟨W_N⟩}, and for the temperature kind W_N = 0 and ⟨e^{−βW_N}⟩ = 1 exactly.
    In float32 each configuration's D_α carries an absolute rounding of about ε₃₂ ≈ 6·10⁻⁸ (βg0 = 1), so
    ``var_divergence`` means something only where the spread of D_α over configurations is well above that:
    at σ = 10⁻⁴ (spread of D_½ ≈ 1.2·10⁻⁷) the float32 variance is 47 % off the float64 one; run such
    widths in float64. The moments themselves are accumulated without cancellation (docs/ensemble.md §2).
    With ``divergence_every`` = k > 1 the rows of ``mean_divergence``/``var_divergence`` of steps
    not evaluated (r not a multiple of k, r ≠ 0, N) are NaN, in ``sensitivity`` as well.

    Entropy (docs/inhomogeneous.md §9), per collision r: ``mean_entropy_flow``/``var_entropy_flow`` of β_r Q_r,
    the entropy that the heat of collision r carries into the system (β_r = β for the Hamiltonian kind, where it is
    β times the heat's moments; β(1 + δ_r) for the temperature kind, streamed per configuration);
    ``mean_entropy_production`` ⟨ΔS_r⟩ = ⟨ΔS(ρ_S)⟩ − ⟨β_r Q_r⟩ with ΔS_r = S(ρ'_SR‖ρ'_S ⊗ τ(δ_r)) ≥ 0, and
    ``mean_cumulative_entropy_production``, ⟨ΔS_1 + … + ΔS_r⟩. Both are exact averages over the configurations,
    written through the frozen-configuration D_1: S(ρ) = βTr(ρH_S) + log Z_S − D_1(ρ‖τ_S), so ⟨ΔS_r⟩ =
    β⟨ΔU_r⟩ − (⟨D_1⟩_r − ⟨D_1⟩_{r−1}) − ⟨β_r Q_r⟩. They need α = 1 among ``alphas`` (None otherwise); with
    ``divergence_every`` = k > 1 ``mean_entropy_production`` is NaN where D_1 of step r or r − 1 was not evaluated,
    and the cumulative one where D_1 of step r was not. The total ΔS_1 + … + ΔS_N of each configuration,
    β(W_N + Q_N) − (D_1(ρ_S|N‖τ_S) − D_1(ρ0‖τ_S)) − Σ_r β_r Q_r, is streamed whatever the α's (from each
    configuration's final state): ``mean_total_entropy_production`` and ``var_total_entropy_production`` (standard
    error ``standard_error("total_entropy_production")``); the per-collision variances are not reported (they need
    D_1 of every step and the heat of each configuration together).
    """

    n_configs: int
    n_steps: int
    seed: int
    alphas: np.ndarray
    mean_state: np.ndarray
    mean_work: np.ndarray
    var_work: np.ndarray
    mean_heat: np.ndarray
    var_heat: np.ndarray
    mean_energy_change: np.ndarray
    var_energy_change: np.ndarray
    mean_cumulative_work: np.ndarray
    var_cumulative_work: np.ndarray
    mean_divergence: np.ndarray
    var_divergence: np.ndarray
    mean_state_divergence: np.ndarray
    mean_state_trace_distance: np.ndarray
    mean_state_thermal_trace_distance: np.ndarray
    averaged_reservoir_state: np.ndarray
    work_histogram: Histogram
    collision_work_histogram: Histogram
    info: dict = dataclasses.field(default_factory=dict, compare=False)
    # with ensemble(..., wrt=...): {name: Sensitivity} and the DeltaSensitivity (saved by save_result)
    sensitivity: dict | None = dataclasses.field(default=None, compare=False, metadata=dict(derived=True))
    delta_sensitivity: object = dataclasses.field(default=None, compare=False, metadata=dict(derived=True))
    mean_cumulative_heat: np.ndarray = None
    var_cumulative_heat: np.ndarray = None
    mean_cumulative_energy_change: np.ndarray = None
    var_cumulative_energy_change: np.ndarray = None
    work_cumulants: np.ndarray = None
    heat_cumulants: np.ndarray = None
    mean_exp_minus_beta_work: np.ndarray = None
    stderr_exp_minus_beta_work: np.ndarray = None
    mean_entropy_flow: np.ndarray = None
    var_entropy_flow: np.ndarray = None
    mean_entropy_production: np.ndarray = None
    mean_cumulative_entropy_production: np.ndarray = None
    mean_total_entropy_production: np.ndarray = None
    var_total_entropy_production: np.ndarray = None

    def __eq__(self, other):
        """Equal statistics (arrays entry by entry, NaN equal to NaN; ``info`` and the sensitivities not
        compared): ``load_result(path) == res`` after ``save_result(path, res)``. The generated ``==``
        compared arrays as tuples and raised "truth value of an array … is ambiguous"."""
        return fields_equal(self, other)

    def to_xarray(self, model=None, attrs=None):
        """This result as an ``xarray.Dataset`` with named dims (``collision``, ``step``, ``alpha``,
        ``row``/``col``), coordinates and attributes; ``model`` adds its parameters (needs
        ``pip install "jaxthermo[io]"``; layout: :mod:`jaxthermo.ensemble._xarray`)."""
        from ._xarray import result_to_xarray

        return result_to_xarray(self, model, attrs)


def result_from_stats(model, stats, info) -> EnsembleResult:
    """Build an :class:`EnsembleResult` for one grid point from merged reductions (no grid axis).

    Checks nothing again: the inputs were validated before the run at their own precision (a
    float32 ρ0 run in float64 keeps its float32 rounding), and a finished run is never refused."""
    with config.override(validate="off"):
        return _assemble(model, stats, info)


def _assemble(model, stats, info) -> EnsembleResult:
    rho0 = np.asarray(info["rho0"])
    rdt = np.real(rho0).dtype
    alphas = tuple(float(a) for a in np.atleast_1d(info["alphas"]))
    mean_state = np.concatenate([rho0[None], np.asarray(stats["state"].mean)], axis=0)
    n_alpha = len(alphas)
    n_steps = int(info["n_steps"])
    coherent = bool(info["coherent"])
    if n_alpha:
        d0 = np.asarray(model_divergences(model, jnp.asarray(rho0), alphas, coherent))
        mean_div = np.concatenate([d0[None], stats["divergence"].mean], axis=0)
        # every configuration starts at ρ0: variance 0, NaN where D_α(ρ0‖τ_S) is infinite (as var of [∞, ∞])
        var0 = np.where(np.isfinite(d0), 0.0, np.nan).astype(d0.dtype)
        var_div = np.concatenate([var0[None], variance(stats["divergence"])], axis=0)
        every = int(info.get("divergence_every", 1))
        if every > 1:
            r = np.arange(n_steps + 1)
            skipped = (r % every != 0) & (r != n_steps)
            mean_div[skipped] = np.nan
            var_div[skipped] = np.nan
        state_div = np.asarray(model_divergences(model, jnp.asarray(mean_state), alphas, coherent))
    else:
        mean_div = var_div = state_div = np.zeros((n_steps + 1, 0), rdt)
    tau_bar = np.asarray(averaged_reservoir_state(model, model.distribution)).astype(rho0.dtype)
    tau_s = np.asarray(thermal_state(model.d, jnp.asarray(model.beta).astype(rdt), jnp.asarray(model.g0).astype(rdt)))
    tau_s = tau_s.astype(rho0.dtype)
    moments = {}
    for name in ("work", "heat", "energy_change", "cumulative_work", "cumulative_heat", "cumulative_energy_change"):
        moments[f"mean_{name}"] = np.asarray(stats[name].mean)
        moments[f"var_{name}"] = variance(stats[name])
    moments["work_cumulants"] = np.stack(cumulants(stats["total_work"]))
    moments["heat_cumulants"] = np.stack(cumulants(stats["total_heat"]))
    jar = stats["exp_minus_beta_work"]
    moments["mean_exp_minus_beta_work"] = np.asarray(jar.mean).astype(rdt)  # stderr from the float64 moments
    moments["stderr_exp_minus_beta_work"] = np.asarray(
        standard_error(variance(jar), max(int(np.asarray(jar.n)), 1)), rdt
    )
    moments.update(_entropy(model, stats, moments, alphas, mean_div, rdt))
    if "total_entropy_production" in stats:  # absent from a checkpoint written before it was streamed
        total = stats["total_entropy_production"]
        moments["mean_total_entropy_production"] = np.asarray(total.mean, rdt)
        moments["var_total_entropy_production"] = np.asarray(variance(total), rdt)
    work_edges, coll_edges = info["work_edges"], info["collision_work_edges"]
    return EnsembleResult(
        n_configs=int(info["n_configs"]),
        n_steps=n_steps,
        seed=int(info["seed"]),
        alphas=np.asarray(alphas, rdt),
        mean_state=mean_state,
        mean_divergence=np.asarray(mean_div, rdt),
        var_divergence=np.asarray(var_div, rdt),
        mean_state_divergence=np.asarray(state_div, rdt),
        mean_state_trace_distance=np.asarray(trace_distance(jnp.asarray(mean_state), jnp.asarray(tau_bar))),
        mean_state_thermal_trace_distance=np.asarray(trace_distance(jnp.asarray(mean_state), jnp.asarray(tau_s))),
        averaged_reservoir_state=tau_bar,
        work_histogram=_histogram(stats["work_histogram"].counts, work_edges),
        collision_work_histogram=_histogram(stats["collision_work_histogram"].counts, coll_edges),
        info={k: v for k, v in info.items() if k not in ("work_edges", "collision_work_edges")},
        **moments,
    )


def _entropy(model, stats, moments, alphas, mean_div, rdt) -> dict:
    """The entropy flow's moments and the mean entropy production of every collision (docs/inhomogeneous.md §9;
    :class:`EnsembleResult`): β_r Q_r streamed for the temperature kind, β Q_r for the Hamiltonian kind; ⟨ΔS_r⟩ from
    ⟨ΔU_r⟩, the frozen ⟨D_1⟩ and the flow where α = 1 was evaluated."""
    beta = np.asarray(model.beta, rdt)
    if "entropy_flow" in stats:
        mean_flow = np.asarray(stats["entropy_flow"].mean, rdt)
        var_flow = np.asarray(variance(stats["entropy_flow"]), rdt)
    elif model.kind == "temperature":  # resumed from a checkpoint written before the flow was streamed
        return {}
    else:
        mean_flow = beta * moments["mean_heat"]
        var_flow = beta**2 * moments["var_heat"]
    out = dict(mean_entropy_flow=mean_flow, var_entropy_flow=var_flow)
    if 1.0 in alphas:
        d1 = mean_div[:, alphas.index(1.0)]
        out["mean_entropy_production"] = np.asarray(beta * moments["mean_energy_change"] - np.diff(d1) - mean_flow, rdt)
        out["mean_cumulative_entropy_production"] = np.asarray(
            beta * moments["mean_cumulative_energy_change"] - (d1[1:] - d1[0]) - np.cumsum(mean_flow), rdt
        )
    return out


TRACED_INSTEAD = (
    "it returns NumPy results. For derivatives pass wrt= (e.g. wrt=('theta', 'sigma'): res.sensitivity[name], streamed per configuration), "
    "or differentiate jaxthermo.ensemble_mean, a JAX function of the model (jax.grad, jax.jit, jax.vmap; "
    "docs/ensemble.md §5)"
)


def ensemble(
    model,
    rho0,
    n_steps: int,
    n_configs: int,
    seed: int = 0,
    *,
    alphas=(1.0, float("inf")),
    work_bins: int = 64,
    collision_work_bins: int = 64,
    work_range=None,
    collision_work_range=None,
    chunk_size: int | None = None,
    devices=None,
    dtype=None,
    coherent: bool | None = None,
    draw_dtype=None,
    checkpoint=None,
    progress: bool = False,
    callback=None,
    divergence_every: int | None = None,
    wrt=None,
) -> EnsembleResult:
    """Statistics of ``n_configs`` model-A configurations of ``n_steps`` collisions (docs/ensemble.md).

    Configuration i draws δ_1…δ_N from ``model.distribution`` with the key
    ``fold_in(key(seed), i)`` only, so results are the same (to rounding) for any ``chunk_size``,
    device count or number of hosts. Every statistic is reduced while streaming over chunks.

    Args:
      model: :class:`~jaxthermo.InhomogeneousReservoir` with ``distribution`` set (e.g.
        ``Gaussian(0.05)``); ``theta`` a scalar or an (N,) schedule.
      rho0: initial system state (d, d), diagonal or coherent; or a function of the model that returns
        it, written in ``jax.numpy`` (e.g. ``lambda m: thermal_state(m.d, m.beta, m.g0)``): the run starts
        from ``rho0(model)``, and the derivatives of ``wrt`` then include ρ0's dependence on the
        parameters (an array is held fixed under ``wrt``; docs/ensemble.md §5).
      n_steps: collisions per configuration N.
      n_configs: number of configurations.
      seed: integer seed.
      alphas: orders α of D_α(·‖τ_S) to report (frozen-configuration average and mean state).
        They are evaluated exactly, with the branch of each α only: populations for diagonal
        states, closed-form 2×2 formulas for coherent qubits (no eigendecomposition), and for
        coherent states of d ≥ 3 eigenvalues only (τ_S is diagonal): a LAPACK-free routine
        vectorised over the configurations for d ≤ 8, LAPACK ``eigvalsh`` for d ≥ 9
        (docs/ensemble.md §2); α < 1 (Petz) takes the reference route. Any real α, ±∞ included, for a
        diagonal ρ0; α ≥ 0 where ρ0 has coherences (else ``ValueError`` naming ``alphas``).
      work_bins, collision_work_bins: numbers of bins of the W_N and single-collision W histograms.
      work_range, collision_work_range: (lo, hi) of those histograms; default: the range seen in
        configurations 0…511 widened by 5 % on each side (out-of-range values are counted apart); a
        range whose bins the run's dtype cannot resolve raises ``ValueError`` naming it (docs/ensemble.md §2).
      chunk_size: configurations per chunk, rounded up to a multiple of the device count, and per
        device of 64 where that is at least 64 (on CPU, per-device sizes that the core count does
        not divide run slower: docs/ensemble.md §1); default about 10⁶ (configuration, collision)
        pairs per CPU device, (device memory in bytes)/32 pairs per accelerator (the chunk's draws
        then take at most half of it); a run of several chunks runs them all at that size (the last
        one's padding masked), a run of one the least power of 4 per device that holds it
        (docs/ensemble.md §1: one compiled program for every n_configs).
      devices: devices to shard over (default: all, of every ``jax.distributed`` process).
      dtype: ``jnp.float64`` or ``jnp.float32``; default the precision of ``rho0`` (a float32 or
        complex64 state runs in float32, as in :func:`jaxthermo.ensemble_mean`), float64 otherwise.
      coherent: use the quantum divergences (default: whether ``rho0`` has coherences).
      draw_dtype: dtype of the δ draws (default float64 under x64), cast to ``dtype`` afterwards (a float32
        run's Gaussian δ: the float64 uniform numbers turned into δ in float32, within 5 float32 ulp of the
        float64 δ, docs/ensemble.md §1); float32 draws are faster but another random stream, reproducible
        only to ~1e-7 across chunkings.
      checkpoint: path of an ``.npz`` file; finished chunks are saved there and a rerun with the
        same arguments resumes after the last finished chunk.
      progress: show a tqdm progress bar.
      callback: ``callback(chunk_index, n_configs_done)`` after each finished chunk.
      divergence_every: evaluate the frozen-configuration D_α after collisions r = k, 2k, … and
        r = N only (exact there; the other rows are NaN). Default: every step (k = 1) for qubits
        and diagonal states, k = min(20, N) for coherent states of d ≥ 3, whose divergences need
        eigenvalues per configuration and α and would otherwise dominate the run time
        (benchmarks/RESULTS_ensemble.md).
      wrt: parameter names to differentiate with respect to, any of ``"theta"`` (a scalar or an (N,)
        schedule: a trailing axis), ``"beta"``, ``"g0"``, the distribution's fields (``"sigma"``,
        ``"width"``, ``"delta"``: reparameterised draws), the coupling's fields, and ``"deltas"`` for
        ``delta_sensitivity`` (∂W_N/∂δ_r, ∂F_α(ρ_{S|N})/∂δ_r per r). Tangents are streamed per
        configuration (cost grows with the number of parameter entries; memory does not grow with
        n_configs); docs/ensemble.md §5.

    Returns:
      :class:`EnsembleResult`; with ``wrt``, ``res.sensitivity[name]`` (a
      :class:`~jaxthermo.ensemble.Sensitivity`: the result's field names, ∂/∂name, with
      ``.standard_error(field)``) and ``res.delta_sensitivity``.

    Example:
      >>> model = InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=Gaussian(0.05))
      >>> res = ensemble(model, thermal_state(2, 1.0, 1.0), n_steps=100, n_configs=10_000)
      >>> res.mean_state.shape, res.mean_work.shape
      ((101, 2, 2), (100,))
    """
    check_untraced("jaxthermo.ensemble", TRACED_INSTEAD, model=model, rho0=rho0, seed=seed)
    wrt = check_wrt(model, wrt) if wrt else ()
    rho0, rho0_tangents = initial_state(rho0, model, wrt)
    stats, info = run_grid(
        [model],
        rho0,
        n_steps,
        n_configs,
        seed,
        alphas=alphas,
        work_bins=work_bins,
        collision_work_bins=collision_work_bins,
        work_range=work_range,
        collision_work_range=collision_work_range,
        chunk_size=chunk_size,
        devices=devices,
        dtype=dtype,
        coherent=coherent,
        draw_dtype=draw_dtype,
        checkpoint=checkpoint,
        progress=progress,
        callback=callback,
        divergence_every=divergence_every,
        wrt=wrt,
        rho0_tangents=None if rho0_tangents is None else rho0_tangents[None],
    )
    info = dict(info, work_edges=info["work_edges"][0], collision_work_edges=info["collision_work_edges"][0])
    if rho0_tangents is not None:
        info["rho0_tangents"] = info["rho0_tangents"][0]
    result = result_from_stats(model, take(stats, 0), info)
    if wrt:
        sens, delta = sensitivities_from_stats(model, take(stats, 0), info, result, wrt)
        result = dataclasses.replace(result, sensitivity=sens, delta_sensitivity=delta)
    return result


# ----------------------------------------------------------------------------- save / load


def save_result(path, result: EnsembleResult) -> str:
    """Save a result to ``path`` (``.npz`` appended unless it ends so); :func:`load_result` restores
    it exactly. The file carries a format version and a checksum and is written atomically under a
    lock; an existing file that is not a jaxthermo result, or is read-only, is not replaced
    (docs/ensemble.md §4). Returns the path written."""
    check_saved_type(result, EnsembleResult, "save_result")
    return _files.save_result(path, result)


def check_saved_type(result, cls, function: str) -> None:
    """``TypeError`` naming ``result`` unless it is a ``cls`` (e.g. the arguments swapped: path first)."""
    if not isinstance(result, cls):
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        raise TypeError(
            f"{function}(path, result): result must be {article} {cls.__name__}; got {type(result).__name__}"
        )


def load_result(path) -> EnsembleResult:
    """Load a result written by :func:`save_result` (same ``path``, ``.npz`` optional); a truncated,
    corrupted, foreign or inconsistent file raises :class:`~jaxthermo.ensemble.FileFormatError`
    naming it."""
    return _files.load_result(path, EnsembleResult)
