"""The documentation and the package agree: every public name is in docs/api.md and every name
there exists, every `docs/<page>.md §N` cited anywhere in the repository is a section of that page,
every link and repository path named in README.md and docs/ exists, and the README's dependency
table names what pyproject.toml requires. Cheap: no computation, imports only."""

import importlib
import pathlib
import re
import tomllib
import types

import jaxthermo

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]
SUBPACKAGES = ("inhomogeneous", "coherent", "assignment", "ensemble")

# Citations in code that point at a section that does not exist; reported to the owners of those
# files (the Daleckii–Krein formula is docs/information.md §6). Remove an entry once it is fixed.
KNOWN_BROKEN_CITATIONS: set[tuple[str, str, str]] = set()


def _public(module) -> set[str]:
    return {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}


def _api_sections() -> dict[str, set[str]]:
    """Names listed in each `## \\`module\\`` section of docs/api.md."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in (DOCS / "api.md").read_text().splitlines():
        heading = re.match(r"## `(jaxthermo(?:\.\w+)?)`", line)
        if heading:
            current = sections.setdefault(heading.group(1), set())
        elif current is not None and line.startswith("| `"):
            current.add(re.match(r"\| `(\w+)`", line).group(1))
    return sections


def test_api_reference_lists_every_public_name_and_nothing_else():
    sections = _api_sections()
    assert set(sections) == {"jaxthermo", *(f"jaxthermo.{s}" for s in SUBPACKAGES)}
    in_subpackages = set()
    for sub in SUBPACKAGES:
        names = _public(importlib.import_module(f"jaxthermo.{sub}"))
        in_subpackages |= names
        listed = sections[f"jaxthermo.{sub}"]
        assert names - listed == set(), f"jaxthermo.{sub}: public names missing from docs/api.md"
        assert listed - names == set(), f"jaxthermo.{sub}: docs/api.md lists names that do not exist"
    top_only = _public(jaxthermo) - in_subpackages
    assert top_only - sections["jaxthermo"] == set(), "top-level names missing from docs/api.md"
    assert sections["jaxthermo"] - top_only == set(), "docs/api.md lists top-level names that do not exist"


def _section_numbers() -> dict[str, set[str]]:
    return {p.name: set(re.findall(r"^## §(\d+)", p.read_text(), flags=re.M)) for p in DOCS.glob("*.md")}


def test_every_cited_section_exists():
    sections = _section_numbers()
    cite = re.compile(r"(\w+)\.md\)?((?:\s*§\d+(?:\s*[–-]\s*§?\d+)?(?:\s*,\s*§\d+(?:\s*[–-]\s*§?\d+)?)*))")
    files = [*PAGES, *(ROOT / "benchmarks").glob("*.md")]
    for folder in ("jaxthermo", "tests", "scripts", "benchmarks"):
        files += (ROOT / folder).rglob("*.py")
    broken = set()
    for path in files:
        for m in cite.finditer(path.read_text()):
            page = m.group(1) + ".md"
            if page not in sections:
                continue
            for number in re.findall(r"\d+", m.group(2)):
                if number not in sections[page]:
                    broken.add((str(path.relative_to(ROOT)), page, number))
    assert broken - KNOWN_BROKEN_CITATIONS == set()


def test_links_and_repository_paths_exist():
    missing = []
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if not target.startswith("http") and not (page.parent / target).exists():
                missing.append((page.name, target))
        for path in re.findall(r"`((?:docs|tests|scripts|benchmarks|examples|jaxthermo)/[\w/.-]*\w)`", text):
            if not (ROOT / path).exists():
                missing.append((page.name, path))
    assert missing == []


def _requirement_name(spec: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower()


def test_readme_dependency_table_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Dependencies and why", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    first_cells = " ".join(row.split("|")[1] for row in rows).lower()
    for spec in project["dependencies"]:
        assert _requirement_name(spec) in first_cells, f"{spec} missing from the README's dependency table"
    for extra, specs in project["optional-dependencies"].items():
        row = next((r.lower() for r in rows if f"{extra} extra" in r.split("|")[1]), None)
        assert row is not None, f"extra {extra!r} missing from the README's dependency table"
        for spec in specs:
            assert _requirement_name(spec).split("[")[0] in row, f"{spec} of extra {extra!r} missing"
    # the install section's one-line summary of the extras
    summary = readme.split("Extras:", 1)[1].split("\n\n", 1)[0]
    for extra, specs in project["optional-dependencies"].items():
        part = summary.split(f"`{extra}` =", 1)[1].split(";", 1)[0]
        for spec in specs:
            assert _requirement_name(spec).split("[")[0] in part.lower(), f"{spec} missing from `{extra}` ="


def test_docs_index_lists_every_page():
    index = (DOCS / "README.md").read_text()
    unlisted = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"]({p.name})" not in index]
    assert unlisted == []
