"""Study configuration for ``jaxthermo run study.toml``: schema, defaults, validation, TOML out.

A study file has a ``[study]`` table naming the study and its output folder, then the tables of
that study:

* ``study = "ensemble"`` / ``"sweep"`` (model A): ``[model]``, ``[distribution]``,
  ``[initial_state]``, ``[run]`` and, for a sweep, ``[grid]``;
* ``study = "coherent_scan"`` (model B, the [WCCM] qubit example): ``[coherent]`` and ``[scan]``;
* ``study = "assignment_scan"`` (model C, ``QuadraticReservoirs.from_regime``): ``[assignment]``
  and ``[scan]``.

Every key has a default (:data:`SCHEMA`); :func:`resolve` returns the full configuration with
every default filled in, and raises :class:`ConfigError` naming the key and the allowed values
for any unknown key, wrong type or value outside its choices. :func:`dumps` writes a resolved
configuration back as TOML (``config.resolved.toml``), without a third-party writer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

STUDIES = ("ensemble", "sweep", "coherent_scan", "assignment_scan")


class ConfigError(ValueError):
    """A bad study configuration; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Key:
    """One configuration key: default, type(s), allowed values (choices) and a one-line help."""

    default: Any
    types: tuple
    help: str
    choices: tuple | None = None
    positive: bool = False
    nonnegative: bool = False
    # (selector, values): the key is used only when the table's ``selector`` key is one of ``values``
    used_with: tuple | None = None


NUM = (int, float)
LIST = (list,)
OPT = (type(None),)

