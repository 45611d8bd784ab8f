"""Parameter sweeps: a grid over (θ, σ, β, g0, N, …) as one batched computation (docs/ensemble.md).

Grid points that share the shapes (same N) are stacked along a leading axis and vmapped inside
the same chunk kernel, so the whole grid streams over configurations once; each N is its own
batch. Every grid point sees the same configurations (common random numbers: δ = σ ε with the same
ε), which makes differences between grid points far less noisy than independent runs.
"""

from __future__ import annotations

import dataclasses
import glob
import inspect
import itertools
import os
import warnings
from collections.abc import Mapping

import jax
import numpy as np

from .._histogram import fields_equal
from .._host import check_untraced
from .._validation import check_positive_int
from . import _files
from ._engine import check_grid_inputs, check_model, check_run_options, run_grid
from ._files import check_writable
from ._result import TRACED_INSTEAD, EnsembleResult, check_saved_type, result_from_stats
from ._sensitivity import check_wrt, initial_state, is_state_function, sensitivities_from_stats
from ._statistics import take

_MODEL_FIELDS = ("beta", "g0", "theta")


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Ensemble results on a grid: ``axes`` {name: values} (in grid order) and ``results``, the
    :class:`EnsembleResult` of every grid point in C order of the Cartesian product."""

    axes: dict
    results: tuple

    def __eq__(self, other):
        """Equal axes (names, order, values) and equal results point by point (``load_sweep(path) == sweep``)."""
        if type(other) is not type(self):
            return NotImplemented
        return list(self.axes) == list(other.axes) and fields_equal(self, other)

    @property
    def shape(self):
        return tuple(len(v) for v in self.axes.values())

    def at(self, **params) -> EnsembleResult:
        """The result at the grid point with these parameter values (every axis named)."""
        if set(params) != set(self.axes):
            raise ValueError(f"name every axis of the sweep: {list(self.axes)}; got {sorted(params)}")
        index = []
        for name, values in self.axes.items():
            values = np.asarray(values)
            # compared at the axis's precision: a float32 axis holds 0.1 as 0.100000001 (at(theta=0.1) missed it)
            dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
            target = np.asarray(float(params[name])).astype(dtype)
            cast = values.astype(dtype)
            hits = np.flatnonzero(np.isclose(cast, target, rtol=1e-12, atol=0))
            if hits.size == 0:
                raise ValueError(f"{name}={params[name]} is not on the grid {list(values)}")
            # the nearest of the values within the tolerance: of 0.3 and 0.3 + 1e-13, the first was taken for both
            index.append(int(hits[np.argmin(np.abs(cast[hits] - target))]))
        return self.results[int(np.ravel_multi_index(index, self.shape))]

    def stack(self, field: str) -> np.ndarray:
        """``field`` of every grid point as one array of shape (grid shape) + (field shape)."""
        if any(getattr(r, field) is None for r in self.results):  # np.stack made an array of None objects
            raise ValueError(
                f"field={field!r}: the sweep did not compute it (e.g. the entropy production needs alpha 1 among "
                "alphas: docs/ensemble.md §2)"
            )
        values = [np.asarray(getattr(r, field)) for r in self.results]
        _check_same_shapes(values, field)
        return np.stack(values).reshape(self.shape + values[0].shape)

    def stack_sensitivity(self, name: str, field: str) -> np.ndarray:
        """``field`` (e.g. ``"mean_total_work"``) of ``sensitivity[name]`` at every grid point, shape (grid shape)
        + (field shape) — a sweep run with ``wrt`` (docs/ensemble.md §5)."""
        if self.results[0].sensitivity is None or name not in self.results[0].sensitivity:
            raise ValueError(f"name: no sensitivity with respect to {name!r}; run the sweep with wrt=({name!r},)")
        values = [np.asarray(getattr(r.sensitivity[name], field)) for r in self.results]
        _check_same_shapes(values, field)
        return np.stack(values).reshape(self.shape + values[0].shape)

    def to_xarray(self, model=None, attrs=None):
        """The sweep as an ``xarray.Dataset``: one dim per grid parameter, then those of
        :meth:`EnsembleResult.to_xarray` (needs ``pip install "jaxthermo[io]"``)."""
        from ._xarray import sweep_to_xarray

        return sweep_to_xarray(self, model, attrs)


def _check_same_shapes(values, field):
    """``ValueError`` naming ``field`` where grid points differ in its shape (a grid over ``n_steps``), not
    NumPy's "all input arrays must have the same shape"."""
    shapes = sorted({v.shape for v in values})
    if len(shapes) > 1:
        raise ValueError(
            f"field={field!r}: its shape differs between grid points ({shapes}: a grid over n_steps); "
            "take each point with .at(...)"
        )


