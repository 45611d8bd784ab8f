"""The README's quickstart runs unchanged, and its numbers obey the first law."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_quickstart_runs_as_written(capsys):
    blocks = _python_blocks()
    assert blocks, "README has no python block"
    namespace: dict = {}
    exec(compile(blocks[0], "README quickstart", "exec"), namespace)
    traj = namespace["traj"]
    assert abs(float(traj.work.sum() + traj.heat.sum() - traj.energy_change.sum())) < 1e-14
    assert capsys.readouterr().out.strip()


def test_every_readme_python_block_runs():
    for i, block in enumerate(_python_blocks()):
        exec(compile(block, f"README block {i}", "exec"), {})
