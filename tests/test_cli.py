"""The ``jaxthermo`` command (jaxthermo.apps.cli): arguments, the deprecated jaxthermo.cli, and a
clear message when the optional matplotlib (``jaxthermo[plot]``) is missing."""

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
