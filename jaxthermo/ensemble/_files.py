"""Checkpoint and result files that cannot fail silently (docs/ensemble.md §4).

Every file is an ``.npz`` archive (no pickle) with three header entries: ``__format__`` (what it
holds: ``"jaxthermo-result"``, ``"jaxthermo-sweep"`` or ``"jaxthermo-checkpoint"``),
``__version__`` (:data:`FORMAT_VERSION`; older versions in :data:`READABLE_VERSIONS` are read too) and ``__checksum__`` (SHA-256 over every other entry's
name, dtype, shape and bytes). A file is written to a temporary file unique to its writer in the
same directory and renamed over the target (atomic on POSIX), under a lock (``filelock``) on
``path + ".lock"``: two writers of one path are serialised, and a run holding a checkpoint refuses
a second run on the same checkpoint. On load, the header and checksum are verified and the
contents checked (shapes, counts); a truncated, corrupted or foreign file raises
:class:`FileFormatError` naming the file, and is never overwritten. An existing file that is not
a readable jaxthermo file of the same kind, or that is read-only, is never replaced.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import errno
import glob
import hashlib
import json
import os
import shutil
import tempfile

import filelock
import numpy as np

from .._histogram import Histogram
from ._sensitivity import DeltaSensitivity, Sensitivity
from ._statistics import Counts, HigherMoments, Moments

FORMAT_VERSION = 2
# versions this jaxthermo reads: 1 (no sensitivities in results) and 2 (results also hold ``sensitivity``
# and ``delta_sensitivity`` of a run with ``wrt``); checkpoints are the same in both
READABLE_VERSIONS = (1, 2)
RESULT, SWEEP, CHECKPOINT = "jaxthermo-result", "jaxthermo-sweep", "jaxthermo-checkpoint"
# statistics that checkpoints written before them lack: the temperature kind's entropy flow β_r Q_r (its mean and
# the mean entropy production are then None in the result) and every run's ΔS_1 + … + ΔS_N (its moments None)
LATER_STATISTICS = ("entropy_flow", "total_entropy_production", "sens_total_entropy_production")
_HEADER = ("__format__", "__version__", "__checksum__")
_LOCK_TIMEOUT_S = 60.0  # a writer of a result waits this long for another writer of the same path


class FileFormatError(ValueError):
    """A checkpoint or result file is truncated, corrupted, foreign or inconsistent (names the file)."""


class FileInUseError(RuntimeError):
    """Another run holds the lock of this checkpoint or result file."""


class CheckpointMismatch(ValueError):
    """A checkpoint written by another run (a ``ValueError``): ``differences`` {item: (this run's, the file's)}
    names what differs, e.g. ``seed`` or ``n_configs``.

    ``differences`` is empty where the file cannot tell (a file written before checkpoints recorded their run,
    and statistics of the same shapes); a caller can say it in its own terms (``jaxthermo run`` names its
    configuration keys)."""

    def __init__(self, path, differences, message):
        super().__init__(message)
        self.path = path
        self.differences = dict(differences)


# ----------------------------------------------------------------------------- paths and locks


def result_path(path) -> str:
    """The path ``save_*``/``load_*`` use: ``path`` with ``.npz`` appended unless it ends so (an empty path
    is refused: it named the hidden file ``.npz`` of the working directory)."""
    path = os.fspath(path)
    if not path:
        raise ValueError("path='': give the path of a file, e.g. 'run.npz'")
    return path if path.endswith(".npz") else path + ".npz"


def lock_for(path) -> filelock.FileLock:
    """The lock of ``path`` (a file ``path + ".lock"`` next to it)."""
    return filelock.FileLock(os.fspath(path) + ".lock")


def check_writable(path, name: str) -> None:
    """Raise ``PermissionError`` naming ``name`` and ``path`` unless ``path`` can be (re)written: it is not a
    directory (``IsADirectoryError``), its directory exists and is writable, and an existing file is writable
    and has a write permission bit (a file made read-only is not replaced, not even by root)."""
    path = os.fspath(path)
    if not path:  # passed every check below (its directory: the working directory's parent), failed after the run
        raise ValueError(f"{name}='': give the path of a file, e.g. 'run.npz'")
    if os.path.isdir(path):  # was an IsADirectoryError without the parameter's name, after the pilot run
        raise IsADirectoryError(
            f"{name}={path!r} is a directory; give the path of a file, e.g. {os.path.join(path, 'run.npz')!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{name}={path!r}: the directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{name}={path!r}: the directory {directory!r} is not writable")
    if os.path.exists(path) and (not os.access(path, os.W_OK) or not os.stat(path).st_mode & 0o222):
        raise PermissionError(f"{name}={path!r}: the file is read-only; it is not replaced")


def _remove_stale_temporaries(path) -> None:
    """Remove the temporary files ``.<name>.*.tmp`` of :func:`write_atomically` that a killed writer of
    ``path`` left behind (call it holding the lock of ``path``)."""
    directory, name = os.path.split(os.path.abspath(path))
    for tmp in glob.glob(os.path.join(glob.escape(directory), "." + glob.escape(name) + ".*.tmp")):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _acquire(lock, path, name, timeout):
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise FileInUseError(
            f"{name}={path!r} is in use by another run (lock {lock.lock_file!r}); wait for it or choose another path"
        ) from None


# ----------------------------------------------------------------------------- the container


def _checksum(arrays: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _write(path, kind: str, arrays: dict) -> None:
    """Write ``arrays`` with the header atomically to ``path`` (the caller holds the lock)."""
    path = os.fspath(path)
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for key, arr in arrays.items():
        if arr.dtype == object:
            raise TypeError(f"{key}: object arrays are not saved (no pickle)")
    header = {
        "__format__": np.asarray(kind),
        "__version__": np.asarray(FORMAT_VERSION),
        "__checksum__": np.asarray(_checksum(arrays)),
    }

    def savez(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **header, **arrays)

    write_atomically(path, savez)


def write_atomically(path, write) -> None:
    """``write(tmp)`` to a temporary file ``.<name>.<random>.tmp`` in the directory of ``path``, then
    rename it over ``path``: a failure or a kill leaves the old ``path`` as it was. The file gets the
    permissions of one created under the process's umask (the temporary file is private, 0600)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read(path, kind: str, name: str) -> dict:
    """Read and verify a file written by :func:`_write`; :class:`FileFormatError` names the file."""
    path = os.fspath(path)
    what = {RESULT: "result", SWEEP: "sweep", CHECKPOINT: "checkpoint"}[kind]
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise FileFormatError(f"{name}={path!r} is not a jaxthermo {what} file (a bare .npy array)")
            arrays = {k: z[k] for k in z.files}
    except FileFormatError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, a bad header, an unknown compression…
        raise FileFormatError(
            f"{name}={path!r} is truncated, corrupted or not a jaxthermo {what} file ({type(exc).__name__}: {exc})"
        ) from exc
    if "__format__" not in arrays or "__version__" not in arrays:
        raise FileFormatError(f"{name}={path!r} is not a jaxthermo {what} file (no format header)")
    fmt = str(arrays["__format__"])
    if fmt != kind:
        raise FileFormatError(f"{name}={path!r} holds {fmt!r}, not a jaxthermo {what} file")
    version = int(arrays["__version__"])
    if version not in READABLE_VERSIONS:
        raise FileFormatError(
            f"{name}={path!r} has format version {version}; this jaxthermo reads versions {READABLE_VERSIONS}"
        )
    body = {k: v for k, v in arrays.items() if k not in _HEADER}
    if "__checksum__" not in arrays or str(arrays["__checksum__"]) != _checksum(body):
        raise FileFormatError(f"{name}={path!r} is corrupted: its checksum does not match its contents")
    return body


