"""Importing one clerk's file into the store: one reader, two doors (``attendd import KIND FILE``
and the console's upload), the same checks, the same messages, the same record of who did it.

:func:`import_table` checks the file's columns and every row (a roster's windows against the
config, a leave's staff number against the roster, an exemption's slot against the timetables),
stores the good rows in one transaction — all or nothing unless ``skip_bad`` — and writes a
``change_log`` entry (``records_import``: kind, counts, the file's name) naming the person.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import UserError
from .parsers import check_columns, parse_rows
from .reader import Table


class ImportReport:
    """What one import did: rows read, stored (new / updated / unchanged), and every rejected row's line."""

    def __init__(self, kind: str, source: str) -> None:
        self.kind, self.source = kind, source
        self.read = self.new = self.updated = self.unchanged = 0
        self.problems: list[str] = []
        self.note: str | None = None

    @property
    def summary(self) -> str:
        return (
            f"{self.source}: {self.kind}: read {self.read}, stored {self.new + self.updated}, "
            f"rejected {len(self.problems)}; new {self.new}, updated {self.updated}, unchanged {self.unchanged}"
        )


def slot_names(config) -> set[str]:
    """Every slot name of the configured timetables; SPEC §4.5's standard ones when there are none."""
    from ..config import STANDARD_TIMETABLE

    if not config.timetables:
        return {s["name"] for s in STANDARD_TIMETABLE["slots"]}
    names: set[str] = set()
    for table in config.timetables.values():
        names.update(s.name for s in table.slots)
        for variant in table.variants:
            names.update(s.name for s in variant.slots)
    return names


def import_table(
    store,
    config,
    kind: str,
    table: Table,
    *,
    skip_bad: bool = False,
    by: str,
    via: str,
    now_utc: datetime,
    config_label: str = "the config",
    action: str = "records_import",
) -> ImportReport:
    """Check and store ``table`` as ``kind`` records; UserError (nothing stored) when rows are bad
    and not ``skip_bad`` — the report's problems then name every bad row."""
    from ..store import put_records
    from ..store.changes import Actor
    from ..store.clerk_records import record_keys

    report = ImportReport(kind, table.path)
    windows = None
    if kind == "roster":
        windows = {w.code: w.name for w in config.windows} or None
        if windows is None:  # a terminals-only config (devices users): nothing to check against
            report.note = f"{table.path}: note: {config_label} has no [[windows]]; window codes are not checked"
    staff = record_keys(store, "roster") if kind == "leaves" else None
    slots = slot_names(config) if kind == "exemptions" else None
    check_columns(kind, table)
    parsed = parse_rows(kind, table.rows, table.path, slots=slots, labels=table.headers, windows=windows, staff=staff)
    report.read, report.problems = parsed.read, list(parsed.problems)
    if report.problems and not skip_bad:
        raise ImportRefused(report)
    if parsed.rows:
        written = put_records(store, kind, parsed.rows, now_utc=now_utc)
        report.new, report.updated, report.unchanged = written.new, written.updated, written.unchanged
    if report.new or report.updated:
        with store.transaction() as conn:
            Actor(by, via, now_utc).log(
                conn,
                action,
                kind,
                table.path[-64:],
                reason=f"import {table.path}",
                after={"new": report.new, "updated": report.updated, "unchanged": report.unchanged},
            )
    return report


class ImportRefused(UserError):
    """Bad rows and no ``skip_bad``: nothing stored; ``report.problems`` names each row."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.source}: read {report.read}, stored 0, rejected {len(report.problems)}: nothing stored "
            "(fix the rows above, or pass --skip-bad to store the good ones)"
        )
        self.report = report


#: The source name of a record entered in the console's form (messages read ``新增记录:2: …``).
FORM = "新增记录"


def form_columns(kind: str) -> list[str]:
    """The columns a one-record form of ``kind`` has: the file's required and optional ones."""
    from .parsers import OPTIONAL, REQUIRED

    return [*REQUIRED[kind], *OPTIONAL[kind]]


def form_table(kind: str, values: dict[str, str]) -> Table:
    """One record typed into the console's form, as the table a file with that one row would be."""
    from .parsers import _main_header
    from .reader import table_of

    columns = [c for c in form_columns(kind) if values.get(c, "") != "" or c in _required(kind)]
    return table_of(FORM, [_main_header(c) for c in columns], [(2, [values.get(c, "") for c in columns])])


def _required(kind: str) -> tuple[str, ...]:
    from .parsers import REQUIRED

    return REQUIRED[kind]
