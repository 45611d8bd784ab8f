"""The command line as a new user met it (helper-90): a one-point time grid run silently, messages in
Python's spelling, a raw errno for a missing study file, a silent negative ρ0 temperature, the ρ0 point
missing from summary.png, argparse's 12-line usage before its error."""

import numpy as np
import pytest

from jaxthermo.apps import cli, study
from jaxthermo.apps.config import ConfigError, resolve


def _refused(raw, match):
    with pytest.raises(ConfigError, match=match):
        resolve(raw)


def test_a_time_grid_of_one_point_is_refused():
    """n_times = 1 computed t = 0 only and printed 'over 0 ≤ t ≤ 0', dropping t_max without a word."""
    raw = {"study": {"study": "assignment_scan"}, "assignment": {"n_times": 1}, "scan": {"detuning": [1.0]}}
    _refused(raw, r"^\[assignment\] n_times = 1: must be >= 2")
    raw["assignment"]["n_times"] = 2
    assert resolve(raw)["assignment"]["n_times"] == 2


def test_a_vanishing_exact_coupling_names_its_key():
    """It said '[model], [distribution]: g_int must be non-zero' (two tables, not the key's value)."""
    _refused({"model": {"coupling": "exact", "g_int": 0.0}}, r"^\[model\] g_int = 0.0: must be non-zero")
    assert resolve({"model": {"coupling": "partial_swap"}})["model"]["g_int"] == 1.0  # unused there


@pytest.mark.parametrize(
    "table, key, value, message",
    [
        ("model", "theta", True, "[model] theta = true: must be a number or a list"),
        ("model", "theta", "0.1", '[model] theta = "0.1": must be a number or a list'),
        ("initial_state", "beta", "hot", '[initial_state] beta = "hot": must be a number or omitted'),
        ("model", "d", 2.5, "[model] d = 2.5: must be an integer"),
    ],
)
def test_a_value_of_the_wrong_type_is_shown_as_the_study_file_writes_it(table, key, value, message):
    """'theta = True: must be an integer or number or list' (Python's True; an integer is a number)."""
    with pytest.raises(ConfigError) as err:
        resolve({table: {key: value}})
    assert str(err.value) == message


def test_a_missing_or_unreadable_study_file_is_one_plain_line(tmp_path, capsys):
    missing = tmp_path / "nonexistent.toml"
    assert cli.main(["run", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"jaxthermo run: error: {missing}: no such study file (`jaxthermo init {missing}` writes one)\n"
    assert cli.main(["run", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"jaxthermo run: error: {tmp_path}: a directory, not a study file\n"


def test_a_negative_initial_temperature_warns_as_the_models_does():
    cfg = resolve({"initial_state": {"name": "thermal", "beta": -2.0}})
    with pytest.warns(UserWarning, match=r"\[initial_state\] beta = -2.0: a negative temperature"):
        rho0 = study.build_initial_state(cfg)
    assert rho0[1, 1] > rho0[0, 0]  # population-inverted, as asked


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ensemble", "--configs", "0"], "argument --configs: '0': need a positive whole number"),
        (["ensemble", "--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
        (["run", "s.toml", "--resume", "--restart"], "argument --restart: not allowed with argument --resume"),
    ],
)
def test_a_malformed_command_line_is_one_line(argv, message, capsys):
    """argparse printed the command's whole usage (12 lines) before the error line."""
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    name = f"jaxthermo {argv[0]}"
    assert err.startswith(f"{name}: error: {message}") and err.count("\n") == 1, err
    assert err.endswith(f"(`{name} --help` lists the options)\n")


def test_summary_draws_the_initial_state_on_the_log_scale(tmp_path):
    """The 'mean state' panel's log scale always started at r = 1: D_1(ρ̄_0‖τ_S) = 1.013 of the example was never
    drawn. Now r = 0 is drawn where it is positive, and left out where it is 0 (ρ0 = τ_S)."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    from jaxthermo.apps import summary
    from jaxthermo.apps._plotting import pyplot

    plt = pyplot()
    for name, starts_at in (("excited", 0), ("thermal", 1)):
        out = tmp_path / name
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'[study]\nout = "{out}"\n[model]\ntheta = 0.4\n[initial_state]\nname = "{name}"\n'
            "[run]\nn_steps = 4\nn_configs = 64\n"
        )
        assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 0
        ds = study.open_results(out / "results.nc")
        fig = summary._ensemble(plt, ds)
        panel = fig.axes[2]
        assert panel.get_yscale() == "log"
        for line in panel.get_lines():
            x, y = line.get_data()
            first = starts_at if line.get_label().startswith("D_α") else 0  # ρ0's distance to τ̄ is > 0 for both
            assert x[0] == first and np.all(np.asarray(y) > 0), (name, line.get_label(), x, y)
        plt.close(fig)
