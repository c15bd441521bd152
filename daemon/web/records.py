"""``/records/{kind}``: the clerk's records in the browser — the roster, leave, exemptions (补卡,
with each policy's monthly quota), inspections, substitutions, duty days (值班) and rotas (轮值) —
listed, added, edited, withdrawn (撤销), and uploaded as CSV/XLSX through exactly the command
line's reader and checks (:func:`daemon.imports.import_table`): the same messages, all or nothing
unless "store the good rows" is ticked, on the record.

An edit names the version of the record the clerk opened; a save after someone else changed it
is refused (409) with what to do, and nothing is lost: the other clerk's change stands.
"""

from __future__ import annotations

from collections import Counter

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from ..clock import site_time
from ..errors import UserError
from ..imports import ImportRefused, import_table, read_table_bytes
from ..imports.parsers import _main_header
from ..imports.service import form_columns, form_table
from ..store import StaleEdit, list_records
from ..store.clerk_records import WITHDRAWABLE, record, withdraw_record
from .app import console_of, fields, needs, page
from .auth import Visitor

#: What the page calls each kind, and its columns (key, heading) — the clerk's own headers.
KINDS = {
    "roster": (
        "花名册",
        [
            ("staff_no", "工号"),
            ("name", "姓名"),
            ("window_code", "窗口"),
            ("role", "角色"),
            ("active_from", "入职日期"),
            ("active_to", "离职日期"),
            ("exempt", "免考勤"),
        ],
    ),
    "leaves": (
        "请假",
        [
            ("ref", "单号"),
            ("staff_no", "工号"),
            ("kind", "请假类型"),
            ("start", "开始时间"),
            ("end", "结束时间"),
            ("note", "备注"),
        ],
    ),
    "exemptions": (
        "补卡/情况说明",
        [("ref", "编号"), ("staff_no", "工号"), ("day", "日期"), ("slot", "时段"), ("reason", "原因")],
    ),
    "inspections": (
        "巡查记录",
        [
            ("ref", "编号"),
            ("staff_no", "工号"),
            ("at", "时间"),
            ("kind", "类型"),
            ("minutes", "分钟"),
            ("note", "备注"),
        ],
    ),
    "substitutions": (
        "顶岗",
        [
            ("ref", "编号"),
            ("substitute_no", "顶岗人"),
            ("covered_no", "被顶岗人"),
            ("start_date", "开始日期"),
            ("end_date", "结束日期"),
        ],
    ),
    "duty": (
        "值班安排",
        [
            ("ref", "编号"),
            ("day", "日期"),
            ("window_code", "窗口"),
            ("staff_no", "工号"),
            ("timetable", "作息"),
            ("note", "备注"),
        ],
    ),
    "rotas": (
        "轮值",
        [
            ("ref", "编号"),
            ("window_code", "窗口"),
            ("staff", "轮值人员"),
            ("timetable", "作息"),
            ("weekdays", "星期"),
            ("day_kinds", "适用日"),
            ("start", "开始日期"),
            ("end", "结束日期"),
            ("note", "备注"),
        ],
    ),
    "assessments": (
        "考核记录",
        [
            ("ref", "编号"),
            ("day", "日期"),
            ("window_code", "窗口"),
            ("staff_no", "工号"),
            ("category", "考核类别"),
            ("item", "考核项目"),
            ("kind", "类型"),
            ("points", "分值"),
            ("evidence", "依据"),
            ("recorded_by", "记录人"),
        ],
    ),
    "category-scores": (
        "类别得分",
        [
            ("ref", "编号"),
            ("period_key", "考核期"),
            ("window_code", "窗口"),
            ("staff_no", "工号"),
            ("category", "考核类别"),
            ("score", "得分"),
            ("note", "备注"),
        ],
    ),
}
#: A stored column → the file's (and the form's) column of the same value.
FORM_COLUMN = {"day": "date", "start": "start", "end": "end"}

MAX_UPLOAD = 20 * 1024 * 1024  # a 200,000-row roster as XLSX is about 6 MB
#: Every column a one-record form of any kind has, each bounded (the parsers check the rest).
RECORD = fields(**{c: 200 for kind in KINDS for c in form_columns(kind)}, key=64, version=12)
WITHDRAWING = fields(key=64, version=12, reason=500)
KEY = fields(key=64)


def _key_column(kind: str) -> str:
    return "staff_no" if kind == "roster" else "ref"


