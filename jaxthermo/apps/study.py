"""Run a study described by a resolved configuration (:mod:`.config`) and write its outputs.

Outputs in ``[study] out``: ``results.nc`` (an xarray Dataset as netCDF4 via h5netcdf; needs
``pip install "jaxthermo[io]"``), ``summary.png`` (needs ``jaxthermo[plot]``) and
``config.resolved.toml`` (every default resolved, plus the versions of jaxthermo and JAX). An
ensemble or sweep also writes ``checkpoint.npz`` while it runs (a sweep over several ``n_steps``: one
``checkpoint.n_steps<N>.npz`` per N; ``--resume`` continues from them; removed once the study has
finished) and its lock ``checkpoint.npz.lock``, an empty file that stays: removing a
lock file can let two runs lock two different files under one name (a run that opened the old file
before the removal, and one that creates the new file), which is why ``filelock`` keeps its Unix lock
files too (docs/ensemble.md §4); the next run in the folder reuses it.
The library is used through its public names (``import jaxthermo as jt``), files are written with
its atomic writer (:func:`jaxthermo.ensemble._files.write_atomically`).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import glob
import hashlib
import io
import itertools
import os
import pathlib
import re
import shlex
import time
import warnings
from functools import partial

import numpy as np

from .._validation import check_density_matrix
from ..ensemble._files import CheckpointMismatch, FileInUseError, _acquire, lock_for, write_atomically
from ..ensemble._sweep import sweep_checkpoint_paths
from ..inhomogeneous._model import check_representable
from . import config as cfgmod
from ._distributed import agree, is_writer, share_line
from ._output import check_output_folder

NETCDF_ENGINE = "h5netcdf"


# ------------------------------------------------------------------------------ building blocks


def build_model_a(cfg):
    """The :class:`jaxthermo.InhomogeneousReservoir` of a resolved model-A configuration."""
    import jaxthermo as jt

    m, dist = cfg["model"], cfg["distribution"]
    distribution = {
        "gaussian": lambda: jt.Gaussian(float(dist["sigma"])),
        "uniform": lambda: jt.Uniform(float(dist["width"])),
        "two_point": lambda: jt.TwoPoint(float(dist["delta"])),
    }[dist["name"]]()
    coupling = jt.PartialSwap() if m["coupling"] == "partial_swap" else jt.ExactUnitary(float(m["g_int"]))
    theta = np.asarray(m["theta"], float) if isinstance(m["theta"], list) else float(m["theta"])
    return jt.InhomogeneousReservoir(
        int(m["d"]),
        float(m["beta"]),
        float(m["g0"]),
        theta,
        kind=m["kind"],
        coupling=coupling,
        distribution=distribution,
    )


def build_initial_state(cfg):
    """ρ0 (d, d) of a resolved model-A configuration."""
    import jaxthermo as jt

    s, m = cfg["initial_state"], cfg["model"]
    d = int(m["d"])
    name = s["name"]
    if name == "thermal":
        beta = float(m["beta"] if s["beta"] is None else s["beta"])
        if s["beta"] is not None and beta < 0:  # [model] beta < 0 warns (the model's check); this one ran silently
            warnings.warn(
                f"[initial_state] beta = {beta!r}: a negative temperature, a population-inverted ρ0 (legal; "
                "docs/inhomogeneous.md §1 'Signs')",
                stacklevel=2,
            )
        return np.asarray(jt.thermal_state(d, beta, float(m["g0"])))  # an overflowing βg0: the ground state
    if name in ("ground", "excited"):
        rho = np.zeros((d, d))
        rho[(0, 0) if name == "ground" else (d - 1, d - 1)] = 1.0
        return rho
    if name == "populations":  # checked by config.resolve: d values >= 0 summing to 1, d phases
        p = np.asarray(s["populations"], float)
        if s["phases"] is None:
            return np.diag(p)
        psi = np.sqrt(p) * np.exp(1j * np.asarray(s["phases"], float))
        return np.outer(psi, psi.conj())
    if name == "file":
        return load_initial_state(s["file"], d, sha256=s.get("file_sha256"))
    raise AssertionError(name)


def initial_state_argument(cfg, rho0):
    """What the study passes to ``jt.ensemble``/``jt.sweep`` as ρ0: for ``[initial_state] name = "thermal"``
    the function m ↦ τ_S(β, g0) of the model (β of [initial_state] where given), so that a [grid] over β or g0
    starts every point from its own thermal state and ``[run] wrt`` includes ρ0's change (docs/ensemble.md §5);
    else ``rho0`` (the array)."""
    state = cfg["initial_state"]
    if state["name"] != "thermal":
        return rho0
    return partial(_thermal_rho0, beta=None if state["beta"] is None else float(state["beta"]))


def _thermal_rho0(model, beta=None):
    import jaxthermo as jt

    return jt.thermal_state(model.d, model.beta if beta is None else beta, model.g0)


def moving_rho0_parameters(cfg) -> tuple:
    """The model parameters that a thermal [initial_state] moves with: g0, and β unless [initial_state] beta
    is given; () for every other state."""
    state = cfg["initial_state"]
    if state["name"] != "thermal":
        return ()
    return ("beta", "g0") if state["beta"] is None else ("g0",)


# tolerance of the checks of a ρ0 read from a file (Hermiticity, trace, positivity)
STATE_ATOL = 1e-8


def _state_file_error(path, why):
    return cfgmod.ConfigError(f"[initial_state] file = {str(path)!r}: {why}")


def _read_state_file(path) -> bytes:
    """The bytes of ρ0's ``.npy`` file, or ``ConfigError`` naming ``[initial_state] file`` (and, for a relative
    path, the working directory it is read from)."""
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as err:
        where = "" if os.path.isabs(path) else f"; a relative path is read from the working directory {os.getcwd()}"
        raise _state_file_error(path, f"cannot be read as a .npy array ({err}){where}") from err


def load_initial_state(path, d: int, sha256: str | None = None) -> np.ndarray:
    """ρ0 read from a ``.npy`` file (no pickle) and checked: a finite numeric (d, d) matrix,
    Hermitian, of unit trace and positive semidefinite (each to 1e-8), and, where ``sha256`` is given
    (``[initial_state] file_sha256``), the file whose SHA-256 that is; otherwise ``ConfigError``
    naming the key ``[initial_state] file`` and the file."""

    def fail(why):
        return _state_file_error(path, why)

    data = _read_state_file(path)
    found = hashlib.sha256(data).hexdigest()
    if sha256 is not None and found != sha256.lower():
        raise fail(
            f"its SHA-256 is {found}, not file_sha256 = {sha256!r}: the file has changed since the run that "
            "recorded it; restore that file, or remove [initial_state] file_sha256 to start from the file as it is"
        )
    try:
        rho = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise fail(f"cannot be read as a .npy array ({err})") from err
    if not isinstance(rho, np.ndarray):  # an .npz archive
        rho.close()
        raise fail("holds several arrays (.npz); save one (d, d) matrix with numpy.save")
    if not (np.issubdtype(rho.dtype, np.number) and rho.dtype != np.bool_):
        raise fail(f"the array has dtype {rho.dtype}; a density matrix needs numbers")
    if rho.shape != (d, d):
        raise fail(f"the matrix has shape {rho.shape}; d = {d} needs ({d}, {d})")
    if not np.all(np.isfinite(rho)):
        raise fail("the matrix has NaN or infinite entries")
    herm = np.max(np.abs(rho - rho.conj().T))
    if herm > STATE_ATOL:
        raise fail(f"the matrix is not Hermitian: max |rho - rho†| = {herm:.3g}")
    trace = float(np.real(np.trace(rho)))
    if abs(trace - 1.0) > STATE_ATOL:
        raise fail(f"the matrix must have unit trace; Tr rho = {trace:.6g}")
    lowest = float(np.min(np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))))
    if lowest < -STATE_ATOL:
        raise fail(f"the matrix is not positive semidefinite: smallest eigenvalue {lowest:.3g}")
    return rho


def _engine_kwargs(cfg):
    import jax.numpy as jnp

    run = cfg["run"]
    kw = dict(
        alphas=tuple(run["alphas"]),
        work_bins=int(run["work_bins"]),
        dtype=jnp.float32 if run["dtype"] == "float32" else jnp.float64,
    )
    if run["chunk_size"] is not None:
        kw["chunk_size"] = int(run["chunk_size"])
    if run["divergence_every"] is not None:
        kw["divergence_every"] = int(run["divergence_every"])
    return kw


def versions() -> dict:
    import jax

    import jaxthermo

    return {"jaxthermo": jaxthermo.__version__, "jax": jax.__version__, "numpy": np.__version__}


def _attrs(cfg):
    """Attributes every results file carries: the study, its title, the resolved config as TOML."""
    return {
        "study": cfg["study"]["study"],
        "title": cfg["study"]["title"],
        "config_toml": cfgmod.dumps(cfg, comments=False),
    }


# the attribute of each model-A grid parameter (its unscanned base value; dropped when scanned)
GRID_ATTRS = {"theta": "model_theta", "beta": "model_beta", "g0": "model_g0", "n_steps": "n_steps"}


def describe_scanned(ds, scanned, base_attrs):
    """Mark the scanned parameters: the attribute ``scanned`` lists them, and the attributes of their
    unscanned base values (``base_attrs`` {parameter: attribute}) are dropped."""
    for name in scanned:
        ds.attrs.pop(base_attrs.get(name, ""), None)
    ds.attrs["scanned"] = ",".join(scanned)
    return ds


# ------------------------------------------------------------------------------ studies


@contextlib.contextmanager
def refused_as(where):
    """The library's ValueError or TypeError from checking parameters, raised while building a study
    (before computing), as a :class:`~.config.ConfigError` naming the configuration ``where``."""
    try:
        yield
    except cfgmod.ConfigError:
        raise
    except (ValueError, TypeError) as err:
        raise cfgmod.ConfigError(f"{where}: {err}") from err


def check_wrt_key(cfg, model) -> tuple:
    """``[run] wrt`` as the engine's ``wrt``: names the library accepts for the model
    (:func:`~jaxthermo.ensemble._sensitivity.wrt_names`), each once; else a ConfigError naming the key and
    the allowed names, raised before computing."""
    from ..ensemble._sensitivity import check_wrt, wrt_names

    names = list(cfg["run"]["wrt"])
    allowed = wrt_names(model)
    unknown = [n for n in names if n not in allowed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown or repeated:
        why = (
            f"{', '.join(map(repr, unknown))}: not a parameter of this model with a derivative"
            if unknown
            else f"{', '.join(map(repr, repeated))} given more than once"
        )
        raise cfgmod.ConfigError(f"[run] wrt = {cfgmod.toml_value(names)}: {why}; allowed names: {', '.join(allowed)}")
    with refused_as("[run] wrt"):
        return check_wrt(model, names) if names else ()


def check_model_a_precision(cfg, model):
    """Every point of the study (every [grid] point of a sweep) fits the run's ``[run] dtype`` and N
    (:func:`~jaxthermo.inhomogeneous._model.check_representable`): a float32 run of a law whose δ or
    energies overflow float32 returned NaN and inf without an error; a ConfigError names the point."""
    dtype = np.float32 if cfg["run"]["dtype"] == "float32" else np.float64
    grid = cfg.get("grid") or {}
    names = list(grid)
    for point in itertools.product(*(grid[name] for name in names)):
        m, n_steps = model, int(cfg["run"]["n_steps"])
        where = "[model], [distribution], [run]" + (
            " at [grid] " + ", ".join(f"{n} = {v!r}" for n, v in zip(names, point)) if names else ""
        )
        with refused_as(where):
            for name, value in zip(names, point):
                if name == "n_steps":
                    n_steps = int(value)
                elif name in ("theta", "beta", "g0"):
                    m = m.replace(**{name: value})
                else:
                    m = m.replace(distribution=dataclasses.replace(m.distribution, **{name: value}))
            check_representable(m, dtype, n_steps)


# the configuration key of each item a checkpoint records (CheckpointMismatch.differences)
CHECKPOINT_KEYS = {
    "seed": "[study] seed",
    "n_steps": "[run] n_steps",
    "dtype": "[run] dtype",
    "alphas": "[run] alphas",
    "number of Rényi orders alphas": "[run] alphas",
    "work_bins": "[run] work_bins",
    "work_edges": "the W_N histogram edges ([run] work_bins, or a pilot run of another [run] n_configs below 512)",
    "collision_work_edges": "the single-collision work histogram's edges (a pilot run of another [run] n_configs below 512)",
    "draw_dtype": "the precision of the δ draws (another jaxthermo version wrote the checkpoint)",
    "coherent": "the coherent route (another jaxthermo version wrote the checkpoint)",
    "divergence_every": "[run] divergence_every",
    "d": "[model] d",
    "model.d": "[model] d",
    "model.beta": "[model] beta",
    "model.g0": "[model] g0",
    "model.theta": "[model] theta",
    "model.kind": "[model] kind",
    "model.coupling": "[model] coupling",
    "model.coupling.g_int": "[model] g_int",
    "model.distribution": "[distribution] name",
    "model.distribution.sigma": "[distribution] sigma",
    "model.distribution.width": "[distribution] width",
    "model.distribution.delta": "[distribution] delta",
    "rho0": "[initial_state]",
    # ∂ρ0 of a thermal [initial_state] under [run] wrt's β, g0 (a checkpoint of a version that held ρ0 fixed has none)
    "rho0_tangents": "ρ0's change under [run] wrt (a thermal [initial_state])",
    "chunk_size": "[run] chunk_size",
    "n_configs": "[run] n_configs",
    "wrt": "[run] wrt",
}


# how a checkpoint the run cannot use is discarded (a plain rerun refuses one holding finished chunks)
RESTART_INSTEAD = "--restart instead of --resume"
CONTINUE_OR_DISCARD = "run with --resume to continue them, or with --restart to discard them and start again"


# the study file's names of the classes a checkpoint records (its record of [model] coupling is the class's name)
TOML_NAMES = {
    "model.coupling": {"PartialSwap": "partial_swap", "ExactUnitary": "exact"},
    "model.distribution": {"Gaussian": "gaussian", "Uniform": "uniform", "TwoPoint": "two_point"},
}


def _as_toml(item, text) -> str:
    """A checkpoint's record as the study file writes it: ``wrt`` (Python's ``('theta',)``) as ``["theta"]``,
    a coupling or law (its class, ``ExactUnitary``) as its value in the file (``"exact"``), a model parameter
    the same at every grid point (the engine stacks them: σ ``[0.05, 0.05]``) as the number, ρ0 (its matrix)
    by its populations, histogram edges (a shape and a digest) by their number of bins."""
    if text in TOML_NAMES.get(item, {}):
        return cfgmod.toml_value(TOML_NAMES[item][text])
    if item.startswith("model."):
        with contextlib.suppress(ValueError, SyntaxError, TypeError):
            values = ast.literal_eval(text)
            if isinstance(values, list) and values and all(isinstance(v, (int, float)) for v in values):
                if len(set(values)) == 1:
                    return cfgmod.toml_value(float(values[0]))
    if item == "rho0":
        with contextlib.suppress(ValueError, SyntaxError, TypeError):
            rho = np.asarray(ast.literal_eval(text), complex)
            populations = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
            coherent = np.any(rho * (1 - np.eye(rho.shape[-1])) != 0)
            rounded = [float(f"{p:.6g}") for p in populations.ravel()]
            shown = np.reshape(rounded, populations.shape).tolist()
            return f"populations {cfgmod.toml_value(shown)}{' with coherences' if coherent else ''}"
    edges = re.fullmatch(r"\w+\[(?:\d+, )*(\d+)\] sha256 \w+…", text)
    if item in ("work_edges", "collision_work_edges") and edges:
        return f"{int(edges.group(1)) - 1} bins"
    if item == "wrt":
        with contextlib.suppress(ValueError, SyntaxError):
            names = ast.literal_eval(text)
            if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
                return cfgmod.toml_value(list(names))
    return text


def _in_file_terms(item, here, there) -> tuple[str, str]:
    """Both records in the study file's terms (:func:`_as_toml`), or as recorded where those terms would show no
    difference (the same number of bins over other ranges, populations equal to 6 digits)."""
    shown = _as_toml(item, here), _as_toml(item, there)
    return (here, there) if shown[0] == shown[1] else shown


def checkpoint_mismatch_message(err: CheckpointMismatch, resume: bool) -> str:
    """A checkpoint of a different run, said in the study file's terms (its keys, not Python's)."""
    if err.differences:
        what = "; ".join(
            f"{CHECKPOINT_KEYS.get(item, item)}: {here} here, {there} in the checkpoint"
            for item, (here, there) in ((i, _in_file_terms(i, *pair)) for i, pair in err.differences.items())
            if not (item == "coherent" and "rho0" in err.differences)  # the route follows from ρ0's coherences
        )
    else:
        what = (
            "the checkpoint does not record which settings: [model], [distribution], [initial_state], "
            "[study] seed or a [run] key differs, or another jaxthermo version wrote it"
        )
    advice = f"run with {RESTART_INSTEAD} to start afresh (the checkpoint is then discarded)"
    if "chunk_size" in err.differences:  # a file of the format before the chunk size was recorded
        advice = (
            f"it was written before checkpoints recorded their chunk size and resumes only with [run] chunk_size = "
            f"{err.differences['chunk_size'][1]} and the same [run] n_configs; or {advice}"
        )
    return f"{'--resume: ' if resume else ''}{err.path} was written by a run with other settings ({what}); {advice}"


class _Stop:
    """A stop (SIGINT, SIGTERM) asked for while a checkpointed ensemble runs: raised once the running
    chunk is saved (:func:`_stop_if_asked`, the engine's callback after each checkpoint write); once
    every configuration is finished, only after the results are written (:func:`run_study`)."""

    active = False
    pending: BaseException | None = None
    n_configs: int | None = None  # the run's configurations: after the last chunk, finish the results
    runs_left = 1  # engine runs still to finish (a sweep over n_steps: one per N)
    results = False  # every configuration is finished: the results are being written


def defer_interrupt(err: BaseException) -> str | None:
    """What ``err`` (a KeyboardInterrupt from a signal handler) waits for ("the running chunk is saved",
    "the results are written"), or None when it is not put off: it is put off while a checkpointed
    ensemble runs, the first one only, never a second."""
    if _Stop.active and _Stop.pending is None:
        _Stop.pending = err
        return "the results are written" if _Stop.results else "the running chunk is saved"
    return None


def _stop_if_asked(chunk, configs_done):
    if _Stop.n_configs is not None and configs_done >= _Stop.n_configs:
        _Stop.runs_left -= 1
        if _Stop.runs_left <= 0:  # the last chunk of the last run: a stop asked for waits for the results
            _Stop.results = True
            return
    err, _Stop.pending = _Stop.pending, None
    if err is not None:
        raise err


@contextlib.contextmanager
def _finish_chunk_before_stopping(active, n_configs=None, out=None, runs=1):
    """While a checkpointed ensemble or sweep (``runs`` engine runs, one per N) runs and its results are
    written: a signal stops it once the running chunk is saved; one after the last chunk of the last run
    only once the results are written in ``out`` (the KeyboardInterrupt then has the attribute
    ``results_written``, the folder), so that the finished configurations are not left in a checkpoint
    to resume. (A run resumed from a finished checkpoint computes no chunk: a stop asked for after the
    last computed chunk then waits for the results alike, raised once they are written.)"""
    _Stop.active, _Stop.pending, _Stop.results, _Stop.runs_left = bool(active), None, False, int(runs)
    _Stop.n_configs = int(n_configs) if active and n_configs is not None else None
    try:
        yield
    finally:
        err, _Stop.active, _Stop.pending, _Stop.n_configs = _Stop.pending, False, None, None
        _Stop.results = False
    if err is not None:  # asked for after the last chunk's save: the results are written, stop all the same
        if out is not None:
            err.results_written = out
        raise err


# the engine's parameters and the configuration keys that set them (its refusals before computing)
ENGINE_KEYS = {
    "n_steps": "[run] n_steps",
    "n_configs": "[run] n_configs",
    "chunk_size": "[run] chunk_size",
    "work_bins": "[run] work_bins",
    "alphas": "[run] alphas",
    "divergence_every": "[run] divergence_every",
}


def _as_config_error(err, grid=()):
    """A refusal of the engine that names one of its parameters (``n_steps=10**9: the run needs at
    least 499 GiB …``, raised before computing) as a ConfigError naming the key that sets it (it was
    a traceback; ``[grid] n_steps`` where the grid sets it); any other error as it is."""
    text = str(err)
    for name, key in ENGINE_KEYS.items():
        if text.startswith((f"{name}=", f"{name}:", f"{name} ")):
            return cfgmod.ConfigError(f"{f'[grid] {name}' if name in grid else key}: {text}")
    return err


def checkpoint_paths(cfg, out) -> list[str]:
    """The checkpoint files of a model-A study in the folder ``out``: ``checkpoint.npz``; a sweep whose
    [grid] holds several ``n_steps``, ``checkpoint.n_steps<N>.npz`` per N (:func:`jaxthermo.sweep`);
    [] for a scan, or without a folder."""
    study = cfg["study"]["study"]
    if out is None or study not in ("ensemble", "sweep"):
        return []
    path = os.path.join(out, "checkpoint.npz")
    n_steps = cfg.get("grid", {}).get("n_steps", [cfg["run"]["n_steps"]]) if study == "sweep" else [0]
    return list(sweep_checkpoint_paths(path, [int(n) for n in n_steps]).values())


def resume_lines(cfg, out) -> list[str]:
    """What ``--resume`` continues, said before the run (with ``--no-progress`` nothing said it had resumed):
    each checkpoint of the study in ``out`` and its finished configurations, or that there is none; and the
    checkpoints of other N's in ``out`` that this sweep does not read (its [grid] n_steps changed), left as they
    are."""
    paths = checkpoint_paths(cfg, out)
    if not paths:
        return []
    found = [p for p in paths if os.path.exists(p)]
    if not found:
        return [f"--resume: no {' or '.join(paths)} to continue; starting from the beginning"]
    n = int(cfg["run"]["n_configs"])
    lines = []
    for path in found:
        _, configs = _finished_work(path)
        held = "" if configs is None else f": {min(configs, n)} of {n} configurations finished"
        lines.append(f"--resume: continuing {path}{held}")
    others = sorted(set(glob.glob(os.path.join(glob.escape(out), "checkpoint*.npz"))) - set(paths))
    lines += [f"--resume: {p} is not read by this study (no such N in [grid] n_steps); left as it is" for p in others]
    return lines


def run_model_a(cfg, *, progress=True, resume=False, restart=False, out=None, log=print):
    """Model-A ensemble or sweep: returns (result, xarray Dataset). Without ``resume``, the checkpoints of
    an earlier run in ``out`` (:func:`checkpoint_paths`) are refused if they hold finished chunks, unless
    ``restart`` (they are then discarded; :func:`discard_checkpoint`)."""
    import jaxthermo as jt

    with refused_as("[model], [distribution]"):
        model = build_model_a(cfg)
    check_model_a_precision(cfg, model)
    kw = dict(_engine_kwargs(cfg), wrt=check_wrt_key(cfg, model))
    with refused_as("[initial_state]"):
        rho0 = build_initial_state(cfg)
        check_density_matrix(rho0, "rho0", dim=model.d)  # a one-line error, not the engine's traceback
    start = initial_state_argument(cfg, rho0)
    run, seed = cfg["run"], int(cfg["study"]["seed"])
    paths = checkpoint_paths(cfg, out)  # process 0's (the engine reads and writes them there)
    checkpoint = os.path.join(out, "checkpoint.npz") if paths else None  # a sweep's: one per N beside it
    if not (resume or restart) and is_writer():
        _refuse_several_finished(paths)
    for path in paths if not resume and is_writer() else ():
        if os.path.exists(path):
            discard_checkpoint(path, log, restart=restart)
    agree(refused=False)  # a distributed run: every process is ready, or all stop here
    if not is_writer():  # once every process agreed (said before, it preceded a refusal: nothing ran)
        log(share_line())
    sweep = cfg["study"]["study"] == "sweep"
    engine = partial(jt.sweep, grid=cfg["grid"]) if sweep else jt.ensemble
    try:
        res = engine(
            model,
            start,
            int(run["n_steps"]),
            int(run["n_configs"]),
            seed,
            checkpoint=checkpoint,
            progress=progress,
            callback=_stop_if_asked,
            **kw,
        )
    except CheckpointMismatch as err:
        raise cfgmod.ConfigError(checkpoint_mismatch_message(err, resume)) from err
    except (ValueError, FileInUseError) as err:  # FileFormatError is a ValueError
        if not any(path in str(err) for path in paths):
            raise _as_config_error(err, cfg["grid"] if sweep else ()) from err
        # --resume with an edited study, or a damaged checkpoint: a traceback before. A file in use by another run
        # is refused under --restart as well: no advice to restart there
        hint = f"; or run with {RESTART_INSTEAD} to start afresh (the checkpoint is then discarded)"
        hint = "" if isinstance(err, FileInUseError) else hint
        raise cfgmod.ConfigError(f"--resume: {err}{hint}" if resume else str(err)) from err
    if sweep:
        ds = _note_moving_rho0(_note_divergence_stride(sweep_dataset(res, model, _attrs(cfg))), cfg)
        base = dict(GRID_ATTRS, **{name: f"distribution_{name}" for name in ("sigma", "width", "delta")})
        return res, describe_scanned(ds, list(cfg["grid"]), base)
    ds = _note_moving_rho0(_note_divergence_stride(res.to_xarray(model=model, attrs=_attrs(cfg))), cfg)
    return res, describe_scanned(ds, [], {})


def _note_moving_rho0(ds, cfg):
    """Say on ∂/∂β and ∂/∂g0 (attribute ``comment``) where the study's ρ0 is thermal that the derivative includes
    ρ0's change: ``[initial_state] name = "thermal"`` is τ_S(β, g0), which moves with g0, and with β unless
    [initial_state] beta is given (docs/ensemble.md §5; the derivatives were once taken at fixed ρ0, which two
    runs of the study at β ± h contradicted by a factor 1.7 for ∂⟨D_1(ρ_S|N‖τ_S)⟩ at N = 20)."""
    names = [n for n in moving_rho0_parameters(cfg) if n in cfg["run"]["wrt"]]
    if not names:
        return ds
    state = cfg["initial_state"]
    at = "β" if state["beta"] is None else f"β = {float(state['beta']):g} of [initial_state]"
    # the thermal state of [initial_state] name = "thermal" or of `jaxthermo ensemble --rho0 thermal`
    text = f"including the change of ρ0 = τ_S({at}, g0), the thermal initial state, which moves with " + " and ".join(
        {"beta": "β", "g0": "g0"}[n] for n in names
    )
    for name in names:
        for var in ds.data_vars:
            if var.startswith(f"sensitivity_{name}_"):
                ds[var].attrs["comment"] = text
    return ds


def _note_divergence_stride(ds):
    """Say on the frozen averages of D_α where they are NaN by design (``divergence_every`` > 1)."""
    k = int(ds.attrs.get("divergence_every", 1))
    for name in ("mean_divergence", "var_divergence"):
        if k > 1 and name in ds:
            ds[name].attrs["comment"] = (
                f"given after every {k}th collision and at r = N ([run] divergence_every = {k}), NaN between"
            )
    return ds


def sweep_dataset(sweep, model, attrs):
    """The Dataset of a sweep (:meth:`~jaxthermo.SweepResult.to_xarray`). A grid over ``n_steps`` with
    several N is stacked along ``n_steps``: the per-collision and per-step variables of a point are NaN
    past its own N (their attribute ``padding`` says so)."""
    return sweep.to_xarray(model=model, attrs=attrs)


def _finished_work(path) -> tuple[int | None, int | None]:
    """(finished chunks, finished configurations) a checkpoint holds; None for what it does not say
    (configurations: a file of the format before they were recorded; both: an unreadable file)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            configs = int(f["configs_done"]) if "configs_done" in f.files else None
            return int(f["chunks_done"]), configs
    except (OSError, ValueError, KeyError, EOFError):
        return None, None


def _held(chunks) -> str:
    return "an unreadable checkpoint" if chunks is None else f"{chunks} finished chunks"


def remove_checkpoint(path, check=None) -> str | None:
    """Remove a checkpoint under its lock; returns what it held (``None``: another run holds it, and it
    stays). The checkpoint of a run still going on in the same folder is never removed. ``check(chunks,
    configs)`` (:func:`_finished_work`) sees what it holds under the lock first and may refuse by raising."""
    lock = lock_for(path)
    try:
        _acquire(lock, path, "checkpoint", 0)
    except FileInUseError:
        return None
    try:
        chunks, configs = _finished_work(path)
        if check is not None:
            check(chunks, configs)
        held = _held(chunks)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    finally:
        lock.release()
    return held


def _refuse_several_finished(paths) -> None:
    """A ConfigError naming every checkpoint of a sweep's N's that holds finished chunks, where more than one
    does (:func:`discard_checkpoint` refuses the first it meets, and the refusal named that file alone)."""
    held = [(path, *_finished_work(path)) for path in paths if os.path.exists(path)]
    finished = [(path, chunks, configs) for path, chunks, configs in held if chunks]
    if len(finished) > 1:
        folder = os.path.dirname(finished[0][0]) or "."
        files = ", ".join(
            f"{path} ({chunks} chunks{'' if configs is None else f', {configs} configurations'})"
            for path, chunks, configs in finished
        )
        raise cfgmod.ConfigError(
            f"[study] out: {folder} holds finished chunks of an earlier run in {files}; {CONTINUE_OR_DISCARD}"
        )


def discard_checkpoint(path, log=print, restart=False) -> None:
    """Before a fresh run: remove the checkpoint of an earlier run, saying what it held. One holding
    finished chunks is removed only with ``restart`` (``--restart``); otherwise a ConfigError says how
    many and that ``--resume`` continues them (a plain rerun used to delete them: hours of a long
    run). An unreadable one, or one without a finished chunk, is removed as before (nothing in it can
    be continued). A ConfigError also if a run still going on in the same folder holds it (it used to be
    deleted, and only then was the new run refused as in use)."""
    folder = os.path.dirname(path) or "."
    finished = []

    def refuse_finished(chunks, configs):
        finished.append(chunks)
        if chunks and not restart:
            count = "" if configs is None else f" ({configs} configurations)"
            raise cfgmod.ConfigError(
                f"[study] out: {folder} holds {chunks} finished chunks{count} of an earlier run in {path}; "
                + CONTINUE_OR_DISCARD
            )

    held = remove_checkpoint(path, check=refuse_finished)
    if held is None:
        raise cfgmod.ConfigError(
            f"[study] out: {folder} is in use by another run, which holds {path} "
            f"(lock {path}.lock); wait for it to finish or choose another output folder"
        )
    log(f"{'--restart: ' if finished[0] else ''}discarded {path} ({held} of an earlier run)")


def _grid_points(axes):
    names = list(axes)
    return names, list(itertools.product(*(axes[n] for n in names)))


def _scan_models(table, base, axes, build, prepare=None):
    """``build(parameters)`` at every point of the scan, before any computing: a point the library
    refuses raises a ConfigError naming ``[table]`` and the point's [scan] values. Then, where given,
    ``prepare(model)`` at every point (a computation whose own checks can refuse a point), refused alike;
    its results replace the models."""
    names, points = _grid_points(axes)
    wheres = [f"[{table}] at [scan] " + ", ".join(f"{n} = {v!r}" for n, v in zip(names, p)) for p in points]
    models = []
    for point, where in zip(points, wheres):
        with refused_as(where):
            models.append(build(dict(base, **dict(zip(names, point)))))
    if prepare is not None:
        prepared = []
        for model, where in zip(models, wheres):
            with refused_as(where):
                prepared.append(prepare(model))
        models = prepared
    return names, models


# units of model B's steady-state variables (ħ = k_B = 1), the CF attribute ``units``
COHERENT_UNITS = {
    "coherent_work_rate": "energy/time",
    "incoherent_heat_rate": "energy/time",
    "entropy_production_rate": "nats/time",
    "excited_population": "dimensionless",
}


def coherent_scan(cfg, progress=True):
    """Model B: steady-state rates of the [WCCM] qubit example on a grid (an xarray Dataset).

    At each point ``jt.qubit_example(omega, g, beta, lam, tau)``: the steady state ρ_ss of the
    master equation, the coherent work rate Ẇ_C, the incoherent heat rate Q̇_inc (into the system)
    and the entropy production rate Π, all at ρ_ss; and the excited-state population of ρ_ss.
    """
    import xarray as xr

    import jaxthermo as jt

    base, axes = cfg["coherent"], cfg["scan"]
    names, points = _scan_models(
        "coherent",
        base,
        axes,
        lambda p: jt.qubit_example(omega=p["omega"], g=p["g"], beta=p["beta"], lam=p["lam"], tau=p["tau"]),
        # every steady state before the rates: one that is not unique (g = 0, or rates that underflow to 0) is
        # refused naming its point (it was a traceback from the loop below, status 1)
        lambda model: (model, jt.steady_state(model)),
    )
    shape = tuple(len(axes[n]) for n in names)
    keys = ("coherent_work_rate", "incoherent_heat_rate", "entropy_production_rate", "excited_population")
    data = {k: np.empty(len(points)) for k in keys}
    for i, (model, rho) in enumerate(_bar(points, progress, "model B scan")):
        data["coherent_work_rate"][i] = float(jt.coherent_work_rate(model, rho))
        data["incoherent_heat_rate"][i] = float(jt.incoherent_heat_rate(model, rho))
        data["entropy_production_rate"][i] = float(jt.entropy_production_rate(model, rho))
        # the upper level's: |1⟩ for Ω > 0, |0⟩ for Ω < 0 (H_S = (Ω/2)σ_z; ρ11 was reported as "excited" for both)
        upper = int(np.argmax(np.real(np.diag(np.asarray(model.H_S)))))
        data["excited_population"][i] = float(np.real(np.asarray(rho)[upper, upper]))
    ds = xr.Dataset(
        {k: (tuple(names), v.reshape(shape)) for k, v in data.items()},
        coords={n: (n, np.asarray(axes[n], float)) for n in names},
    )
    ds["coherent_work_rate"].attrs["long_name"] = "coherent work rate Ẇ_C = iλ⟨[G, H_S]⟩ at the steady state"
    ds["incoherent_heat_rate"].attrs["long_name"] = "incoherent heat rate Q̇_inc = Tr[H_S D(ρ)] into the system"
    ds["entropy_production_rate"].attrs["long_name"] = "entropy production rate Π = Ṡ − βQ̇_inc"
    ds["excited_population"].attrs["long_name"] = (
        "population of the excited level in the steady state (|1⟩ for omega > 0, |0⟩ for omega < 0)"
    )
    for k, unit in COHERENT_UNITS.items():
        ds[k].attrs["units"] = unit
    ds.attrs["units"] = (
        "ħ = k_B = 1: energies (omega, g) in one unit, beta in its inverse, times (tau) in 1/energy; "
        "work and heat rates in energy per time, entropy production rate in nats per time"
    )
    ds.attrs.update({f"coherent_{k}": v for k, v in base.items()})
    ds.attrs["model"] = "qubit_example (docs/coherent.md, [WCCM])"
    return describe_scanned(ds, names, {k: f"coherent_{k}" for k in base})


def assignment_scan(cfg, progress=True):
    """Model C: bare, interaction and minimal-dissipation heats of reservoir 1 over time, on a grid
    of ``QuadraticReservoirs.from_regime`` parameters (an xarray Dataset, dims (grid…, time))."""
    import xarray as xr

    import jaxthermo as jt

    base, axes = cfg["assignment"], cfg["scan"]
    names, models = _scan_models(
        "assignment",
        base,
        axes,
        lambda p: jt.QuadraticReservoirs.from_regime(
            int(p["n1"]),
            int(p["n2"]),
            p["detuning"],
            p["effective_coupling"],
            p["nu2"],
            p["g"],
            beta1=p["beta1"],
            beta2=p["beta2"],
            statistics=p["statistics"],
        ),
    )
    shape = tuple(len(axes[n]) for n in names)
    times = np.linspace(0.0, float(base["t_max"]), int(base["n_times"]))
    keys = (
        "bare_heat",
        "interaction_heat",
        "minimal_dissipation_heat",
        "minimal_dissipation_heat_error",
        "weak_coupling_heat",
        "sigma_min",
    )
    data = {k: np.empty((len(models), times.size)) for k in keys}
    for i, model in enumerate(_bar(models, progress, "model C scan")):
        e = model.energetics(times)
        data["bare_heat"][i] = np.asarray(e.bare.heat)
        data["interaction_heat"][i] = np.asarray(e.interaction.heat)
        data["minimal_dissipation_heat"][i] = np.asarray(e.minimal_dissipation.heat)
        data["minimal_dissipation_heat_error"][i] = np.asarray(e.quadrature_error)
        data["weak_coupling_heat"][i] = np.asarray(e.weak_coupling_heat)
        data["sigma_min"][i] = np.asarray(e.sigma_min)
    dims = tuple(names) + ("time",)
    ds = xr.Dataset(
        {k: (dims, v.reshape(shape + (times.size,))) for k, v in data.items()},
        coords=dict({n: (n, np.asarray(axes[n], float)) for n in names}, time=("time", times)),
    )
    for k, text in (
        ("bare_heat", "heat Q(t) into reservoir 1, bare assignment"),
        ("interaction_heat", "heat Q(t) into reservoir 1, interaction assignment"),
        ("minimal_dissipation_heat", "heat Q(t) into reservoir 1, minimal-dissipation assignment (NaN where singular)"),
        (
            "minimal_dissipation_heat_error",
            "estimated quadrature error of minimal_dissipation_heat (docs/assignment.md §6; NaN where it is NaN)",
        ),
        ("weak_coupling_heat", "weak-coupling heat ΔŨ_S on the exact state"),
        ("sigma_min", "smallest singular value of G(t) (minimal dissipation singular where ≈ 0)"),
    ):
        ds[k].attrs["long_name"] = text
        ds[k].attrs["units"] = "dimensionless" if k == "sigma_min" else "energy"
    ds["time"].attrs["units"] = "1/energy"
    ds.attrs["units"] = (
        "ħ = k_B = 1: energies (detuning, effective_coupling, nu2, g and the heats) in one unit, "
        "beta1 and beta2 in its inverse, time in 1/energy"
    )
    ds.attrs.update({f"assignment_{k}": v for k, v in base.items()})
    ds.attrs["model"] = "QuadraticReservoirs.from_regime (docs/assignment.md, [CVS25])"
    return describe_scanned(ds, names, {k: f"assignment_{k}" for k in base})


def _bar(items, progress, desc):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)