def check_checkpoint_readable(path) -> tuple:
    """(0, None) when ``path`` does not exist or is a readable checkpoint (header, format version, checksum);
    otherwise :class:`FileFormatError` naming it. Run before the pilot that sets a run's histogram edges:
    :meth:`Checkpoint.load` verifies the rest, against the run's fingerprint, which holds those edges."""
    if os.path.exists(path):
        _read(path, CHECKPOINT, "checkpoint")
    return 0, None


def _readable_as(path, kind) -> bool:
    try:
        _read(path, kind, "path")
        return True
    except (FileFormatError, OSError):
        return False


def _save(path, kind, arrays, name):
    path = result_path(path)
    check_writable(path, name)
    lock = lock_for(path)
    _acquire(lock, path, name, _LOCK_TIMEOUT_S)
    try:
        if os.path.exists(path) and not _readable_as(path, kind):
            raise FileFormatError(
                f"{name}={path!r} exists and is not a readable jaxthermo file of this kind; it is not overwritten"
            )
        _write(path, kind, arrays)
    finally:
        lock.release()


def _load(path, kind, name):
    if not isinstance(path, (str, os.PathLike)):  # failed as "expected str, bytes or os.PathLike object, not int"
        raise TypeError(f"{name} must be a file path (str or os.PathLike); got {type(path).__name__}")
    path = result_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name}={path!r}: no such file")
    return path, _read(path, kind, name)


# ----------------------------------------------------------------------------- results


_SCALARS = ("n_configs", "n_steps", "seed")


