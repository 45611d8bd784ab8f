"""The worked examples of docs/*.md run as written: every ```python block of a page, in order, in one
namespace per page (a later block may use an earlier one's names). Each example checks a formula of
its page against an independent route written out in NumPy, with its own assertions; this test makes
those assertions part of the suite, so a page whose example no longer holds fails here."""

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _python_blocks(page: pathlib.Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


PAGES_WITH_EXAMPLES = [p for p in sorted(DOCS.glob("*.md")) if _python_blocks(p)]


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=lambda p: p.stem)
def test_docs_page_examples_run_and_hold(page, capsys):
    namespace: dict = {}
    for i, block in enumerate(_python_blocks(page)):
        exec(compile(block, f"docs/{page.name} python block {i}", "exec"), namespace)
    assert capsys.readouterr().out.strip(), f"docs/{page.name}: its examples print nothing to compare with the text"


def test_physics_pages_have_worked_examples():
    """Every page that defines formulas the code implements shows one of them computed."""
    physics = {"conventions", "information", "inhomogeneous", "coherent", "assignment", "ensemble"}
    assert physics <= {p.stem for p in PAGES_WITH_EXAMPLES}