# ------------------------------------------------------------------------------ the command


def _with_absolute_paths(cfg) -> dict:
    """``cfg`` with its paths (``[study] out``, ``[initial_state] file``) absolute, as config.resolved.toml records
    them: relative, they named the run's working directory, and the rerun the file promises failed from any other
    (or read another ρ0 file)."""
    cfg = dict(cfg, study=dict(cfg["study"], out=os.path.abspath(cfg["study"]["out"])))
    state = cfg.get("initial_state")
    if state and state.get("file"):
        cfg["initial_state"] = dict(state, file=os.path.abspath(state["file"]))
    return cfg


def _with_file_digest(cfg) -> dict:
    """``cfg`` with ``[initial_state] file_sha256``, the SHA-256 of ρ0's ``.npy`` file, where ρ0 is read from one
    and the study did not give it: config.resolved.toml and results.nc's ``config_toml`` then name the very
    file the run read (the load checks it), and their rerun refuses the file once it has changed, where it
    started silently from another ρ0."""
    state = cfg.get("initial_state")
    if not state or state.get("name") != "file" or state.get("file_sha256") is not None:
        return cfg
    digest = hashlib.sha256(_read_state_file(state["file"])).hexdigest()
    return dict(cfg, initial_state=dict(state, file_sha256=digest))


