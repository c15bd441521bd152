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


def slot_names(config) -> dict[str, str]:
    """Every word an exemption's 时段 may be for a slot of the configured timetables (SPEC §4.5's
    standard one when there are none): its name and its label (上午签到 …, as the bulletin and the
    console print it) → the slot's name."""
    import rules

    from ..config import STANDARD_TIMETABLE
    from ..period_results import _timetable_table

    tables = (
        [rules.build_timetable(n, _timetable_table(t)) for n, t in config.timetables.items()]
        if config.timetables
        else [rules.build_timetable("standard", STANDARD_TIMETABLE)]
    )
    words: dict[str, str] = {}
    for table in tables:
        for slots in (table.slots, *(v.slots for v in table.variants)):
            for slot in slots:
                words.setdefault(slot.name, slot.name)
                if slot.label:
                    words.setdefault(slot.label, slot.name)
    return words


def assessment_check(store, config, kind: str):
    """The whole assessment's check of a parsed ``assessments`` or ``category-scores`` row (its
    problems, each ``field: message``), by the scheme of the row's window's policy (a person's
    window from the roster); None when no window's policy has an assessment (nothing to check)."""
    from rules.assessment import check_record

    from ..assessment import as_record, schemes, subject_of
    from ..store import list_records

    by_policy = {name: a for name, a in schemes(config).items() if a is not None} if config.windows else {}
    if not by_policy:
        return None
    policy_of = {w.code: w.policy for w in config.windows}
    window_of = {r["staff_no"]: r["window_code"] for r in list_records(store, "roster")}

    def check(row: dict) -> list[str]:
        who, subject = subject_of(row)
        window = subject if who == "window" else window_of.get(subject, "")
        a = by_policy.get(policy_of.get(window, ""))
        scheme = a.scheme(who) if a is not None else None
        if scheme is None:
            whom = "windows" if who == "window" else "staff"
            return [f"the policy of window {window!r} has no assessment of {whom}"]
        if kind == "assessments":
            return check_record(scheme, as_record({"ref": "", **row}))
        cat = scheme.category(row["category"])
        if cat is None:
            return [
                f"category: {row['category']!r} is no category of this scheme; known: "
                + "、".join(c.name for c in scheme.categories)
            ]
        if row["score"] > cat.max and cat.overflow == "cap":
            return [f"score: {row['score']:g} is more than {cat.name}'s {cat.max:g} points"]
        return []

    return check


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
    version: int | None = None,
) -> ImportReport:
    """Check and store ``table`` as ``kind`` records; UserError (nothing stored) when rows are bad
    and not ``skip_bad`` — the report's problems then name every bad row. ``version``: a one-record
    edit names the version of the record it edits (refused as :class:`StaleEdit` if it moved)."""
    from ..store import put_records
    from ..store.changes import Actor
    from ..store.clerk_records import record_keys, withdrawn_keys

    report = ImportReport(kind, table.path)
    windows = None
    if kind in ("roster", "duty", "rotas", "assessments", "category-scores"):
        windows = {w.code: w.name for w in config.windows} or None
        if windows is None and kind == "roster":  # a terminals-only config (devices users): nothing to check
            report.note = f"{table.path}: note: {config_label} has no [[windows]]; window codes are not checked"
    staff = (
        record_keys(store, "roster") if kind in ("leaves", "duty", "rotas", "assessments", "category-scores") else None
    )
    slots = slot_names(config) if kind == "exemptions" else None
    timetables = (set(config.timetables) or {"standard"}) if kind in ("duty", "rotas") else None
    check_columns(kind, table)
    parsed = parse_rows(
        kind,
        table.rows,
        table.path,
        slots=slots,
        labels=table.headers,
        windows=windows,
        staff=staff,
        timetables=timetables,
        withdrawn=withdrawn_keys(store, kind),
        check=assessment_check(store, config, kind) if kind in ("assessments", "category-scores") else None,
    )
    report.read, report.problems = parsed.read, list(parsed.problems)
    if report.problems and not skip_bad:
        raise ImportRefused(report)
    if parsed.rows:
        key = "staff_no" if kind == "roster" else "ref"
        versions = {parsed.rows[0][key]: version} if version is not None and len(parsed.rows) == 1 else None
        written = put_records(store, kind, parsed.rows, now_utc=now_utc, versions=versions)
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