def _naming_grid(err, where):
    """``err`` (a plain ValueError/TypeError of the model's or the run's checks) with the grid point
    that caused it in front: "theta must be finite" named no grid value."""
    if type(err) not in (ValueError, TypeError):  # a subclass may take other arguments: as it is
        raise err
    return type(err)(f"{where}: {err}")


def _grid_point(axes, point):
    """``grid point (beta=0.5, theta=0.1)``: the point of indices ``point`` on ``axes``, for an error."""
    where = ", ".join(f"{name}={values[i].item()!r}" for (name, values), i in zip(axes.items(), point))
    return f"grid point ({where})"


def _apply(model, name, value):
    dist = model.distribution
    if name not in _MODEL_FIELDS and (dist is None or name not in {f.name for f in dataclasses.fields(dist)}):
        raise ValueError(
            f"grid parameter {name!r}: must be one of {list(_MODEL_FIELDS) + ['n_steps']} or a field of the distribution"
        )
    try:
        if name in _MODEL_FIELDS:
            return model.replace(**{name: value})
        return model.replace(distribution=dataclasses.replace(dist, **{name: value}))
    except (ValueError, TypeError) as err:
        raise _naming_grid(err, f"grid[{name!r}] = {value!r}") from err


# the keywords of jt.ensemble a sweep passes on (an unknown one failed as "run_grid() got an unexpected keyword")
_RUN_KEYWORDS = tuple(
    p.name
    for p in inspect.signature(run_grid).parameters.values()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("wrt", "rho0_tangents")  # those the sweep sets
)


def sweep_checkpoint_paths(checkpoint, n_steps_values) -> dict:
    """{N: checkpoint path} of a sweep: ``checkpoint`` itself for a grid of one N, else one file per N,
    ``<stem>.n_steps<N><ext>`` beside it (each N is its own run, :func:`run_grid`); {} without a checkpoint."""
    if checkpoint is None:
        return {}
    path = os.fspath(checkpoint)
    if len(n_steps_values) == 1:
        return {n_steps_values[0]: path}
    stem, ext = os.path.splitext(path)
    return {n: f"{stem}.n_steps{n}{ext}" for n in n_steps_values}


def sweep_checkpoints(checkpoint, n_steps_values) -> dict:
    """:func:`sweep_checkpoint_paths`, warning of the files of an earlier version's sweep beside them."""
    if checkpoint is None:
        return {}
    path = os.fspath(checkpoint)
    stem, ext = os.path.splitext(path)
    # an earlier version ran the points of each ρ0 apart, one file each: named, not resumed (they hold other runs)
    earlier = sorted(glob.glob(f"{glob.escape(stem)}*.rho0_*{glob.escape(ext)}"))
    if earlier and jax.process_index() == 0:
        now = path if len(n_steps_values) == 1 else f"{stem}.n_steps<N>{ext}"
        warnings.warn(
            f"checkpoint: {earlier} hold a sweep whose points of each ρ0 ran apart (an earlier jaxthermo); this "
            f"version runs the points of one N as one run, checkpointed in {now}, and does not resume those files",
            stacklevel=3,
        )
    return sweep_checkpoint_paths(path, n_steps_values)