OUTPUTS = ("results.nc", "summary.png", "config.resolved.toml")


def _write_text(path, text):
    write_atomically(path, lambda tmp: pathlib.Path(tmp).write_text(text, encoding="utf-8"))


def run_study(cfg, *, progress=True, resume=False, restart=False, plot=True, log=print):
    """Run a resolved configuration and write results.nc, summary.png, config.resolved.toml.

    The output folder is checked before computing; results.nc and then config.resolved.toml are
    replaced only once the study has finished (each atomically), so config.resolved.toml always
    describes results.nc (whose attribute ``config_toml`` holds the same configuration). An ensemble
    or sweep continues the checkpoints in the folder with ``resume`` (:func:`checkpoint_paths`); without
    it, one holding finished chunks is refused unless ``restart`` (:func:`discard_checkpoint`). A signal
    (SIGINT, SIGTERM) during an ensemble or sweep stops it once the running chunk is saved, or, after its
    last chunk, once the outputs are written (:func:`_finish_chunk_before_stopping`). Returns the output
    folder.
    """
    cfg = _with_file_digest(cfg)
    out = cfg["study"]["out"]
    study = cfg["study"]["study"]
    checkpointed = study in ("ensemble", "sweep")
    for option, given in (("--resume", resume), ("--restart", restart)):
        if given and not checkpointed:  # a scan ignored --resume silently (and --restart, which it still accepted)
            raise cfgmod.ConfigError(
                f'{option}: supported for study = "ensemble" and "sweep" only (study = {study!r} is not checkpointed)'
            )
    writer = is_writer()  # a distributed run's other processes compute their share and write nothing
    if writer:
        check_output_folder(out, OUTPUTS)
    n_configs = cfg["run"]["n_configs"] if checkpointed else None
    paths = checkpoint_paths(cfg, out)
    with _finish_chunk_before_stopping(checkpointed, n_configs, out, runs=len(paths) or 1):
        v = versions()
        start = time.perf_counter()
        if study in ("ensemble", "sweep"):
            _, ds = run_model_a(cfg, progress=progress, resume=resume, restart=restart, out=out, log=log)
            _Stop.results = True  # a stop asked for from here on waits for the outputs (none lost)
            if not writer:
                return None
        elif study == "coherent_scan":
            ds = coherent_scan(cfg, progress)
            ds.attrs.update(_attrs(cfg))
        else:
            ds = assignment_scan(cfg, progress)
            ds.attrs.update(_attrs(cfg))
        ds.attrs.update({f"{k}_version": val for k, val in v.items()})
        ds.attrs["elapsed_total_s"] = time.perf_counter() - start
        path = os.path.join(out, "results.nc")
        write_atomically(path, lambda tmp: ds.to_netcdf(tmp, engine=NETCDF_ENGINE))
        resolved_path = os.path.join(out, "config.resolved.toml")
        header = (
            f"resolved by jaxthermo {v['jaxthermo']} (JAX {v['jax']}, NumPy {v['numpy']}) on "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}\nrerun: jaxthermo run {shlex.quote(resolved_path)}"
        )
        _write_text(resolved_path, cfgmod.dumps(dict(_with_absolute_paths(cfg), versions=v), header=header))
        log(f"wrote {path}")
        from .summary import derivative_lines, mean_lines, scan_lines

        # what the run was for: model A's totals at r = N (and derivatives) ± 1 s.e., a scan's main numbers
        for line in mean_lines(ds) + derivative_lines(ds) + scan_lines(ds):
            log(line)
        png = os.path.join(out, "summary.png")
        if plot:
            from .summary import plot_summary

            plot_summary(ds, png)
            log(f"wrote {png}")
        elif os.path.exists(png):  # --no-plot: an earlier run's figure would stand beside these results
            os.remove(png)
            log(f"removed {png} (an earlier run's; --no-plot draws none)")
        log(f"wrote {resolved_path}")
        for checkpoint in paths:
            if os.path.exists(checkpoint):
                remove_checkpoint(checkpoint)  # finished: it has served (unless another run took it)
    return out