SCHEMA: dict[str, dict[str, Key]] = {
    "study": {
        "study": Key("ensemble", (str,), "what to run", STUDIES),
        "out": Key("study-output", (str,), "output folder (results.nc, summary.png, config.resolved.toml)"),
        "seed": Key(0, (int,), "integer seed of the configurations (a signed 64-bit integer)"),
        "title": Key("", (str,), "free text, copied into the results' attributes"),
    },
    # ---------------------------------------------------------------- model A
    "model": {
        "d": Key(2, (int,), "qudit dimension d >= 2", positive=True),
        "beta": Key(1.0, NUM, "inverse temperature β of the unperturbed reservoir"),
        "g0": Key(1.0, NUM, "level spacing g0 of the system and the unperturbed reservoir"),
        "theta": Key(0.1, NUM + LIST, "partial-swap mixing angle θ (or a list of N values: a schedule)"),
        "kind": Key(
            "hamiltonian",
            (str,),
            "which reservoir parameter is inhomogeneous: g_r = g0(1+δ) or β_r = β(1+δ)",
            ("hamiltonian", "temperature"),
        ),
        "coupling": Key("partial_swap", (str,), "two-body collision", ("partial_swap", "exact")),
        "g_int": Key(
            1.0, NUM, 'interaction strength of coupling = "exact" (θ = g_int t_int)', used_with=("coupling", ("exact",))
        ),
    },
    "distribution": {
        "name": Key("gaussian", (str,), "law G(δ) of the inhomogeneity", ("gaussian", "uniform", "two_point")),
        "sigma": Key(
            0.05, NUM, "standard deviation of gaussian G(δ)", nonnegative=True, used_with=("name", ("gaussian",))
        ),
        "width": Key(
            0.1,
            NUM,
            "full width of uniform G(δ) on [−width/2, width/2]",
            nonnegative=True,
            used_with=("name", ("uniform",)),
        ),
        "delta": Key(
            0.05,
            NUM,
            "two_point: δ = ±delta with probability 1/2",
            nonnegative=True,
            used_with=("name", ("two_point",)),
        ),
    },
    "initial_state": {
        "name": Key(
            "thermal", (str,), "initial system state ρ0", ("thermal", "ground", "excited", "populations", "file")
        ),
        "beta": Key(
            None,
            NUM + OPT,
            "thermal: inverse temperature of ρ0 (default: the model's β, of each grid point)",
            used_with=("name", ("thermal",)),
        ),
        "populations": Key(
            None,
            LIST + OPT,
            "populations: p_j (j = 0 is the ground state), summing to 1",
            used_with=("name", ("populations",)),
        ),
        "phases": Key(
            None,
            LIST + OPT,
            "populations: phases φ_j; given, ρ0 = |ψ⟩⟨ψ| with ψ_j = √p_j e^{iφ_j}",
            used_with=("name", ("populations",)),
        ),
        "file": Key(None, (str,) + OPT, "file: a .npy of the (d, d) matrix", used_with=("name", ("file",))),
        "file_sha256": Key(
            None,
            (str,) + OPT,
            "file: the SHA-256 of the .npy (config.resolved.toml records it); given, a changed file is refused",
            used_with=("name", ("file",)),
        ),
    },
    "run": {
        "n_steps": Key(100, (int,), "collisions per configuration N", positive=True),
        "n_configs": Key(10_000, NUM, "number of reservoir configurations", positive=True),
        "alphas": Key([1.0, math.inf], LIST, "orders α of D_α(ρ‖τ_S)"),
        "work_bins": Key(64, (int,), "bins of the W_N histogram", positive=True),
        "chunk_size": Key(None, (int,) + OPT, "configurations per chunk (default: the engine's choice)", positive=True),
        "divergence_every": Key(
            None,
            (int,) + OPT,
            "frozen averages <D_α> after every k-th collision and at r = N, NaN between (default: every collision; "
            "every 20th for coherent states of d >= 3)",
            positive=True,
        ),
        "dtype": Key("float64", (str,), "precision", ("float64", "float32")),
        "wrt": Key(
            [],
            LIST,
            'derivatives of the mean statistics, in the same pass, w.r.t. these parameters, e.g. ["theta", "sigma"] '
            "(a thermal [initial_state] moves with beta and g0, and the derivatives include that): "
            'theta, beta, g0, the law\'s sigma/width/delta, g_int (coupling = "exact"), "deltas" (∂/∂δ_r); [] = none',
        ),
    },
    "grid": {},  # sweep: {parameter: [values]} — checked against GRID_PARAMETERS
    # ---------------------------------------------------------------- model B
    "coherent": {
        "model": Key("qubit_example", (str,), "model B system", ("qubit_example",)),
        "omega": Key(1.0, NUM, "qubit frequency Ω (H_S = H_A = Ω σ_z / 2)"),
        "g": Key(1.0, NUM, "coupling g of V = g(σ₊σ₋ + σ₋σ₊)"),
        "beta": Key(1.0, NUM, "inverse temperature β of the ancillae"),
        "lam": Key(0.1, NUM, "coherence amplitude λ of the ancillae"),
        "tau": Key(0.01, NUM, "collision time τ", positive=True),
    },
    # ---------------------------------------------------------------- model C
    "assignment": {
        "n1": Key(2, (int,), "modes of reservoir 1 (the system S)", positive=True),
        "n2": Key(2, (int,), "modes of reservoir 2", positive=True),
        "detuning": Key(1.0, NUM, "Δ = ν1 − ν2"),
        "effective_coupling": Key(0.2, NUM, "Γ = 2√(N1 N2) γ"),
        "nu2": Key(1.0, NUM, "leading eigenvalue ν2 of reservoir 2"),
        "g": Key(0.1, NUM, "intra-reservoir hopping g"),
        "beta1": Key(1.0, NUM, "inverse temperature of reservoir 1"),
        "beta2": Key(0.5, NUM, "inverse temperature of reservoir 2"),
        "statistics": Key("fermion", (str,), "particle statistics", ("fermion", "boson")),
        "t_max": Key(10.0, NUM, "last time of the grid", positive=True),
        "n_times": Key(201, (int,), "points of the time grid", positive=True),
    },
    "scan": {},  # model B/C: {parameter: [values]} — checked against SCAN_PARAMETERS
}

GRID_PARAMETERS = ("theta", "beta", "g0", "sigma", "width", "delta", "n_steps")
SCAN_PARAMETERS = {
    "coherent_scan": ("omega", "g", "beta", "lam"),
    "assignment_scan": ("detuning", "effective_coupling", "nu2", "g", "beta1", "beta2"),
}
TABLES = {
    "ensemble": ("study", "model", "distribution", "initial_state", "run"),
    "sweep": ("study", "model", "distribution", "initial_state", "run", "grid"),
    "coherent_scan": ("study", "coherent", "scan"),
    "assignment_scan": ("study", "assignment", "scan"),
}


SEED_RANGE = (-(2**63), 2**63)  # the engine's seed is a signed 64-bit integer
MAX_CONFIGS = 2**32  # configurations per seed (the engine's limit)