def _jsonable(info):
    out = {}
    for k, v in info.items():
        if isinstance(v, np.ndarray) or isinstance(v, np.generic):
            arr = np.asarray(v)
            if np.iscomplexobj(arr):
                out[k] = {"__complex__": [arr.real.tolist(), arr.imag.tolist()], "dtype": str(arr.dtype)}
            else:
                out[k] = {"__array__": arr.tolist(), "dtype": str(arr.dtype)}
        else:
            out[k] = v
    return out


def _from_jsonable(info):
    out = {}
    for k, v in info.items():
        if isinstance(v, dict) and "__complex__" in v:
            re, im = v["__complex__"]
            out[k] = (np.asarray(re) + 1j * np.asarray(im)).astype(v["dtype"])
        elif isinstance(v, dict) and "__array__" in v:
            out[k] = np.asarray(v["__array__"], dtype=v["dtype"])
        else:
            out[k] = v
    return out


def result_arrays(result, prefix: str = "") -> dict:
    """Flat {name: array} of an :class:`~jaxthermo.EnsembleResult` (histograms as
    name.edges/.counts/.underflow/.overflow, ``info`` as JSON)."""
    out = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if f.metadata.get("derived"):
            continue
        if f.name == "info":
            out[prefix + "info"] = np.asarray(json.dumps(_jsonable(value)))
        elif value is None:
            continue
        elif isinstance(value, Histogram):
            for g in dataclasses.fields(value):
                out[f"{prefix}{f.name}.{g.name}"] = np.asarray(getattr(value, g.name))
        else:
            out[prefix + f.name] = np.asarray(value)
    out.update(sensitivity_arrays(result, prefix))
    return out


_SENS = "sensitivity"
_DELTA = "delta_sensitivity"
# the array fields of a Sensitivity (its name and n_configs come from the file's names and the result)
_SENS_FIELDS = tuple(f.name for f in dataclasses.fields(Sensitivity) if f.name not in ("name", "n_configs"))
_SENS_OPTIONAL = tuple(f.name for f in dataclasses.fields(Sensitivity) if f.default is None)
_DELTA_FIELDS = tuple(f for f in DeltaSensitivity._fields if f != "n_configs")


def sensitivity_arrays(result, prefix: str = "") -> dict:
    """Flat {name: array} of ``result.sensitivity`` (``sensitivity.names`` as JSON, then
    ``sensitivity/<parameter>/<field>``) and ``result.delta_sensitivity`` (``delta_sensitivity/<field>``);
    empty for a run without ``wrt``."""
    out = {}
    if result.sensitivity is not None:
        out[f"{prefix}{_SENS}.names"] = np.asarray(json.dumps(list(result.sensitivity)))
        for name, sens in result.sensitivity.items():
            values = {f: getattr(sens, f) for f in _SENS_FIELDS}
            out.update({f"{prefix}{_SENS}/{name}/{f}": np.asarray(v) for f, v in values.items() if v is not None})
    if result.delta_sensitivity is not None:
        out.update({f"{prefix}{_DELTA}/{f}": np.asarray(getattr(result.delta_sensitivity, f)) for f in _DELTA_FIELDS})
    return out


def _check_sensitivity_shapes(fields, result_fields, name, where):
    """Every field has the shape of the result's field of the same name, or all of them that shape plus
    one common trailing axis (a parameter with several entries, e.g. a θ schedule)."""
    extra = set()
    for field, value in fields.items():
        base = result_fields[field].shape
        if value.shape[: len(base)] != base or value.ndim - len(base) not in (0, 1):
            raise FileFormatError(
                f"{where}: {_SENS}/{name}/{field} has shape {value.shape}; expected {base} (+ a parameter axis)"
            )
        extra.add(value.shape[len(base) :])
    if len(extra) != 1:
        raise FileFormatError(f"{where}: the fields of {_SENS}/{name} disagree on the parameter axis {sorted(extra)}")


def sensitivities_from_arrays(arrays, prefix, result_fields, where):
    """Inverse of :func:`sensitivity_arrays`, checked against the loaded result fields: (sensitivity,
    delta_sensitivity), each None where the file holds none (format version 1 files hold none)."""
    sens = delta = None
    n = result_fields["n_configs"]
    try:
        if f"{prefix}{_SENS}.names" in arrays:
            sens = {}
            for name in json.loads(str(arrays[f"{prefix}{_SENS}.names"])):
                keys = {f: f"{prefix}{_SENS}/{name}/{f}" for f in _SENS_FIELDS}
                # the entropy fields are optional (files written before them, runs without them)
                fields = {f: np.asarray(arrays[k]) for f, k in keys.items() if k in arrays or f not in _SENS_OPTIONAL}
                _check_sensitivity_shapes(fields, result_fields, name, where)
                sens[name] = Sensitivity(name=name, n_configs=n, **fields)
        if f"{prefix}{_DELTA}/mean_work" in arrays:
            fields = {f: np.asarray(arrays[f"{prefix}{_DELTA}/{f}"]) for f in _DELTA_FIELDS}
            n_steps, n_alpha = result_fields["n_steps"], result_fields["alphas"].size
            for field, value in fields.items():
                shape = (n_steps,) if field.endswith("_work") else (n_steps, n_alpha)
                if value.shape != shape:
                    raise FileFormatError(f"{where}: {_DELTA}/{field} has shape {value.shape}; expected {shape}")
            delta = DeltaSensitivity(n_configs=n, **fields)
    except KeyError as exc:
        raise FileFormatError(f"{where}: entry {exc.args[0]!r} is missing") from None
    except (TypeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"{where}: unreadable sensitivity entry ({exc})") from None
    return sens, delta


