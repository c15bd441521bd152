"""The README's table of the clerk's files is the importer's own: every accepted header of every
kind, as :data:`daemon.imports.reader.HEADER_ALIASES` has it (docs tested, as Datasette does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.imports.parsers import KINDS, OPTIONAL, REFERENCE, REQUIRED
from daemon.imports.reader import aliases_of

README = Path(__file__).resolve().parents[2] / "README.md"


def _cell(columns) -> str:
    return "; ".join(" / ".join(aliases_of(c)) for c in columns) or "—"


@pytest.mark.parametrize("kind", KINDS)
def test_the_readme_lists_every_accepted_header(kind):
    row = f"| `{kind}` | {_cell(REQUIRED[kind])} | {_cell(OPTIONAL[kind])} | {_cell(REFERENCE[kind])} |"
    lines = README.read_text(encoding="utf-8").splitlines()
    documented = [line for line in lines if line.startswith(f"| `{kind}` |")]
    assert documented == [row], 'README.md, "The clerk\'s files": regenerate the row of ' + kind
