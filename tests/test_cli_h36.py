"""The command line with a checkpoint of another run, and with values its precision cannot hold.

Before: ``--resume`` onto a checkpoint of other settings printed the engine's catch-all message with
Python advice (``dtype=jnp.float64``), naming nothing that differed; a float32 study of a law whose δ
overflows float32 ran and wrote NaN results; a sweep point whose variances overflow wrote inf.
"""

import numpy as np
import pytest

from jaxthermo.apps import cli
from jaxthermo.apps.config import resolve
from jaxthermo.apps.study import run_model_a

pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")


def _args(out, *extra):
    return ["ensemble", "--configs", "4", "--out", str(out), "--no-plot", "--no-progress", *extra]


def _checkpoint_of(out, n_steps, seed):
    """A finished run's checkpoint left in ``out`` (run_study removes it; run_model_a does not)."""
    raw = {
        "study": {"study": "ensemble", "out": str(out), "seed": seed},
        "run": {"n_steps": n_steps, "n_configs": 4},
    }
    out.mkdir(exist_ok=True)
    run_model_a(resolve(raw), progress=False, out=str(out))
    assert (out / "checkpoint.npz").exists()


def test_resume_names_the_option_that_differs(tmp_path, capsys):
    out = tmp_path / "out"
    _checkpoint_of(out, 3, 0)
    assert cli.main(_args(out, "--steps", "2", "--resume")) == 2
    err = capsys.readouterr().err
    assert "--steps: 2 here, 3 in the checkpoint" in err and "run with --restart instead of --resume" in err
    assert "jnp" not in err and "dtype=" not in err and "Traceback" not in err


def test_resume_with_another_seed_gives_command_line_advice(tmp_path, capsys):
    out = tmp_path / "out"
    _checkpoint_of(out, 2, 1)
    assert cli.main(_args(out, "--steps", "2", "--seed", "2", "--resume")) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo ensemble: error: --resume: ") and "run with --restart instead of --resume" in err
    assert "jnp" not in err and "dtype=" not in err and "work_range=" not in err
    assert (out / "checkpoint.npz").exists()  # nothing discarded


