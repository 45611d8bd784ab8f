"""Bad study configurations stop before computing with one line naming the key (exit 2, no
traceback); keys that do not apply to the chosen choice are refused, not ignored."""

import re
import tomllib

import pytest

from jaxthermo.apps import cli, study
from jaxthermo.apps.config import SCHEMA, ConfigError, dumps, resolve

pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

SWEEP = {"study": {"study": "sweep"}}
COHERENT = {"study": {"study": "coherent_scan"}}
ASSIGNMENT = {"study": {"study": "assignment_scan"}}


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"distribution": {"name": "uniform", "sigma": 0.3}},
            r"\[distribution\] sigma: does not apply to name = 'uniform'",
        ),
        ({"distribution": {"name": "two_point", "sigma": 0.3}}, r"sigma: does not apply to name = 'two_point'"),
        (
            {"initial_state": {"name": "ground", "beta": 0.3}},
            r"\[initial_state\] beta: does not apply to name = 'ground'",
        ),
        ({"initial_state": {"name": "thermal", "phases": [0.0, 1.0]}}, r"phases: does not apply to name = 'thermal'"),
        ({"model": {"g_int": 2.0}}, r"\[model\] g_int: does not apply to coupling = 'partial_swap'"),
        (dict(SWEEP, grid={"n_steps": [2.7]}), r"\[grid\] n_steps = \[2.7\]: must be a non-empty list of integers"),
        ({"distribution": {"sigma": -0.1}}, r"\[distribution\] sigma = -0.1: must be >= 0"),
        ({"run": {"chunk_size": 0}}, r"\[run\] chunk_size = 0: must be > 0"),
        ({"run": {"chunk_size": -5}}, r"\[run\] chunk_size = -5: must be > 0"),
        ({"study": {"seed": 99999999999999999999}}, r"\[study\] seed = 99999999999999999999: must be a 64-bit"),
        ({"initial_state": {"name": "populations", "populations": ["a", "b"]}}, r"\[initial_state\] populations"),
        (
            {"initial_state": {"name": "populations", "populations": [float("nan")] * 2}},
            r"\[initial_state\] populations",
        ),
        ({"model": {"theta": [0.1, "x", 0.1]}, "run": {"n_steps": 3}}, r"\[model\] theta"),
        (dict(ASSIGNMENT, scan={"detuning": [float("nan")]}), r"\[scan\] detuning = \[nan\]"),
        (dict(COHERENT, scan={"beta": [float("nan")]}), r"\[scan\] beta = \[nan\]"),
        (dict(COHERENT, scan={"tau": [-0.01]}), r"\[scan\] tau: the steady-state rates .* do not depend on τ"),
        (dict(SWEEP, grid={"sigma": [-0.1]}), r"\[grid\] sigma = -0.1: must be >= 0"),
        (dict(SWEEP, grid={"theta": [float("nan")]}), r"\[grid\] theta = \[nan\]"),
        (dict(SWEEP, grid={"n_steps": [-3]}), r"\[grid\] n_steps = -3: must be > 0"),
        ({"run": {"n_configs": 1e19}}, r"\[run\] n_configs = 1e\+19: at most 2\*\*32"),
        ({"study": "ensemble"}, r"study = 'ensemble' outside a table"),
    ],
)
def test_bad_values_are_refused_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        resolve(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"distribution": {"name": "uniform", "width": 0.2}, "initial_state": {"name": "ground"}},
        {"distribution": {"name": "two_point"}, "initial_state": {"name": "populations", "populations": [0.7, 0.3]}},
        {"model": {"coupling": "exact", "g_int": 2.0}, "initial_state": {"name": "file", "file": "rho0.npy"}},
    ],
)
def test_the_resolved_toml_of_every_choice_resolves_again(raw):
    cfg = resolve(raw)
    assert resolve(tomllib.loads(dumps(cfg))) == cfg


