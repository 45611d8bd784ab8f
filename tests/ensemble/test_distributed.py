"""The documented two-process ``jax.distributed`` example runs and matches one process."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_process_example_matches_one_process():
    script = ROOT / "scripts" / "ensemble" / "distributed_two_processes.py"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # each worker sets its own devices
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "global devices 4" in proc.stdout
    assert "W_N histograms identical: True" in proc.stdout
    assert "unequal: []" in proc.stdout  # every statistic of the two result files, not only <W_r>