def test_resume_with_another_coupling_names_it_as_the_study_file_does(tmp_path, capsys):
    """It said `[model] coupling: ExactUnitary here, PartialSwap in the checkpoint` (the classes' names)."""
    out = tmp_path / "out"
    _checkpoint_of(out, 2, 0)  # [model] coupling = "partial_swap", the default
    path = tmp_path / "exact.toml"
    path.write_text(f'[study]\nout = "{out}"\n[model]\ncoupling = "exact"\n[run]\nn_steps = 2\nn_configs = 4\n')
    assert cli.main(["run", str(path), "--no-plot", "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert '[model] coupling: "exact" here, "partial_swap" in the checkpoint' in err, err
    assert "ExactUnitary" not in err and "PartialSwap" not in err


def test_resume_with_another_constant_angle_shows_numbers(tmp_path, capsys):
    """A constant θ was shown as the engine's one-angle schedule, `[model] theta: [0.3] here, [0.1] …`."""
    out = tmp_path / "out"
    _checkpoint_of(out, 2, 0)  # [model] theta = 0.1, the default
    assert cli.main(_args(out, "--steps", "2", "--theta", "0.3", "--resume")) == 2
    err = capsys.readouterr().err
    assert "--theta: 0.3 here, 0.1 in the checkpoint" in err, err


@pytest.mark.parametrize(
    "table, expected",
    [
        ("[distribution]\nsigma = 0.07\n", "[distribution] sigma: 0.07 here, 0.05 in the checkpoint"),
        (
            '[initial_state]\nname = "populations"\npopulations = [0.7, 0.3]\n',
            "[initial_state]: populations [0.7, 0.3] here, populations [0.731059, 0.268941] in the checkpoint",
        ),
        (
            '[initial_state]\nname = "populations"\npopulations = [0.7, 0.3]\nphases = [0.0, 1.0]\n',
            "settings ([initial_state]: populations [0.7, 0.3] with coherences here, populations [0.731059, 0.268941] in",
        ),
        ("[run]\nwork_bins = 32\n", "32 bins here, 64 bins in the checkpoint"),
    ],
    ids=["sigma", "populations", "coherent", "work_bins"],
)
def test_resume_with_another_setting_names_it_in_the_study_file_terms(table, expected, tmp_path, capsys):
    """helper-105's trial: σ shown as the engine's stacked list (`[0.06] here, [0.05]`), ρ0 as its raw complex matrix,
    work_bins as the edges' shape and digest (`float64[1, 33] sha256 d2a8… here`)."""
    out = tmp_path / "out"
    _checkpoint_of(out, 2, 0)  # the defaults: σ = 0.05, ρ0 = τ_S at β g0 = 1 (0.731059 = 1/(1 + e⁻¹)), 64 bins
    path = tmp_path / "other.toml"
    run = "[run]\nn_steps = 2\nn_configs = 4\n"
    text = table.replace("[run]\n", run) if table.startswith("[run]") else table + run
    path.write_text(f'[study]\nout = "{out}"\n' + text)
    assert cli.main(["run", str(path), "--no-plot", "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "sha256" not in err and "+0j" not in err


def _run_toml(tmp_path, text, capsys):
    path = tmp_path / "study.toml"
    path.write_text(f'[study]\nout = "{tmp_path / "out"}"\n' + text)
    code = cli.main(["run", str(path), "--no-plot", "--no-progress"])
    return code, capsys.readouterr().err


def test_float32_study_with_a_law_beyond_float32_is_refused_before_computing(tmp_path, capsys):
    # δ up to 9σ = 9e39 > float32's largest, 3.4e38: the old run cast it to inf and wrote NaN
    assert 9e39 > float(np.finfo(np.float32).max)
    code, err = _run_toml(
        tmp_path, '[distribution]\nsigma = 1e39\n[run]\ndtype = "float32"\nn_steps = 2\nn_configs = 4\n', capsys
    )
    assert code == 2 and "[model], [distribution], [run]: " in err and "overflows float32" in err
    assert not (tmp_path / "out" / "results.nc").exists()


def test_sweep_point_whose_variances_overflow_is_named(tmp_path, capsys):
    text = '[study]\nstudy = "sweep"\n[run]\nn_steps = 100\nn_configs = 4\n[grid]\ng0 = [1.0, 1e300]\n'
    path = tmp_path / "study.toml"
    path.write_text(text.replace("[study]\n", f'[study]\nout = "{tmp_path / "out"}"\n', 1))
    assert cli.main(["run", str(path), "--no-plot", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "at [grid] g0 = 1e+300" in err and "second moment" in err


def test_a_fresh_run_leaves_the_checkpoint_of_a_running_one_alone(tmp_path, capsys):
    """A second `jaxthermo ensemble` (no --resume) in the folder of a run still going on deleted that
    run's checkpoint, and only then was refused as in use: the running run's finished chunks were gone."""
    from jaxthermo.ensemble._files import lock_for

    out = tmp_path / "out"
    out.mkdir()
    checkpoint = out / "checkpoint.npz"
    checkpoint.write_bytes(b"the running ensemble's checkpoint")
    lock = lock_for(checkpoint)
    lock.acquire(timeout=0)  # the running run holds it
    try:
        assert cli.main(_args(out, "--steps", "2")) == 2
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "--out: " in err and "is in use by another run" in err
    assert checkpoint.read_bytes() == b"the running ensemble's checkpoint"
    assert cli.main(_args(out, "--steps", "2")) == 0  # once it has finished, a fresh run discards it
    assert not checkpoint.exists()


def test_resume_into_a_folder_in_use_is_refused_without_advice_to_restart(tmp_path, capsys):
    """helper-105's trial: `--resume` in the folder of a run still going on was refused as in use "…; or run with
    --restart instead of --resume to start afresh", which is refused in the same situation."""
    from jaxthermo.ensemble._files import lock_for

    out = tmp_path / "out"
    _checkpoint_of(out, 2, 0)
    checkpoint = out / "checkpoint.npz"
    kept = checkpoint.read_bytes()
    lock = lock_for(checkpoint)
    lock.acquire(timeout=0)  # the running run holds it
    try:
        assert cli.main(_args(out, "--steps", "2", "--resume")) == 2
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "is in use by another run" in err and "wait for it" in err, err
    assert "--restart" not in err, err
    assert checkpoint.read_bytes() == kept


def test_absurd_step_count_is_refused_in_the_options_typed(tmp_path, capsys):
    """--steps 1e300: refused before computing, naming the options and N in a readable form."""
    assert cli.main(_args(tmp_path / "out", "--steps", "1e300")) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo ensemble: error: --d, --theta, --sigma, --beta, --g0, --kind, --steps: ")
    assert "n_steps=10^300.0" in err and len(err) < 400


def test_thermal_initial_state_beyond_float64_is_the_ground_state(tmp_path, capsys):
    """[initial_state] beta = 1e300 with g0 = 1e10: jt.thermal_state was NaN (β g0 = 1e310 overflows) and the
    engine's 'rho0 must be finite' ended the command in a traceback; jt.thermal_state now gives the limit,
    the ground state (tests/test_qudit.py), and the run completes."""
    with np.errstate(over="ignore"):
        assert np.isinf(np.float64(1e300) * np.float64(1e10))
    code, err = _run_toml(tmp_path, "[model]\ng0 = 1e10\n[initial_state]\nbeta = 1e300\n[run]\nn_steps = 2\n", capsys)
    assert code == 0 and "Traceback" not in err, err