@pytest.mark.parametrize(
    "raw, unused",
    [
        (
            dict(COHERENT, coherent={"lam": 0.3, "beta": 2.0}, scan={"lam": [0.0, 0.2]}),
            {("coherent", "lam"), ("study", "seed")},
        ),
        (
            dict(ASSIGNMENT, study={"study": "assignment_scan", "seed": 5}, scan={"g": [0.0, 0.1]}),
            {("assignment", "g"), ("study", "seed")},
        ),
        (
            dict(
                SWEEP,
                model={"theta": 0.3},
                run={"n_steps": 7},
                grid={"theta": [0.1, 0.2], "n_steps": [3, 5], "sigma": [0.01]},
            ),
            {("model", "theta"), ("run", "n_steps"), ("distribution", "sigma")},
        ),
    ],
)
def test_the_resolved_toml_comments_out_the_keys_the_study_does_not_read(raw, unused):
    """A scanned key's base value (λ = 0.3 above) and the seed of a deterministic scan read as if they
    were used; written as comments saying why, the file still resolves to the same study."""
    cfg = resolve(raw)
    text = dumps(cfg)
    active = tomllib.loads(text)
    for table, name in unused:
        assert name not in active[table]
        assert re.search(rf"^# {name} = .*\(not used: ", text, re.M), name
    defaults = {(t, n): SCHEMA[t][n].default for t, n in unused}
    expected = {t: {n: defaults.get((t, n), v) for n, v in values.items()} for t, values in cfg.items()}
    assert resolve(active) == expected
    if "coherent" in raw:
        assert active["coherent"]["beta"] == 2.0  # given, not scanned: kept


def _run(tmp_path, raw, *extra):
    path = tmp_path / "bad.toml"
    path.write_text(dumps(resolve(raw)) if "study" in raw and isinstance(raw["study"], dict) else "")
    return cli.main(["run", str(path), "--no-progress", "--no-plot", *extra])


@pytest.mark.parametrize(
    "raw, message",
    [
        (dict(COHERENT, scan={"lam": [0.1, 10.0]}), "error: [coherent] at [scan] lam = 10.0: lam: the ancilla state"),
        (
            dict(ASSIGNMENT, assignment={"statistics": "boson", "nu2": -1.0}, scan={"detuning": [1.0]}),
            "error: [assignment] at [scan] detuning = 1.0: h1",
        ),
    ],
)
def test_a_scan_point_the_library_refuses_stops_before_computing(raw, message, tmp_path, monkeypatch, capsys):
    import jaxthermo as jt

    raw["study"] = dict(raw["study"], out=str(tmp_path / "out"))
    monkeypatch.setattr(jt, "steady_state", lambda *a: pytest.fail("computed"))
    assert _run(tmp_path, raw) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.nc").exists()


@pytest.mark.parametrize("g", [0.0, 1e-200])
def test_a_scan_point_without_a_unique_steady_state_is_refused_naming_it(g, tmp_path, capsys):
    """g = 0 (V = 0: every energy eigenstate is stationary), or rates that underflow to 0: jt.steady_state refuses
    the point, and the run says so in one line naming it, status 2, before any rate is computed or written (it was a
    traceback from the scan's loop, status 1)."""
    raw = dict(COHERENT, scan={"g": [1.0, g]})
    raw["study"] = dict(raw["study"], out=str(tmp_path / "out"))
    assert _run(tmp_path, raw) == 2
    err = capsys.readouterr().err
    assert f"error: [coherent] at [scan] g = {g!r}: model: the steady state is not unique" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "results.nc").exists()


def test_a_top_level_study_key_with_out_is_a_config_error(tmp_path, capsys):
    path = tmp_path / "top.toml"
    path.write_text('study = "ensemble"\n[run]\nn_steps = 3\n')
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "study = 'ensemble' outside a table" in capsys.readouterr().err