def load_toml(path) -> dict:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise cfgmod.ConfigError(f"{path}: not valid TOML: {err}") from err
    except UnicodeDecodeError as err:  # tomllib reads UTF-8 only; this was a traceback
        raise cfgmod.ConfigError(f"{path}: not valid TOML: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except FileNotFoundError as err:  # these said "[Errno 2] No such file or directory: 'x.toml'"
        raise cfgmod.ConfigError(f"{path}: no such study file (`jaxthermo init {path}` writes one)") from err
    except IsADirectoryError as err:
        raise cfgmod.ConfigError(f"{path}: a directory, not a study file") from err
    except OSError as err:
        raise cfgmod.ConfigError(f"{path}: cannot be read ({err.strerror or err})") from err


def open_results(path):
    """Reopen a ``results.nc`` written by ``jaxthermo run`` as an xarray Dataset (loaded into memory)."""
    import xarray as xr

    with xr.open_dataset(path, engine=NETCDF_ENGINE) as ds:
        return ds.load()


def require_io():
    """Raise ImportError with the install hint when xarray or the netCDF backend is missing."""
    try:
        import h5netcdf  # noqa: F401
        import xarray  # noqa: F401
    except ImportError as err:
        raise ImportError('results are written as netCDF: pip install "jaxthermo[io]"') from err
    return True