def form_values(kind: str, row: dict) -> dict[str, str]:
    """A stored record as the edit form's text (the same text a file would have)."""
    out: dict[str, str] = {}
    for col in form_columns(kind):
        stored = {"date": "day"}.get(col, col)
        if kind == "rotas" and col in ("start_date", "end_date"):
            stored = col.removesuffix("_date")
        value = row.get(stored)
        if value is None:
            out[col] = ""
        elif isinstance(value, bool):
            out[col] = "是" if value else "否"
        elif hasattr(value, "hour"):
            out[col] = value.strftime("%Y-%m-%d %H:%M")
        else:
            out[col] = str(value)
    return out


def _quotas(console) -> list[dict]:
    """Each policy's monthly 补卡 quota and who used how much of it this month."""
    from ..period_results import compile_rules

    _, policies, names, _ = compile_rules(console.config)
    month = site_time(console.clock(), console.tz).strftime("%Y-%m")
    used = Counter(
        r["staff_no"] for r in list_records(console.store, "exemptions", active_only=True) if str(r["day"])[:7] == month
    )
    staff_window = {r["staff_no"]: r["window_code"] for r in list_records(console.store, "roster")}
    rows = []
    for no, n in sorted(used.items()):
        window = staff_window.get(no)
        quota = policies[window].day.exemption_quota_per_month if window in policies else None
        rows.append({"staff_no": no, "window": names.get(window, window), "used": n, "quota": quota})
    return rows


def _save_form(c, v: Visitor, kind: str, values: dict[str, str], action: str, version: int | None = None):
    """One record from a form, imported as a one-row file (the file's checks, messages and log)."""
    return import_table(
        c.store,
        c.config,
        kind,
        form_table(kind, values),
        by=v.user.name,
        via="web",
        now_utc=c.clock(),
        action=action,
        version=version,
    )