def _scalar_int(arrays, key, where):
    arr = arrays[key]
    if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
        raise FileFormatError(f"{where}: {key} must be an integer scalar; got dtype {arr.dtype}, shape {arr.shape}")
    return int(arr)


def _check_result(kwargs, where):
    """Shapes and counts of a loaded result agree with n_steps, n_configs, d and the alphas."""
    n, n_steps = kwargs["n_configs"], kwargs["n_steps"]
    if n < 1 or n_steps < 1:
        raise FileFormatError(f"{where}: n_configs={n} and n_steps={n_steps} must be >= 1")
    state = kwargs["mean_state"]
    if state.ndim != 3 or state.shape[0] != n_steps + 1 or state.shape[1] != state.shape[2]:
        raise FileFormatError(f"{where}: mean_state has shape {state.shape}; expected ({n_steps + 1}, d, d)")
    n_alpha = kwargs["alphas"].size
    expected = {
        "alphas": (n_alpha,),
        "averaged_reservoir_state": state.shape[1:],
        "mean_divergence": (n_steps + 1, n_alpha),
        "var_divergence": (n_steps + 1, n_alpha),
        "mean_state_divergence": (n_steps + 1, n_alpha),
        "mean_state_trace_distance": (n_steps + 1,),
        "mean_state_thermal_trace_distance": (n_steps + 1,),
    }
    for name in ("work", "heat", "energy_change", "cumulative_work"):
        expected[f"mean_{name}"] = expected[f"var_{name}"] = (n_steps,)
    for name in (
        "mean_entropy_flow",
        "var_entropy_flow",
        "mean_entropy_production",
        "mean_cumulative_entropy_production",
    ):
        if kwargs.get(name) is not None:  # optional: older files and runs without D_1 hold none
            expected[name] = (n_steps,)
    for name in ("mean_total_entropy_production", "var_total_entropy_production"):
        if kwargs.get(name) is not None:  # optional: older files hold none
            expected[name] = ()
    for key, shape in expected.items():
        if kwargs[key].shape != shape:
            raise FileFormatError(f"{where}: {key} has shape {kwargs[key].shape}; expected {shape}")
    for key, total in (("work_histogram", n), ("collision_work_histogram", n * n_steps)):
        h = kwargs[key]
        if h.edges.ndim != 1 or h.counts.shape != (h.edges.size - 1,):
            raise FileFormatError(f"{where}: {key} has {h.counts.shape} counts for {h.edges.shape} edges")
        if np.any(np.asarray(h.counts) < 0) or h.underflow < 0 or h.overflow < 0 or h.total != total:
            raise FileFormatError(f"{where}: {key} counts {h.total} values; expected {total}")