def _type_names(types):
    """``(int, float, list)`` → "a number or a list" (an integer is a number: it is not named apart)."""
    names = {int: "integer", float: "number", str: "string", list: "list", type(None): "omitted"}
    words = [names.get(t, t.__name__) for t in types if not (t is int and float in types)]
    return " or ".join(w if w == "omitted" else ("an " if w[0] in "aeiou" else "a ") + w for w in dict.fromkeys(words))


def _shown(value) -> str:
    """A value as the study file spells it (``true``, ``"0.1"``), for messages; Python's repr otherwise."""
    try:
        return toml_value(value)
    except (TypeError, ValueError):
        return repr(value)


def _check_sign(where, key: Key, value):
    if key.positive and value is not None and not value > 0:
        raise ConfigError(f"{where} = {value!r}: must be > 0")
    if key.nonnegative and value is not None and not value >= 0:
        raise ConfigError(f"{where} = {value!r}: must be >= 0")


def _check_value(table, name, key: Key, value):
    where = f"[{table}] {name}"
    if isinstance(value, bool) or not isinstance(value, key.types):
        example = f", e.g. wrt = [{toml_value(value)}]" if name == "wrt" and isinstance(value, str) else ""
        raise ConfigError(f"{where} = {_shown(value)}: must be {_type_names(key.types)}{example}")
    if key.choices is not None and value not in key.choices:
        raise ConfigError(f"{where} = {value!r}: allowed values are {', '.join(map(repr, key.choices))}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r}: must be finite")
    _check_sign(where, key, value)
    return value


def _check_numbers(where, values, types=NUM, finite=True):
    """``values`` as a list of numbers of ``types`` (finite unless told); else ConfigError naming ``where``."""
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, types) and not isinstance(v, bool) for v in values)
        or (finite and not all(math.isfinite(v) for v in values))
    ):
        kind = "integers" if types == (int,) else ("finite numbers" if finite else "numbers")
        raise ConfigError(f"{where} = {values!r}: must be a non-empty list of {kind}")
    return values


def _axis_home(table, study, name) -> str:
    """The table of the configuration key a [grid]/[scan] parameter varies."""
    if table == "scan":
        return "coherent" if study == "coherent_scan" else "assignment"
    return {"n_steps": "run", "theta": "model", "beta": "model", "g0": "model"}.get(name, "distribution")


def _axis_key(table, study, name) -> Key:
    """The configuration key a [grid]/[scan] parameter varies (its type and sign apply to every value)."""
    return SCHEMA[_axis_home(table, study, name)][name]


def _unused(cfg: dict) -> dict:
    """``{(table, key): why}`` for the keys of a resolved study that its run does not read: those a
    [grid]/[scan] axis replaces, and the seed of a study without random numbers."""
    study = cfg.get("study", {}).get("study")
    out = {
        (_axis_home(axes, study, name), name): f"[{axes}] {name} gives its values"
        for axes in ("grid", "scan")
        for name in cfg.get(axes, {})
    }
    if study in SCAN_PARAMETERS:
        out["study", "seed"] = f"{study} draws no random numbers"
    return out


def _check_axis(table, study, name, values, allowed):
    where = f"[{table}] {name}"
    if study == "coherent_scan" and name == "tau":
        raise ConfigError(
            f"{where}: the steady-state rates of coherent_scan are those of the continuous-time master equation "
            "(τ → 0, docs/coherent.md §3) and do not depend on τ (every point gave the same numbers); "
            "τ only bounds λ (ρ_A >= 0): set [coherent] tau"
        )
    if name not in allowed:
        raise ConfigError(f"[{table}] has unknown parameter {name!r}; allowed parameters: {', '.join(allowed)}")
    key = _axis_key(table, study, name)
    scalar = tuple(t for t in key.types if t in NUM)
    for v in _check_numbers(where, values, scalar):
        _check_sign(where, key, v)
    values = [int(v) if scalar == (int,) else float(v) for v in values]
    _check_distinct(where, values)
    return values


def _check_distinct(where, values):
    """A value given twice made a duplicated coordinate of results.nc (``ds.sel`` returned both)."""
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ConfigError(f"{where} = {values!r}: {', '.join(map(repr, repeated))} given more than once")


def _check_used(table, given: dict, schema: dict, resolved: dict):
    """Refuse a key given for a choice it does not apply to (e.g. sigma with name = "uniform")."""
    for name in given:
        used_with = schema[name].used_with
        if used_with is None or given[name] is None:
            continue
        selector, values = used_with
        if resolved[selector] not in values:
            raise ConfigError(
                f"[{table}] {name}: does not apply to {selector} = {resolved[selector]!r} "
                f"(only to {selector} = {' or '.join(map(repr, values))}); remove it"
            )