def register(app: FastAPI) -> None:
    viewer, clerk = needs("viewer"), needs("clerk")

    def show(request: Request, v: Visitor, kind: str, status_code: int = 200, **context) -> HTMLResponse:
        if kind not in KINDS:
            return page(request, "error.j2", v, 404, message=f"没有 {kind[:20]!r} 这类记录。")
        c = console_of(request)
        context.setdefault("entered", {})  # what a refused form had, to correct
        title, columns = KINDS[kind]
        rows = list_records(c.store, kind)
        return page(
            request,
            "records.j2",
            v,
            status_code,
            kind=kind,
            kinds=KINDS,
            title=title,
            columns=columns,
            rows=rows[-500:][::-1],
            total=len(rows),
            quotas=_quotas(c) if kind == "exemptions" else None,
            can_act=v.user.role in ("clerk", "admin"),
            form_fields=[(col, _main_header(col)) for col in form_columns(kind)],
            key_column=_key_column(kind),
            withdrawable=kind in WITHDRAWABLE,
            **context,
        )

    def edit_page(request: Request, v: Visitor, kind: str, key: str, status_code: int = 200, **context):
        c = console_of(request)
        row = record(c.store, kind, key) if kind in KINDS and key else None
        if row is None:
            return page(
                request, "error.j2", v, 404, message=f"没有编号为 {key[:64]!r} 的{KINDS.get(kind, ('记录',))[0]}。"
            )
        return page(
            request,
            "record_edit.j2",
            v,
            status_code,
            kind=kind,
            title=KINDS[kind][0],
            key=key,
            row=row,
            entered=context.pop("entered", None) or form_values(kind, row),
            form_fields=[(col, _main_header(col)) for col in form_columns(kind)],
            key_column=_key_column(kind),
            **context,
        )

    @app.get("/records/{kind}", response_class=HTMLResponse, include_in_schema=False)
    def records(request: Request, kind: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        return show(request, v, kind)

    @app.get("/records/{kind}/edit", response_class=HTMLResponse, include_in_schema=False)
    def edit_form(request: Request, kind: str, v: Visitor = Depends(clerk), f=Depends(KEY)) -> HTMLResponse:
        return edit_page(request, v, kind, f["key"])

    @app.post("/records/{kind}/edit", response_class=HTMLResponse, include_in_schema=False)
    def edit(request: Request, kind: str, v: Visitor = Depends(clerk), f=Depends(RECORD)) -> HTMLResponse:
        """Save the edit form: the record's key cannot change, the version must be the one shown."""
        key, c = f["key"], console_of(request)
        row = record(c.store, kind, key) if kind in KINDS and key else None
        if row is None:
            return edit_page(request, v, kind, key)
        values = {col: f[col] for col in form_columns(kind)}
        values["ref" if kind != "roster" else "staff_no"] = key
        if not f["version"].isdigit():
            return edit_page(request, v, kind, key, 400, error="表单缺少版本号，请刷新页面后重试。", entered=values)
        if row.get("withdrawn_utc") is not None:
            return edit_page(request, v, kind, key, 400, error=f"{key} 已由 {row['withdrawn_by']} 撤销，不能再修改。")
        try:
            report = _save_form(c, v, kind, values, "record_edit", int(f["version"]))
        except StaleEdit as exc:
            message = f"{exc}（本次修改未保存：他人的修改已保留，请刷新后在最新内容上修改）"
            return edit_page(request, v, kind, key, 409, error=message, entered=values)
        except ImportRefused as refused:
            error, problems = str(refused), refused.report.problems
            return edit_page(request, v, kind, key, 400, error=error, problems=problems, entered=values)
        except UserError as exc:
            return edit_page(request, v, kind, key, 400, error=str(exc), entered=values)
        c.cache.clear()
        return show(request, v, kind, report=report)

    @app.post("/records/{kind}/withdraw", response_class=HTMLResponse, include_in_schema=False)
    def withdraw(request: Request, kind: str, v: Visitor = Depends(clerk), f=Depends(WITHDRAWING)) -> HTMLResponse:
        """撤销: the record stays, marked with who, when and why, and stops counting."""
        if kind not in KINDS:
            return show(request, v, kind)
        c = console_of(request)
        if not f["version"].isdigit():
            return show(request, v, kind, 400, error="表单缺少版本号，请刷新页面后重试。", problems=[])
        try:
            withdraw_record(
                c.store,
                kind,
                f["key"],
                reason=f["reason"],
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
                version=int(f["version"]),
            )
        except StaleEdit as exc:
            return show(request, v, kind, 409, error=f"{exc}（本次撤销未保存）", problems=[])
        except UserError as exc:
            return show(request, v, kind, 400, error=f"撤销未保存：{exc}", problems=[])
        c.cache.clear()
        return show(request, v, kind, withdrawn=f["key"])

    @app.post("/records/{kind}/upload", response_class=HTMLResponse, include_in_schema=False)
    async def upload(
        request: Request,
        kind: str,
        v: Visitor = Depends(clerk),
        file: UploadFile = File(...),
        skip_bad: str = Form(""),
    ) -> HTMLResponse:
        if kind not in KINDS:
            return show(request, v, kind)
        c = console_of(request)
        data = await file.read(MAX_UPLOAD + 1)
        name = (file.filename or "upload")[-120:]
        try:
            if len(data) > MAX_UPLOAD:
                raise UserError(
                    f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MB; split it or import it with attendd import"
                )
            report = import_table(
                c.store,
                c.config,
                kind,
                read_table_bytes(data, name),
                skip_bad=bool(skip_bad),
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
            )
        except ImportRefused as refused:
            return show(request, v, kind, 400, error=str(refused), problems=refused.report.problems)
        except UserError as exc:
            return show(request, v, kind, 400, error=str(exc), problems=[])
        c.cache.clear()
        return show(request, v, kind, report=report)

    @app.post("/records/{kind}/add", response_class=HTMLResponse, include_in_schema=False)
    def add(request: Request, kind: str, v: Visitor = Depends(clerk), f=Depends(RECORD)) -> HTMLResponse:
        """One record typed in the form: the same checks as a file of one row (an existing key —
        a 单号 / 编号, a roster's 工号 — replaces that record: the edit)."""
        if kind not in KINDS:
            return show(request, v, kind)
        c = console_of(request)
        values = {col: f[col] for col in form_columns(kind)}
        try:
            report = _save_form(
                c, v, kind, values, "record_edit" if values.get("ref") or kind == "roster" else "record_add"
            )
        except ImportRefused as refused:
            return show(request, v, kind, 400, error=str(refused), problems=refused.report.problems, entered=values)
        except UserError as exc:
            return show(request, v, kind, 400, error=str(exc), problems=[], entered=values)
        c.cache.clear()
        return show(request, v, kind, report=report)