def result_from_arrays(arrays: dict, prefix: str = "", *, cls, where: str = "result"):
    """Inverse of :func:`result_arrays` for the result class ``cls``, with the contents checked."""
    kwargs = {}
    try:
        for f in dataclasses.fields(cls):
            if f.metadata.get("derived"):
                continue
            if f.name == "info":
                kwargs["info"] = _from_jsonable(json.loads(str(arrays[prefix + "info"])))
            elif f.name.endswith("histogram"):
                h = {g.name: arrays[f"{prefix}{f.name}.{g.name}"] for g in dataclasses.fields(Histogram)}
                kwargs[f.name] = Histogram(h["edges"], h["counts"], int(h["underflow"]), int(h["overflow"]))
            elif f.default is None and prefix + f.name not in arrays:
                kwargs[f.name] = None  # an optional statistic the run did not compute
            elif f.name in _SCALARS:
                kwargs[f.name] = _scalar_int(arrays, prefix + f.name, where)
            else:
                kwargs[f.name] = np.asarray(arrays[prefix + f.name])
    except KeyError as exc:
        raise FileFormatError(f"{where}: entry {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"{where}: unreadable entry ({exc})") from None
    _check_result(kwargs, where)
    kwargs["sensitivity"], kwargs["delta_sensitivity"] = sensitivities_from_arrays(arrays, prefix, kwargs, where)
    return cls(**kwargs)


def save_result(path, result) -> str:
    """Write a result to ``path`` (``.npz`` appended unless present); returns the path written."""
    arrays = result_arrays(result)
    _save(path, RESULT, arrays, "path")
    return result_path(path)


def load_result(path, cls):
    """Read a result written by :func:`save_result` as ``cls``."""
    path, arrays = _load(path, RESULT, "path")
    return result_from_arrays(arrays, cls=cls, where=f"path={path!r}")


def save_sweep(path, sweep) -> str:
    """Write a sweep to ``path`` (``.npz`` appended unless present); returns the path written."""
    arrays = {"axes": np.asarray(json.dumps(list(sweep.axes))), "n_points": np.asarray(len(sweep.results))}
    for name, values in sweep.axes.items():
        arrays[f"axis.{name}"] = np.asarray(values)
    for k, r in enumerate(sweep.results):
        arrays.update(result_arrays(r, prefix=f"point{k}/"))
    _save(path, SWEEP, arrays, "path")
    return result_path(path)


def load_sweep(path, result_cls, sweep_cls):
    """Read a sweep written by :func:`save_sweep` as ``sweep_cls`` of ``result_cls``."""
    path, arrays = _load(path, SWEEP, "path")
    where = f"path={path!r}"
    try:
        names = json.loads(str(arrays["axes"]))
        axes = {name: arrays[f"axis.{name}"] for name in names}
        n_points = _scalar_int(arrays, "n_points", where)
    except (KeyError, ValueError, TypeError) as exc:
        raise FileFormatError(f"{where}: the sweep axes are unreadable ({exc})") from None
    if any(v.ndim != 1 or v.size == 0 for v in axes.values()):
        raise FileFormatError(f"{where}: every sweep axis must be a non-empty 1-d array")
    n = int(np.prod([len(v) for v in axes.values()]))
    if n != n_points:
        raise FileFormatError(f"{where}: {n_points} grid points stored for a grid of {n}")
    results = tuple(
        result_from_arrays(arrays, prefix=f"point{k}/", cls=result_cls, where=f"{where} point {k}") for k in range(n)
    )
    return sweep_cls(axes, results)


# ----------------------------------------------------------------------------- checkpoints


def flatten_stats(stats, prefix=""):
    """{name: Moments | Counts | HigherMoments} → flat {"name.kind.field": array} (None fields dropped)."""
    flat = {}
    for name, value in stats.items():
        for field, arr in zip(type(value)._fields, value):
            if arr is not None:
                flat[f"{prefix}{name}.{type(value).__name__}.{field}"] = (
                    arr if hasattr(arr, "shape") else np.asarray(arr)
                )
    return flat


def unflatten_stats(flat, prefix=""):
    """Inverse of :func:`flatten_stats`."""
    kinds = {"Moments": Moments, "Counts": Counts, "HigherMoments": HigherMoments}
    grouped: dict = {}
    for key, arr in flat.items():
        if not key.startswith(prefix):
            continue
        name, kind, field = key[len(prefix) :].split(".")
        grouped.setdefault(name, (kind, {}))[1][field] = arr
    out = {}
    for name, (kind, fields) in grouped.items():
        cls = kinds[kind]
        out[name] = cls(*(fields.get(f) for f in cls._fields))
    return out


# identity items that follow from the others (the pilot run's histogram edges): named only alone
_PILOT_EDGES = ("work_edges", "collision_work_edges")
_SMALL = 8  # arrays of at most this many entries are recorded by value, larger ones by a digest


def _describe(value) -> str:
    arr = np.asarray(value)
    if arr.dtype.kind in "biufc" and arr.size > _SMALL:
        digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:12]
        return f"{arr.dtype}{list(arr.shape)} sha256 {digest}…"
    if arr.dtype.kind in "biufc":  # complex entries by repr (JSON has no complex numbers)
        return repr(arr.item()) if arr.ndim == 0 else str(arr.tolist())
    return str(value)


def _same_in_float32(here: str, there: str) -> bool:
    """Whether two recorded values (:func:`_describe`) are numbers equal after rounding to float32."""
    try:
        a, b = (np.asarray(ast.literal_eval(text), np.complex128) for text in (here, there))
    except (ValueError, SyntaxError, TypeError):
        return False
    return a.shape == b.shape and bool(np.all(a.astype(np.complex64) == b.astype(np.complex64)))