def resolve(raw: dict) -> dict:
    """The full configuration: every table of the chosen study with every default filled in.

    Raises :class:`ConfigError` naming the key and the allowed keys or values.
    """
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a TOML table")
    study_raw = raw.get("study", {})
    if not isinstance(study_raw, dict):
        raise ConfigError(f"study = {study_raw!r} outside a table: put it under a [study] line (the first table)")
    study = study_raw.get("study", SCHEMA["study"]["study"].default)
    _check_value("study", "study", SCHEMA["study"]["study"], study)
    tables = TABLES[study]
    raw = {k: v for k, v in raw.items() if k != "versions"}  # written into config.resolved.toml; informative
    for table in raw:
        if not isinstance(raw[table], dict) and table not in tables:  # `foo = 1` above every table: not a table
            home = next((t for t in tables if table in SCHEMA.get(t, {})), None)
            where = (
                f"it belongs under a [{home}] line"
                if home
                else f"keys belong under a table line: {', '.join(f'[{t}]' for t in tables)}"
            )
            raise ConfigError(f"{table} = {_shown(raw[table])} outside a table: {where}")
        if table not in tables:
            raise ConfigError(
                f"[{table}]: not a table of study = {study!r}; allowed tables: {', '.join(f'[{t}]' for t in tables)}"
            )
    out: dict = {}
    for table in tables:
        given = raw.get(table, {})
        if not isinstance(given, dict):
            raise ConfigError(f"[{table}] must be a table")
        if table in ("grid", "scan"):
            allowed = _allowed(table, study)
            out[table] = {name: _check_axis(table, study, name, values, allowed) for name, values in given.items()}
            if not out[table]:
                raise ConfigError(
                    f"[{table}]: give at least one parameter and its values; allowed parameters: {', '.join(allowed)}"
                )
            continue
        schema = SCHEMA[table]
        for name in given:
            if name not in schema:
                raise ConfigError(f"[{table}] has unknown key {name!r}; allowed keys: {', '.join(schema)}")
        out[table] = {
            name: _check_value(table, name, key, given.get(name, key.default)) for name, key in schema.items()
        }
        _check_used(table, given, schema, out[table])
    _cross_checks(out, study)
    return out


def _cross_checks(cfg, study):
    seed = cfg["study"]["seed"]
    if not SEED_RANGE[0] <= seed < SEED_RANGE[1]:
        raise ConfigError(f"[study] seed = {seed!r}: must be a 64-bit integer, -2**63 <= seed < 2**63")
    if "run" in cfg:
        _check_run(cfg["run"])
    if "model" in cfg:
        m = cfg["model"]
        if m["d"] < 2:
            raise ConfigError(f"[model] d = {m['d']}: must be >= 2")
        if isinstance(m["theta"], list):
            _check_numbers("[model] theta", m["theta"])
            if len(m["theta"]) != cfg["run"]["n_steps"]:
                raise ConfigError(
                    f"[model] theta: a schedule needs n_steps = {cfg['run']['n_steps']} values; got {len(m['theta'])}"
                )
    if "model" in cfg and cfg["model"]["coupling"] == "exact" and cfg["model"]["g_int"] == 0:
        raise ConfigError(f"[model] g_int = {cfg['model']['g_int']!r}: must be non-zero (θ = g_int t_int)")
    if "assignment" in cfg and cfg["assignment"]["n_times"] < 2:  # one point dropped t_max without a word
        raise ConfigError(f"[assignment] n_times = {cfg['assignment']['n_times']}: must be >= 2 (the grid 0 … t_max)")
    if "initial_state" in cfg:
        _check_initial_state(cfg["initial_state"], cfg["model"])
    if study == "sweep":
        _check_sweep(cfg)