def sweep(model, rho0, n_steps, n_configs: int, seed: int = 0, *, grid: dict, wrt=None, **kwargs) -> SweepResult:
    """Run :func:`jaxthermo.ensemble` on every point of ``grid`` (docs/ensemble.md).

    Args:
      model, rho0, n_steps, n_configs, seed: as for :func:`jaxthermo.ensemble` (defaults of the grid). A
        function of the model as ``rho0`` (e.g. ``lambda m: thermal_state(m.d, m.beta, m.g0)``) is evaluated at
        every grid point: a grid over β then starts each point from its own thermal state (the points of one
        N still run as one batch), and ``wrt`` includes ρ0's dependence on the parameters.
      grid: {name: values}; names among ``beta``, ``g0``, ``theta``, ``n_steps`` and the fields of
        the distribution (``sigma`` of ``Gaussian``, ``width`` of ``Uniform``, …).
      **kwargs: passed to :func:`jaxthermo.ensemble` (``alphas``, ``chunk_size``, ``dtype``, …).
        ``checkpoint=path``: the whole grid's finished chunks are saved there (a grid over ``n_steps``:
        one file per N, ``<stem>.n_steps<N><ext>`` of ``path = <stem><ext>``: ``run.npz`` → ``run.n_steps4.npz``) and a rerun resumes from them (docs/ensemble.md §4).
      wrt: as for :func:`jaxthermo.ensemble`: every grid point gets its ``sensitivity`` (and
        ``delta_sensitivity``), streamed in the same batched run; :meth:`SweepResult.stack_sensitivity`
        stacks them over the grid.

    Returns:
      :class:`SweepResult`; ``.at(theta=…, sigma=…)`` selects a point, ``.stack("mean_work")``
      gives an array over the grid.
    """
    check_model(model, "jt.sweep")
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid: a dict {{name: values}}, e.g. {{'theta': [0.1, 0.2]}}; got {type(grid).__name__}")
    if not grid:
        raise ValueError("grid: give at least one parameter and its values")
    unknown = sorted(set(kwargs) - set(_RUN_KEYWORDS))
    if unknown:
        raise TypeError(
            f"jt.sweep got unexpected keyword arguments {unknown}; those of jt.ensemble: {list(_RUN_KEYWORDS)}"
        )
    check_untraced("jaxthermo.sweep", TRACED_INSTEAD, model=model, rho0=rho0, seed=seed, grid=grid)
    wrt = check_wrt(model, wrt) if wrt else ()
    if "n_steps" not in grid:  # a list [4] failed as "unhashable type: 'list'"
        n_steps = check_positive_int(n_steps, "n_steps")
    for name, values in grid.items():  # np.asarray([True, 4]) is [1, 4]: N = 1, θ = 1 rad, σ = 0 ran without a word
        if any(isinstance(v, (bool, np.bool_)) for v in np.ravel(np.asarray(values, dtype=object))):
            raise TypeError(f"grid[{name!r}] = {list(values)!r}: booleans are not parameter values")
    axes = {name: np.asarray(values) for name, values in grid.items()}
    for name, values in axes.items():
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"grid[{name!r}] must be a non-empty 1-d list of values")
        if np.unique(values).size != values.size:  # the same point run twice, and .at() finds only the first
            raise ValueError(f"grid[{name!r}] = {values.tolist()}: repeated values")
    names = list(axes)
    points = list(itertools.product(*(range(len(v)) for v in axes.values())))
    results: list = [None] * len(points)
    by_steps: dict = {}  # {N: [(k, model, ρ0, ∂ρ0)]}
    for k, point in enumerate(points):
        m, steps = model, n_steps
        for name, i in zip(names, point):
            value = axes[name][i]
            if name == "n_steps":
                if not np.issubdtype(np.asarray(value).dtype, np.integer):
                    raise TypeError(f"grid['n_steps'] must hold integers; got {value!r}")
                steps = int(value)
            else:
                m = _apply(m, name, value.item())
        state, tangents = rho0, None
        if is_state_function(rho0):  # each point's own ρ0 (the points of one N run as one batch all the same)
            try:
                state, tangents = initial_state(rho0, m, wrt)
                state = np.asarray(state)
            except (ValueError, TypeError) as err:
                raise _naming_grid(err, _grid_point(axes, point)) from err
        by_steps.setdefault(steps, []).append((k, m, state, tangents))

    # every grid point is checked before any runs: a bad point of a later N refused only after the
    # earlier N's had run lost their work
    for steps, members in by_steps.items():
        for k, m, state, _ in members:
            try:
                check_grid_inputs([m], state, steps, n_configs)
            except (ValueError, TypeError) as err:
                raise _naming_grid(err, _grid_point(axes, points[k])) from err
    # a sweep's checkpoint (one file per N) is checked writable before any N runs
    check_run_options(kwargs.get("checkpoint"), False, None, None)
    checkpoints = sweep_checkpoints(kwargs.pop("checkpoint", None), list(by_steps))
    for path in checkpoints.values() if jax.process_index() == 0 else ():  # the writer's (as run_grid)
        check_writable(path, "checkpoint")
    batches = {steps: _batch(members) for steps, members in by_steps.items()}

    def run(steps, verify_checkpoint=False):  # the grid points of one N as one run (run_grid)
        models, states, moving = batches[steps]
        return run_grid(
            models,
            states,
            steps,
            n_configs,
            seed,
            wrt=wrt,
            checkpoint=checkpoints.get(steps),
            rho0_tangents=moving,
            verify_checkpoint=verify_checkpoint,
            **kwargs,
        )

    # every N's checkpoint is compared with its run before any N runs: a file of other settings for a later N
    # was refused only once the earlier N's had run (and left files of the new settings beside it)
    for steps in list(batches)[1:]:
        path = checkpoints.get(steps)
        if path is not None and (jax.process_count() > 1 or os.path.exists(path)):
            run(steps, verify_checkpoint=True)
    for steps, members in by_steps.items():
        moving = batches[steps][2]
        stats, info = run(steps)
        for g, (k, m, _, _) in enumerate(members):
            info_g = dict(info, work_edges=info["work_edges"][g], collision_work_edges=info["collision_work_edges"][g])
            if np.ndim(info["rho0"]) == 3:
                info_g["rho0"] = info["rho0"][g]
            if moving is not None:
                info_g["rho0_tangents"] = info["rho0_tangents"][g]
            stats_g = take(stats, g)
            results[k] = result_from_stats(m, stats_g, info_g)
            if wrt:
                sens, delta = sensitivities_from_stats(m, stats_g, info_g, results[k], wrt)
                results[k] = dataclasses.replace(results[k], sensitivity=sens, delta_sensitivity=delta)
    return SweepResult(axes, tuple(results))