def test_bad_command_line_values_exit_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(study, "run_study", lambda *a, **kw: pytest.fail("computed"))
    assert cli.main(["ensemble", "--sigma", "-1", "--out", str(tmp_path)]) == 2
    assert "--sigma = -1.0: must be >= 0" in capsys.readouterr().err  # the option typed, not the config key
    for argv in (["demo", "--configs", "0"], ["demo", "--steps", "-2"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(argv)
        assert stop.value.code == 2
    assert cli.main(["figures", "--only", "bogus", "--out", str(tmp_path)]) == 2
    assert "--only: unknown figure 'bogus'" in capsys.readouterr().err


def test_strings_with_control_characters_quotes_and_backslashes_round_trip():
    title = 'line 1\nline 2\t"quoted" \\ C:\\path \r\f\b \x01\x1f\x7f é ∞'
    cfg = resolve({"study": {"title": title, "out": 'a "folder"\\x'}})
    back = tomllib.loads(dumps(cfg))
    assert back["study"]["title"] == title and resolve(back) == cfg
    # the header comment (config.resolved.toml's "rerun: jaxthermo run <path>") may carry them too
    text = dumps(cfg, header=f"rerun: jaxthermo run {title}")
    assert tomllib.loads(text) == back and text.startswith("# rerun: jaxthermo run line 1\n# line 2\t")


def _example_lines(text):
    """(table, key, value, comment) of every key line of init's output, commented out or not."""
    import re

    table, rows = None, []
    for line in text.splitlines():
        header = re.fullmatch(r"(?:# )?\[(\w+)\]", line)
        if header:
            table = header.group(1)
            continue
        key = re.fullmatch(r"(?:# )?(\w+) = (.*?)  # (.*)", line)
        if key and table is not None:
            value = key.group(2)
            rows.append(
                (
                    table,
                    key.group(1),
                    None if value == "(not set)" else tomllib.loads(f"v = {value}")["v"],
                    key.group(3),
                )
            )
    return rows


@pytest.mark.parametrize("kind", ["ensemble", "sweep", "coherent_scan", "assignment_scan"])
def test_init_lists_every_key_with_its_default_unless_marked(kind, tmp_path):
    from jaxthermo.apps.config import GRID_PARAMETERS, SCAN_PARAMETERS, SCHEMA, example

    text = example(kind)
    rows = _example_lines(text)
    shown = {(t, k) for t, k, _, _ in rows}
    accepted = {(t, k) for t, keys in SCHEMA.items() for k in keys}
    assert accepted <= shown
    for table, allowed in (("grid", GRID_PARAMETERS), *(("scan", p) for p in SCAN_PARAMETERS.values())):
        assert any(t == table and k in allowed for t, k in shown)  # an example axis of each grid/scan
        assert ", ".join(allowed) in text  # and the list of its parameters
    for table, key, value, comment in rows:
        if table in SCHEMA and key in SCHEMA[table] and "example" not in comment:
            assert value == SCHEMA[table][key].default or (table, key) == ("study", "study"), (table, key)
    assert resolve(tomllib.loads(text))["study"]["study"] == kind  # the active part runs as it is
    # a key an example axis replaces, and the seed of a deterministic scan, commented out saying why
    unused = {
        "ensemble": set(),
        "sweep": {("model", "theta"), ("distribution", "sigma")},
        "coherent_scan": {("study", "seed"), ("coherent", "lam")},
        "assignment_scan": {("study", "seed"), ("assignment", "detuning")},
    }[kind]
    assert {(t, k) for t, k, _, comment in rows if "(not used: " in comment} == unused
    assert not any(k in tomllib.loads(text).get(t, {}) for t, k in unused)
    if kind == "ensemble":
        path = tmp_path / "study.toml"
        assert cli.main(["init", str(path)]) == 0 and path.read_text() == text


@pytest.mark.parametrize(
    "kind, table, axis", [("coherent_scan", "coherent", "lam"), ("assignment_scan", "assignment", "detuning")]
)
def test_the_init_template_leads_to_a_scan_by_what_its_header_says(kind, table, axis):
    """`jaxthermo init` says "uncomment what you need"; doing only that for a model B or C scan failed ("[model]: not a
    table of study = 'coherent_scan'"): the header now also says to comment out model A's tables. Followed to the
    letter (study = kind, A's tables commented out, [table] and [scan]'s own example axis uncommented), it resolves."""
    from jaxthermo.apps.config import example

    text = example("ensemble")
    assert "comment\nout or delete [model], [distribution], [initial_state] and [run]" in text.replace("# ", "")
    lines, current = [], None
    for line in text.splitlines():
        head = re.match(r"^(# )?\[(\w+)\]", line)
        current = head.group(2) if head else current
        if current in ("model", "distribution", "initial_state", "run") and not line.startswith("#"):
            line = "# " + line  # comment out model A's tables
        elif current == table and re.match(r"^# (\[|\w+ = )", line):
            line = line[2:]  # uncomment the study's table
        elif current == "scan" and line.startswith(("# [scan]", f"# {axis} = ")):
            line = line[2:]  # and the example axis of its [scan]
        lines.append(line.replace('study = "ensemble"', f'study = "{kind}"'))
    cfg = resolve(tomllib.loads("\n".join(lines)))
    assert cfg["study"]["study"] == kind and list(cfg["scan"]) == [axis] and table in cfg


@pytest.mark.parametrize("axis, values", [("theta", [0.1, 0.2]), ("n_steps", [3, 4])])
def test_a_theta_schedule_with_a_grid_over_theta_or_n_steps_is_refused(axis, values):
    """A grid over θ silently replaced a [model] theta schedule; over n_steps the engine raised a
    ValueError traceback after the run had started (a schedule of 3 angles for N = 4)."""
    raw = {
        "study": {"study": "sweep"},
        "model": {"theta": [0.1, 0.2, 0.3]},
        "run": {"n_steps": 3},
        "grid": {axis: values},
    }
    with pytest.raises(ConfigError, match=rf"\[grid\] {axis}: \[model\] theta is a schedule of 3 angles"):
        resolve(raw)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"foo": 1}, "foo = 1 outside a table: keys belong under a table line: [study], [model], "),
        ({"n_steps": 5}, "n_steps = 5 outside a table: it belongs under a [run] line"),
        (
            {"lam": 0.1, "study": {"study": "coherent_scan"}},
            "lam = 0.1 outside a table: it belongs under a [coherent] line",
        ),
    ],
)
def test_a_key_above_every_table_is_named_as_a_key(raw, message):
    """`foo = 1` at the top of a study file was reported as a table: "[foo]: not a table of study = 'ensemble'"."""
    with pytest.raises(ConfigError) as err:
        resolve(raw)
    assert str(err.value).startswith(message), str(err.value)


@pytest.mark.parametrize("option", ["--resume", "--restart"])
@pytest.mark.parametrize("kind", ["coherent_scan", "assignment_scan"])
def test_resume_of_a_study_without_checkpoints_is_refused(kind, option, tmp_path, capsys, monkeypatch):
    """--resume of a coherent or assignment scan was ignored without a word (a sweep is checkpointed:
    tests/test_cli_sweep_checkpoint.py); --restart was still accepted (exit 0) while --resume was refused."""
    raw = {"study": {"study": kind, "out": str(tmp_path / "o")}}
    raw["grid" if kind == "sweep" else "scan"] = {"theta" if kind == "sweep" else "g": [0.1]}
    monkeypatch.setattr(study, "coherent_scan", lambda *a: pytest.fail("computed"))
    monkeypatch.setattr(study, "assignment_scan", lambda *a: pytest.fail("computed"))
    path = tmp_path / "s.toml"
    path.write_text(dumps(resolve(raw)))
    assert cli.main(["run", str(path), option, "--no-plot"]) == 2
    assert f'{option}: supported for study = "ensemble" and "sweep" only (study = \'{kind}\'' in capsys.readouterr().err