def _check_run(run):
    n = run["n_configs"]
    if float(n) != int(n):
        raise ConfigError(f"[run] n_configs = {n!r}: must be a whole number (e.g. 1e6 or 1000000)")
    if int(n) > MAX_CONFIGS:
        raise ConfigError(f"[run] n_configs = {n!r}: at most 2**32 = {MAX_CONFIGS} configurations per seed")
    run["n_configs"] = int(n)
    for a in run["alphas"]:
        if isinstance(a, bool) or not isinstance(a, NUM) or math.isnan(a):  # any real Rényi order, as jt.ensemble
            raise ConfigError(
                f"[run] alphas = {run['alphas']!r}: must be a list of real numbers (inf and -inf allowed, nan not)"
            )
    run["alphas"] = [float(a) for a in run["alphas"]]
    _check_distinct("[run] alphas", run["alphas"])
    if not all(isinstance(name, str) for name in run["wrt"]):  # the names themselves: study.check_wrt_key
        raise ConfigError(f'[run] wrt = {run["wrt"]!r}: must be a list of parameter names, e.g. ["theta", "sigma"]')
    run["wrt"] = list(run["wrt"])  # not the default's list object


# tolerance of the sum of [initial_state] populations
POPULATION_ATOL = 1e-9


def _check_initial_state(s, model):
    d = model["d"]
    if s["name"] == "populations" and s["populations"] is None:
        raise ConfigError("[initial_state] name = 'populations' needs populations = [p_0, …, p_{d−1}]")
    if s["name"] == "file" and s["file"] is None:
        raise ConfigError("[initial_state] name = 'file' needs file = \"rho0.npy\"")
    digest = s["file_sha256"]
    if digest is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise ConfigError(f"[initial_state] file_sha256 = {digest!r}: need 64 hexadecimal digits (a SHA-256)")
    # a thermal ρ0 without beta stays so (not resolved to [model] beta): it is τ_S of the model's β at every
    # grid point and under [run] wrt (study.initial_state_argument)
    for name in ("populations", "phases"):
        if s[name] is not None:
            _check_numbers(f"[initial_state] {name}", s[name])
            if len(s[name]) != d:
                raise ConfigError(f"[initial_state] {name}: need d = {d} values; got {len(s[name])}")
    p = s["populations"]
    if p is not None and (min(p) < 0 or abs(sum(p) - 1) > POPULATION_ATOL):
        raise ConfigError(f"[initial_state] populations = {p}: must be >= 0 and sum to 1")


def _check_sweep(cfg):
    """A grid over a spread of G(δ) must vary the chosen distribution's own parameter."""
    dist = cfg["distribution"]["name"]
    if isinstance(cfg["model"]["theta"], list):  # a schedule θ_1…θ_N
        for name, why in (("theta", "would replace the schedule"), ("n_steps", "would not match its length")):
            if name in cfg["grid"]:
                raise ConfigError(
                    f"[grid] {name}: [model] theta is a schedule of {len(cfg['model']['theta'])} angles, which a grid "
                    f"over {name} {why}; give one [model] theta or remove {name} from [grid]"
                )
    for name in cfg["grid"]:
        key = SCHEMA["distribution"].get(name)
        if key is not None and dist not in key.used_with[1]:
            own = next(n for n, k in SCHEMA["distribution"].items() if k.used_with and dist in k.used_with[1])
            raise ConfigError(f"[grid] {name}: the distribution is {dist!r}, whose parameter is {own!r}")


# ------------------------------------------------------------------------------ TOML out


_TOML_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _toml_string(text: str) -> str:
    """A TOML basic string: the escapes of the TOML spec, \\u and four hex digits for the other control characters."""
    escaped = (_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text)
    return '"' + "".join(escaped) + '"'


def toml_value(v) -> str:
    """``v`` written as a TOML value (``["theta", "sigma"]``, ``inf``, ``true``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def _comment_text(text: str) -> str:
    """``text`` fit for a TOML comment: control characters (not allowed there) as ``\\xNN``."""
    return "".join(c if (c == "\t" or (" " <= c != "\x7f")) else f"\\x{ord(c):02x}" for c in text)


def dumps(cfg: dict, header: str = "", comments: bool = True) -> str:
    """A resolved configuration as TOML text (``None`` values, and keys the study does not read, written as
    comments)."""
    lines = [f"# {_comment_text(line)}" if line else "#" for line in header.split("\n")]
    unused = _unused(cfg)
    for table, values in cfg.items():
        if not isinstance(values, dict):
            continue
        lines.append("")
        lines.append(f"[{table}]")
        schema = SCHEMA.get(table, {})
        for name, value in values.items():
            key = schema.get(name)
            note = f"  # {key.help}" if (comments and key is not None) else ""
            if key is not None and key.choices and comments:
                note += f" ({' | '.join(key.choices)})"
            if (table, name) in unused:
                lines.append(f"# {name} = {toml_value(value)}{note or '  #'} (not used: {unused[table, name]})")
            elif value is None:
                lines.append(f"# {name} = (not set){note}")
            elif key is not None and key.used_with and values.get(key.used_with[0]) not in key.used_with[1]:
                lines.append(f"# {name} = {toml_value(value)}{note}")  # not used with this choice
            else:
                lines.append(f"{name} = {toml_value(value)}{note}")
    return "\n".join(lines) + "\n"


EXAMPLE_INTRO = """jaxthermo study: `jaxthermo run study.toml`. Every key is optional; a value shown is the key's
default unless its comment says "example". Writes results.nc (xarray/netCDF), summary.png and
config.resolved.toml into `out`. Tables and keys of the other studies, and keys that do not apply
to the choice above them, are commented out: uncomment what you need. A model B or C scan
(study = "coherent_scan" | "assignment_scan") takes [coherent] or [assignment] and [scan] alone: comment
out or delete [model], [distribution], [initial_state] and [run], which belong to model A.