def _batch(members):
    """The models, ρ0 (one, or one per point where they differ) and ∂ρ0 (None where no point's ρ0 moves) of the
    grid points of one N, as :func:`run_grid` takes them."""
    models = [m for _, m, _, _ in members]
    states = [s for _, _, s, _ in members]
    states = states[0] if all(np.array_equal(s, states[0]) for s in states) else np.stack(states)
    moving = [t for _, _, _, t in members]
    if all(t is None for t in moving):
        return models, states, None
    shape = next(t for t in moving if t is not None).shape  # zeros where a point's ρ0 does not move
    return models, states, np.stack([np.zeros(shape, complex) if t is None else t for t in moving])


def save_sweep(path, result: SweepResult) -> str:
    """Save a sweep to ``path`` (``.npz`` appended unless it ends so); :func:`load_sweep` restores
    it exactly (format version, checksum, atomic and locked as :func:`~jaxthermo.save_result`).
    Returns the path written."""
    check_saved_type(result, SweepResult, "save_sweep")
    return _files.save_sweep(path, result)


def load_sweep(path) -> SweepResult:
    """Load a sweep written by :func:`save_sweep`; a bad file raises
    :class:`~jaxthermo.ensemble.FileFormatError` naming it."""
    return _files.load_sweep(path, EnsembleResult, SweepResult)