def run_identity(**items) -> dict:
    """{item: text} of a run, for a :class:`Checkpoint` to name what differs from another run: numbers
    and small arrays by value, large arrays (ρ0, histogram edges, a θ schedule) by shape and a digest,
    dataclasses (a model, its coupling and law) field by field (``model.beta``, ``model.distribution``
    (the law's class), ``model.distribution.sigma``)."""
    out: dict = {}

    def walk(name, value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[name] = type(value).__name__
            for f in dataclasses.fields(value):
                walk(f"{name}.{f.name}", getattr(value, f.name))
        elif isinstance(value, (tuple, list)) and not all(isinstance(v, (int, float)) for v in value):
            out[name] = str(tuple(value))
        else:
            out[name] = _describe(value)

    for name, value in items.items():
        walk(name, value)
    return out


def _shape_differences(flat, expected) -> dict:
    """What the shapes of a checkpoint's statistics tell about its run against this run's ``expected``
    shapes: N, the number of orders α, d, the W_N histogram's bins and the grid size."""
    probes = (  # (item, statistic, axis, offset): the item is shape[axis] + offset
        ("n_steps", "work.Moments.mean", -1, 0),
        ("number of Rényi orders alphas", "divergence.Moments.mean", -1, 0),
        ("d", "state.Moments.mean", -1, 0),
        ("work_bins", "work_histogram.Counts.counts", -1, -2),
        ("grid points", "work.Moments.mean", 0, 0),
    )
    out = {}
    for item, key, axis, offset in probes:
        if key in flat and key in expected and flat[key].ndim and len(expected[key][0]):
            here, there = expected[key][0][axis] + offset, flat[key].shape[axis] + offset
            if here != there:
                out[item] = (str(here), str(there))
    missing, extra = set(expected) - set(flat), set(flat) - set(expected)
    if missing or extra:
        out["statistics"] = (f"{len(missing)} not in the checkpoint", f"{len(extra)} not in this run")
    return out


def _finished_configurations(arrays) -> int:
    """The finished configurations a checkpoint records (0 where it does not: files before ``configs_done``)."""
    try:
        return int(np.asarray(arrays["configs_done"]))
    except (KeyError, TypeError, ValueError):
        return 0


def _legacy_chunk_sizes(arrays, n_configs):
    """(lo, hi): the chunk sizes k a checkpoint without ``configs_done`` can have been written with,
    from its ``chunks_done`` c and the C configurations of its W_N histogram: k = C/c for a run of
    ``n_configs`` stopped before its end (C < n_configs), ceil(C/k) = c for a finished one; None if
    the file cannot tell."""
    try:
        chunks = int(arrays["chunks_done"])
        counts = np.asarray(arrays["work_histogram.Counts.counts"], np.int64)
        configs = int(counts.reshape(-1, counts.shape[-1])[0].sum())
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if chunks < 1 or configs < chunks:
        return None
    if configs < n_configs:
        return (configs // chunks,) * 2 if configs % chunks == 0 else None
    lo = -(-configs // chunks)
    return lo, max(lo, (configs - 1) // (chunks - 1) if chunks > 1 else configs)


class Checkpoint:
    """Finished configurations on disk: the merged reductions after each chunk, written atomically.

    Use as a context manager around the run: it checks the path is writable and takes the lock
    (a second run on the same path is refused with :class:`FileInUseError`); :meth:`load` verifies
    the file (header, checksum, fingerprint of the run, the count of finished configurations against
    the chunk count and the W_N histogram, every statistic's shape and dtype against ``expected``)
    and :meth:`save` replaces it atomically. ``writer=False`` (the processes other than 0 of a
    distributed run) only reads.

    The fingerprint leaves out the chunk size and the device count: configurations 0…n−1 are the
    same for any chunking (docs/ensemble.md §1), so a run resumes after ``configs_done`` whatever
    chunks and devices it continues with (the statistics agree to rounding; exactly with the same
    chunking). It leaves out the number of configurations too: a run of more configurations
    extends a checkpoint (finished or not) from ``configs_done`` on; one of fewer than
    ``configs_done`` is refused naming n_configs. ``sized_fingerprint`` is the fingerprint of files
    written while it included the number of configurations (they resume with that number only),
    ``legacy_fingerprint`` that of files written before ``configs_done`` was stored, which included
    the chunk size too: such a file resumes with that chunk size.

    ``identity`` (:func:`run_identity`) is stored in the file too: a checkpoint of a different run is
    refused with :class:`CheckpointMismatch` naming the items that differ (e.g. "seed: 2 here, 1 in the
    checkpoint"); for a file written before checkpoints stored it, what the shapes of its statistics
    tell (N, the number of α, d, the histogram's bins).
    """

    def __init__(
        self,
        path,
        fingerprint,
        n_configs,
        chunk_size,
        *,
        legacy_fingerprint=None,
        sized_fingerprint=None,
        writer=True,
        identity=None,
    ):
        self.path = os.fspath(path)
        self.identity = None if identity is None else {str(k): str(v) for k, v in identity.items()}
        self.fingerprint = fingerprint
        self.sized_fingerprint = sized_fingerprint
        self.legacy_fingerprint = legacy_fingerprint
        self.n_configs = int(n_configs)
        self.chunk_size = int(chunk_size)
        self.writer = writer
        self._lock = lock_for(self.path) if writer else None

    def __enter__(self):
        if self.writer:
            check_writable(self.path, "checkpoint")
            _acquire(self._lock, self.path, "checkpoint", 0)
            _remove_stale_temporaries(self.path)
        return self

    def __exit__(self, *exc):
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()
        return False

    def load(self, expected=None):
        """(configurations done, stats or None); ``expected`` {flat key: (shape, dtype)} of the stats
        (or a function returning it, called only when the file exists)."""
        if callable(expected):
            expected = expected()
        if self.writer and expected is not None:
            self._check_space(expected)
        if not os.path.exists(self.path):
            return 0, None
        where = f"checkpoint={self.path!r}"
        arrays = _read(self.path, CHECKPOINT, "checkpoint")
        if "fingerprint" not in arrays or "chunks_done" not in arrays:
            raise FileFormatError(f"{where}: fingerprint or chunks_done is missing")
        fingerprint = str(arrays["fingerprint"])
        chunks = _scalar_int(arrays, "chunks_done", where)
        current = fingerprint == self.fingerprint or (
            self.sized_fingerprint is not None and fingerprint == self.sized_fingerprint
        )
        if current and "configs_done" in arrays and "chunk_size" in arrays:
            configs = _scalar_int(arrays, "configs_done", where)
            size = _scalar_int(arrays, "chunk_size", where)
            if not (configs >= 1 and size >= 1 and chunks == -(-configs // size)):
                raise FileFormatError(f"{where}: chunks_done={chunks}, configs_done={configs} in chunks of {size}")
            if configs > self.n_configs:
                raise self._too_few(configs, where)
        elif self.legacy_fingerprint is not None and fingerprint == self.legacy_fingerprint:
            n_chunks = -(-self.n_configs // self.chunk_size)  # written before configs_done: this chunk size
            if not 1 <= chunks <= n_chunks:
                raise FileFormatError(f"{where}: chunks_done={chunks}; the run has {n_chunks} chunks")
            configs = min(self.n_configs, chunks * self.chunk_size)
        else:
            raise self._mismatch(arrays, expected, where)
        flat = {k: v for k, v in arrays.items() if "." in k}
        if expected is not None:
            # a checkpoint of an earlier jaxthermo resumes without the statistics added since (the run then merges
            # none of them, and its result leaves out what they give): its finished chunks are not lost
            expected = {k: v for k, v in expected.items() if k.split(".")[0] not in LATER_STATISTICS or k in flat}
            missing = sorted(set(expected) - set(flat))
            extra = sorted(set(flat) - set(expected))
            if missing or extra:
                raise FileFormatError(f"{where}: statistics missing {missing[:4]} / unexpected {extra[:4]}")
            for key, (shape, dtype) in expected.items():
                if flat[key].shape != tuple(shape) or flat[key].dtype.kind != np.dtype(dtype).kind:
                    raise FileFormatError(
                        f"{where}: {key} has {flat[key].dtype}{flat[key].shape}; expected {np.dtype(dtype)}{tuple(shape)}"
                    )
        counts = flat.get("work_histogram.Counts.counts")
        if counts is not None and not np.all(np.sum(np.asarray(counts, np.int64), axis=-1) == configs):
            raise FileFormatError(f"{where}: the W_N histogram does not hold the {configs} finished configurations")
        return configs, unflatten_stats(flat)

    def _too_few(self, finished: int, where: str) -> CheckpointMismatch:
        """The refusal of a run of fewer configurations than the file's ``finished`` ones, naming n_configs."""
        return CheckpointMismatch(
            self.path,
            {"n_configs": (str(self.n_configs), f"{finished} finished")},
            f"n_configs={self.n_configs}: {where} holds {finished} finished configurations; a run of at least "
            f"{finished} resumes or extends it",
        )

    def _mismatch(self, arrays, expected, where) -> CheckpointMismatch:
        """The error for a checkpoint of another run, naming what differs where the file can tell."""
        differences = {}
        stored = None
        if "identity" in arrays:
            with contextlib.suppress(ValueError, TypeError):
                stored = json.loads(str(arrays["identity"]))
        if isinstance(stored, dict) and self.identity is not None:
            absent = "(not recorded)"
            for item in sorted(set(stored) | set(self.identity)):
                here, there = self.identity.get(item, absent), str(stored.get(item, absent))
                if here != there:
                    differences[item] = (here, there)
        if set(differences) - set(_PILOT_EDGES):  # the edges follow from what differs: not named too
            differences = {k: v for k, v in differences.items() if k not in _PILOT_EDGES}
        if "dtype" in differences:  # parameters cast to the other precision: not named for their rounding
            differences = {k: v for k, v in differences.items() if k == "dtype" or not _same_in_float32(*v)}
        finished = _finished_configurations(arrays)
        if differences and set(differences) <= set(_PILOT_EDGES) and finished > self.n_configs:
            # fewer configurations than the file finished: the pilot's edges differ because n_configs does (below
            # 512), and n_configs is what to change (the edges' hashes were named instead)
            return self._too_few(finished, where)
        if not differences and expected is not None:
            flat = {k: v for k, v in arrays.items() if "." in k}
            differences = _shape_differences(flat, expected() if callable(expected) else expected)
        legacy = "configs_done" not in arrays  # written before the chunk size was recorded
        sizes = _legacy_chunk_sizes(arrays, self.n_configs) if legacy else None
        if sizes is not None and not sizes[0] <= self.chunk_size <= sizes[1]:
            there = str(sizes[0]) if sizes[0] == sizes[1] else f"{sizes[0]} to {sizes[1]}"
            differences["chunk_size"] = (str(self.chunk_size), there)
        legacy_hint = ""
        if legacy:
            written = f"chunk_size={differences['chunk_size'][1]}" if "chunk_size" in differences else "the chunk_size"
            legacy_hint = (
                "; the file was written before checkpoints recorded their chunk size, so it resumes only with "
                f"{written} and the n_configs of the run that wrote it"
            )
        if differences:
            what = "; ".join(
                f"{item}: {here} here, {there} in the checkpoint" for item, (here, there) in differences.items()
            )
            hint = ""
            if "dtype" in differences:
                hint = (
                    "; the run's precision follows rho0's unless dtype= is given (a float32/complex64 rho0 runs "
                    "in float32), so dtype=jnp.float64 resumes a float64 checkpoint"
                )
            elif set(differences) <= set(_PILOT_EDGES):
                hint = (
                    "; the default edges come from a pilot run on the first min(n_configs, 512) configurations, "
                    "so another n_configs below 512 changes them (give work_range= and collision_work_range=)"
                )
            message = (
                f"{where} belongs to a different run ({what}){hint}{legacy_hint}; delete it or choose another path"
            )
        else:
            message = (
                f"{where} belongs to a different run (parameters, seed, precision, statistics or histogram "
                "edges differ; the file does not record which); the default edges come from the first "
                "min(n_configs, 512) configurations, so a run of another n_configs below 512 needs "
                "work_range= and collision_work_range=; a float32/complex64 rho0 runs in float32 unless "
                "dtype= is given, so a run checkpointed before jaxthermo followed rho0's precision resumes "
                f"with dtype=jnp.float64{legacy_hint}; delete it or choose another path"
            )
        return CheckpointMismatch(self.path, differences, message)

    def _check_space(self, expected) -> None:
        """``OSError`` (ENOSPC) naming the checkpoint when its filesystem has less free space than one copy of
        the file (the float64 accumulators of ``expected`` plus 64 KiB): a full disk failed only at the save
        after the first chunk, with "[Errno 28] No space left on device" naming no file."""
        need = 2**16 + sum(
            int(np.prod(shape)) * (16 if np.dtype(dtype).kind == "c" else 8) for shape, dtype in expected.values()
        )
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(self.path))).free
        if free < need:
            raise OSError(
                errno.ENOSPC,
                f"checkpoint={self.path!r}: {free} bytes free on its filesystem, a checkpoint of this run needs "
                f"about {need}; free some space or choose another path",
            )

    def save(self, configs_done, stats):
        """Replace the file by the reductions over configurations 0…``configs_done`` − 1 (an ``OSError`` names the
        file and says that it still holds the configurations of its previous save)."""
        if not self.writer:
            return
        arrays = dict(
            fingerprint=np.asarray(self.fingerprint),
            chunks_done=np.asarray(-(-int(configs_done) // self.chunk_size), np.int64),
            configs_done=np.asarray(configs_done, np.int64),
            chunk_size=np.asarray(self.chunk_size, np.int64),
            **({} if self.identity is None else {"identity": np.asarray(json.dumps(self.identity))}),
            **{k: np.asarray(v) for k, v in flatten_stats(stats).items()},
        )
        try:
            _write(self.path, CHECKPOINT, arrays)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"checkpoint={self.path!r}: the finished configurations 0…{int(configs_done) - 1} could not be "
                f"saved ({exc.strerror or exc}); the file still holds those of its previous save, if any",
            ) from exc


def expected_stats(shapes) -> dict:
    """{flat key: (shape, dtype)} of per-device outputs (``jax.eval_shape``; the device axis dropped)."""
    return {k: (tuple(v.shape[1:]), v.dtype) for k, v in flatten_stats(shapes).items()}