Model A (docs/inhomogeneous.md): a system qudit (H_S = g0 s_z, |0> = ground state) collides N
times with fresh reservoir qudits, each thermal but slightly off: δ ~ G(δ) per collision,
g_r = g0(1 + δ) (kind = "hamiltonian") or β_r = β(1 + δ) (kind = "temperature"); θ is the
partial-swap mixing angle; an ensemble averages over n_configs draws of δ_1…δ_N."""

# values of the example that differ from the defaults (marked "example" in its comments)
EXAMPLE_VALUES = {("model", "d"): 3, ("model", "theta"): 0.2, ("run", "n_steps"): 200, ("run", "n_configs"): 100_000}
EXAMPLE_AXES = {
    "grid": {"theta": [0.1, 0.2, 0.4], "sigma": [0.01, 0.05]},
    "scan": {"lam": [0.0, 0.1, 0.2], "detuning": [0.5, 1.0, 2.0]},
}
AXIS_NOTES = {
    "grid": 'study = "sweep": every combination, common random numbers; parameters: ' + ", ".join(GRID_PARAMETERS),
    "scan": "; ".join(f"study = {s!r}: {', '.join(p)}" for s, p in SCAN_PARAMETERS.items()),
}


def _allowed(axes_table, study) -> tuple:
    """The parameters a [grid] or [scan] of ``study`` may vary."""
    return GRID_PARAMETERS if axes_table == "grid" else SCAN_PARAMETERS.get(study, ())


def _example_key(table, name, key: Key, values: dict, active: bool, unused: str = "") -> str:
    value = values[name]
    note = key.help + (f" ({' | '.join(key.choices)})" if key.choices else "")
    if value != key.default:
        note += f"; example, the default is {toml_value(key.default)}"
    if unused:
        note += f" (not used: {unused})"
    used = not unused and (key.used_with is None or values[key.used_with[0]] in key.used_with[1])
    text = f"{name} = {toml_value(value)}" if value is not None else f"{name} = (not set)"
    return f"{'' if active and used and value is not None else '# '}{text}  # {note}"


def example(study: str = "ensemble") -> str:
    """The commented example study of ``jaxthermo init``, generated from :data:`SCHEMA`: every key,
    those of ``study`` active with their defaults (or marked example values)."""
    lines = [f"# {line}" if line else "#" for line in EXAMPLE_INTRO.splitlines()]
    axes = {
        t: {n: v for n, v in EXAMPLE_AXES[t].items() if n in _allowed(t, study)}
        for t in TABLES[study]
        if t in EXAMPLE_AXES
    }
    unused = _unused({"study": {"study": study}, **axes})
    for table, schema in SCHEMA.items():
        active = table in TABLES[study]
        lines += ["", f"{'' if active else '# '}[{table}]"]
        if table in EXAMPLE_AXES:
            lines.append(f"# {AXIS_NOTES[table]}")
            allowed = _allowed(table, study)
            lines += [
                f"{'' if active and n in allowed else '# '}{n} = {toml_value(v)}  # example"
                for n, v in EXAMPLE_AXES[table].items()
            ]
            continue
        values = {name: EXAMPLE_VALUES.get((table, name), key.default) for name, key in schema.items()}
        if table == "study":
            values["study"] = study
        lines += [
            _example_key(table, name, schema[name], values, active, unused.get((table, name), "")) for name in schema
        ]
    return "\n".join(lines) + "\n"


EXAMPLE = example()
