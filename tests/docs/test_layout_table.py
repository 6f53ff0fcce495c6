"""README's layout table names every part of the tree, and nothing that is not there.

A new package, top-level module or config file under harness/ or conf/ fails this test until
the table says what it is; a renamed or removed one fails it until the table stops naming it.
"""

from __future__ import annotations

import re

from harness.core.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
ROWS = [ln for ln in SECTION.splitlines() if ln.startswith("| `")]
FIRST_CELLS = " ".join(ln.split("|")[1] for ln in ROWS)
CONF_ROW = next(ln for ln in ROWS if ln.startswith("| `conf/`"))


def _tree() -> set[str]:
    harness = ROOT / "harness"
    parts = {f"harness/{p.name}/" for p in harness.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {f"harness/{p.name}" for p in harness.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    return parts


def test_every_package_and_top_level_module_has_a_row_and_every_row_exists() -> None:
    named = set(re.findall(r"`(harness/[^`]+)`", FIRST_CELLS))
    assert named == _tree(), {"missing from the table": _tree() - named, "not in the tree": named - _tree()}


def test_the_conf_row_names_every_config_group_and_file() -> None:
    conf = ROOT / "conf"
    expected = {f"{p.name}/" for p in conf.iterdir() if p.is_dir()} | {p.name for p in conf.glob("*.yaml")}
    named = set(re.findall(r"`([^`]+)`", CONF_ROW.split("|")[2]))
    assert named == expected, {"missing": expected - named, "not in conf/": named - expected}
