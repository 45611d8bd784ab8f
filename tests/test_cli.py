"""The ``jaxthermo`` command (jaxthermo.apps.cli): arguments, the deprecated jaxthermo.cli, and a
clear message when the optional matplotlib (``jaxthermo[plot]``) is missing."""

import pathlib
import subprocess
import sys
import textwrap

import pytest

from jaxthermo.apps import cli

MESSAGE = 'matplotlib is needed for plots: pip install "jaxthermo[plot]"'


def _without_matplotlib(code):
    """Run ``code`` in a fresh interpreter in which ``import matplotlib`` fails."""
    prelude = "import sys\nsys.modules['matplotlib'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )


def test_missing_matplotlib_gives_the_install_hint(tmp_path):
    out = _without_matplotlib(
        f"""
        import jaxthermo.apps.demo, jaxthermo.apps.figures  # importable without matplotlib
        from jaxthermo.apps.cli import main
        from jaxthermo.apps.figures import run_script
        codes = [main(["demo", "--out", {str(tmp_path / "d")!r}, "--configs", "10"]),
                 main(["figures", "--out", {str(tmp_path / "f")!r}, "--only", "fig4"]),
                 run_script("fig4", [{str(tmp_path / "s")!r}, "--quick"]),
                 run_script("partial_swap_validity", [{str(tmp_path / "v")!r}, "--quick"])]
        print(codes)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1, 1, 1, 1]"
    lines = [line for line in out.stderr.splitlines() if MESSAGE in line]
    assert len(lines) == 4 and lines[0] == f"jaxthermo demo: {MESSAGE}"
    assert not any(tmp_path.iterdir())  # failed before computing or writing anything


def test_console_script_entry_point():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["jaxthermo"] == "jaxthermo.apps.cli:main"
    assert not any(d.startswith("matplotlib") for d in project["dependencies"])
    assert any(d.startswith("matplotlib") for d in project["optional-dependencies"]["plot"])


def test_arguments_reach_the_demo(monkeypatch):
    import jaxthermo.apps.demo as demo

    seen = {}
    monkeypatch.setattr(demo, "run_demo", lambda **kw: seen.update(kw) or 0)
    assert cli.main(["demo", "--out", "x", "--configs", "7", "--steps", "3", "--seed", "5"]) == 0
    assert seen == dict(out="x", n_configs=7, n_steps=3, seed=5)
    with pytest.raises(SystemExit) as stop:
        cli.main(["nonsense"])
    assert stop.value.code == 2


def test_old_cli_module_warns_and_forwards(monkeypatch):
    import jaxthermo.apps.demo as demo
    from jaxthermo.cli import main as old_main

    monkeypatch.setattr(demo, "run_demo", lambda **kw: 0)
    with pytest.warns(DeprecationWarning, match="jaxthermo.cli.main is deprecated; use jaxthermo.apps.cli.main"):
        assert old_main(["demo", "--configs", "3"]) == 0


# ---------------------------------------------------------------- what a user sees when things go wrong


def _ensemble_args(tmp_path, *extra):
    return ["ensemble", "--steps", "2", "--configs", "4", "--out", str(tmp_path / "out"), "--no-plot", "--no-progress"]


def test_ctrl_c_says_where_the_finished_work_is_and_how_to_resume(tmp_path, monkeypatch, capsys):
    """A SIGINT used to end in a 40-line traceback (KeyboardInterrupt) and Python's status."""
    from jaxthermo.apps import study

    saved = [True]

    def interrupted(cfg, **kw):
        if saved[0]:
            (tmp_path / "out" / "checkpoint.npz").write_bytes(b"")  # the engine saved some chunks
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", interrupted)
    (tmp_path / "out").mkdir()
    assert cli.main(_ensemble_args(tmp_path)) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and str(tmp_path / "out" / "checkpoint.npz") in err and "--resume" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err

    (tmp_path / "out" / "checkpoint.npz").unlink()
    saved[0] = False
    assert cli.main(_ensemble_args(tmp_path)) == 130  # nothing saved yet: no resume to offer
    err = capsys.readouterr().err
    assert "no results were written" in err and "--resume" not in err

    import jaxthermo.apps.demo as demo

    monkeypatch.setattr(demo, "run_demo", lambda **kw: (_ for _ in ()).throw(KeyboardInterrupt))
    assert cli.main(["demo", "--out", str(tmp_path / "d")]) == 130
    assert "jaxthermo demo: interrupted" in capsys.readouterr().err


def test_ctrl_c_on_a_process_other_than_zero_names_process_zeros_checkpoint(tmp_path, monkeypatch, capsys):
    """A process ≠ 0 of a jax.distributed run writes no files: it said "the finished chunks are kept in
    out/checkpoint.npz" where it saw process 0's file on a shared folder, and "no results were written" where
    the folder was process 0's alone. Now it names process 0's checkpoint either way, with the resume on every
    process."""
    from jaxthermo.apps import _distributed, study

    monkeypatch.setattr(study, "run_study", lambda cfg, **kw: (_ for _ in ()).throw(KeyboardInterrupt))
    monkeypatch.setattr(_distributed, "is_writer", lambda: False)
    for shared in (True, False):
        if shared:
            (tmp_path / "out").mkdir()
            (tmp_path / "out" / "checkpoint.npz").write_bytes(b"")
        else:
            (tmp_path / "out" / "checkpoint.npz").unlink()
        assert cli.main(_ensemble_args(tmp_path)) == 130
        err = capsys.readouterr().err
        assert f"process 0 keeps the finished chunks in its {tmp_path / 'out' / 'checkpoint.npz'}" in err, err
        assert "on every process with --resume" in err and "no results were written" not in err


def test_ctrl_c_on_process_zero_of_a_distributed_run_resumes_on_every_process(tmp_path, monkeypatch, capsys):
    """Process 0 keeps the checkpoint; its message said "run the same command with --resume", which on one
    process alone waits for the others at jax.distributed's start. Without jax.distributed, no "every process"."""
    from jaxthermo.apps import _distributed, study

    def stop(cfg, **kw):
        (tmp_path / "out" / "checkpoint.npz").write_bytes(b"")
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", stop)
    (tmp_path / "out").mkdir()
    for distributed in (True, False):
        monkeypatch.setattr(_distributed, "is_distributed", lambda d=distributed: d)
        assert cli.main(_ensemble_args(tmp_path) + ["--resume"]) == 130
        err = capsys.readouterr().err
        assert f"are kept in {tmp_path / 'out' / 'checkpoint.npz'}" in err, err
        assert ("run the same command on every process with --resume" in err) == distributed, err


def test_out_of_memory_is_one_line_naming_what_to_reduce(tmp_path, monkeypatch, capsys):
    """`jaxthermo ensemble --d 100000` ended in JAX's RESOURCE_EXHAUSTED traceback."""
    from jaxthermo.apps import study

    def exhausted(cfg, **kw):
        raise MemoryError("RESOURCE_EXHAUSTED: Out of memory allocating 80000000000 bytes.")

    monkeypatch.setattr(study, "run_study", exhausted)
    assert cli.main(_ensemble_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxthermo ensemble: error: out of memory (RESOURCE_EXHAUSTED") and "dimension d" in err
    assert "Traceback" not in err
    # `jaxthermo run` of a model C scan (n1 = 200000) was told to choose "a smaller qudit dimension d, chunk_size,
    # number of collisions or grid", none of which it has: the advice names the study's own keys
    examples = pathlib.Path(__file__).resolve().parents[1] / "examples"
    for example, keys in (("assignment_regimes", "n1, n2, fewer time points n_times"), ("coherent_lambda", "[scan]")):
        assert cli.main(["run", str(examples / f"{example}.toml"), "--out", str(tmp_path / example)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("jaxthermo run: error: out of memory (RESOURCE_EXHAUSTED") and keys in err, err
        assert "dimension d" not in err


def test_library_warnings_are_one_line_naming_the_command(tmp_path, monkeypatch, capsys):
    """Warnings used to print as '<string>:10: UserWarning: …' (a Python file and line)."""
    from jaxthermo.apps import study

    monkeypatch.setattr(study, "run_study", lambda cfg, **kw: study.build_model_a(cfg))  # warns; no ensemble
    args = _ensemble_args(tmp_path) + ["--kind", "temperature", "--sigma", "2"]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "jaxthermo ensemble: warning: kind='temperature'" in err and "UserWarning" not in err


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--theta", "nan", "--theta = nan: must be finite"),
        ("--sigma", "-1", "--sigma = -1.0: must be >= 0"),
        ("--d", "1", "--d = 1: must be >= 2"),
        ("--seed", str(2**64), "--seed = 18446744073709551616: must be a 64-bit"),
    ],
)
def test_ensemble_errors_name_the_option_typed(option, value, message, tmp_path, capsys):
    """`jaxthermo ensemble` has no config file; its errors used to name [model] theta, [distribution] sigma."""
    assert cli.main(_ensemble_args(tmp_path) + [option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxthermo ensemble: error: {message}") and "[model]" not in err


def test_resume_without_a_checkpoint_says_it_starts_afresh(tmp_path, monkeypatch, capsys):
    from jaxthermo.apps import study

    monkeypatch.setattr(study, "run_study", lambda cfg, **kw: None)
    assert cli.main(_ensemble_args(tmp_path) + ["--resume"]) == 0
    assert "--resume: no " in capsys.readouterr().out


def test_every_subcommand_documents_every_option(capsys):
    """`--help` of each subcommand: every option has a help text (demo's --seed and the figure names had none),
    and one that takes a value and has a default says it (`jaxthermo ensemble --rho0` did not)."""
    import argparse

    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help, f"jaxthermo {name} {action.option_strings or action.dest}: no help"
            if action.option_strings and action.nargs != 0 and action.default not in (None, argparse.SUPPRESS):
                assert "default" in action.help, f"jaxthermo {name} {action.option_strings}: default not said"
    from jaxthermo.apps.figures import FIGURES

    with pytest.raises(SystemExit) as stop:
        cli.main(["figures", "--help"])
    text = capsys.readouterr().out
    assert stop.value.code == 0 and all(n in text for n in FIGURES)


def test_scripts_have_help_and_refuse_unknown_options(tmp_path, monkeypatch, capsys):
    """`python scripts/inhomogeneous/fig4.py --help` used to compute fig4 into a folder named '--help';
    a misspelt `--quik` was taken as the output folder (figures) or ignored (studies)."""
    import pathlib
    import runpy

    from jaxthermo.apps.figures import run_script

    monkeypatch.chdir(tmp_path)
    for argv in (["--help"], ["--quik"], ["a", "b"]):
        with pytest.raises(SystemExit) as stop:
            run_script("fig4", argv)
        assert stop.value.code == (0 if argv == ["--help"] else 2)
    out = capsys.readouterr()
    assert "OUT_DIR" in out.out and "--quick" in out.out and "unrecognized arguments: --quik" in out.err
    assert not any(tmp_path.iterdir())  # nothing computed, no folder made
    # an OUT_DIR that cannot be written: a ConfigError, FileExistsError or FileNotFoundError traceback, for some
    # scripts after minutes of computing; now status 2 and one line naming it before anything runs
    (tmp_path / "a_file").write_text("")
    for out_dir, why in (
        ("a_file", "is a file, not a folder"),
        ("a_file/sub", "cannot be written (Not a directory)"),
        ("/proc/nope", "cannot be written ("),
    ):
        with pytest.raises(SystemExit) as stop:
            run_script("fig4", [out_dir, "--quick"])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and f"error: OUT_DIR {out_dir!r}: {why}" in err and "Traceback" not in err, err
    from jaxthermo.apps.script_cli import script_arguments

    args = script_arguments("a study", "figures", argv=["new/deeper"])  # writable: checked, then left as it was
    assert args.out == "new/deeper" and sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]

    scripts = pathlib.Path(__file__).resolve().parents[1] / "scripts"
    monkeypatch.syspath_prepend(str(scripts))
    from _study import run_study

    ran = []
    module = type(sys)("study_doc")
    module.__doc__ = "A study. Usage: [OUT_DIR] [--quick]"
    monkeypatch.setitem(sys.modules, "study_doc", module)

    def main(out, quick=False):
        ran.append((out, quick))
        return {}

    main.__module__ = "study_doc"
    for argv, code in ((["--quik"], 2), (["--help"], 0)):
        monkeypatch.setattr(sys, "argv", ["study.py", *argv])
        with pytest.raises(SystemExit) as stop:
            run_study(main, "default-out")
        assert stop.value.code == code
    monkeypatch.setattr(sys, "argv", ["study.py", "elsewhere", "--quick"])
    run_study(main, "default-out")
    assert ran == [("elsewhere", True)]
    for script in (scripts / "assignment" / "md_peaks.py", scripts / "coherent" / "convergence.py"):
        monkeypatch.setattr(sys, "argv", [script.name, "--help"])
        monkeypatch.syspath_prepend(str(script.parent))
        with pytest.raises(SystemExit) as stop:  # before any computing
            runpy.run_path(str(script), run_name="__main__")
        assert stop.value.code == 0, script.name


def test_resume_from_a_checkpoint_it_cannot_use_is_one_line(tmp_path, capsys):
    """--resume after editing the study, or from a damaged checkpoint, ended in the engine's traceback."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "checkpoint.npz").write_bytes(b"not an npz archive")
    assert cli.main(_ensemble_args(tmp_path) + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("jaxthermo ensemble: error: --resume: checkpoint=")
        and "run with --restart instead of --resume" in err
    )
    assert "Traceback" not in err and (tmp_path / "out" / "checkpoint.npz").read_bytes() == b"not an npz archive"


def test_init_and_run_refuse_unusable_files_in_one_line(tmp_path, capsys):
    """`init missing/study.toml` and `run` of a file that is not UTF-8 ended in tracebacks."""
    assert cli.main(["init", str(tmp_path / "missing" / "study.toml")]) == 2
    assert cli.main(["init", str(tmp_path), "--force"]) == 2  # a folder
    binary = tmp_path / "latin1.toml"
    binary.write_bytes("[model]\n# température\n".encode("latin-1"))
    assert cli.main(["run", str(binary)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("jaxthermo init: error: cannot write") and "is a folder" in err[1]
    assert err[2].startswith(f"jaxthermo run: error: {binary}: not valid TOML: not UTF-8 text") and len(err) == 3
