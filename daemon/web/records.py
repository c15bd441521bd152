"""``/records/{kind}``: the clerk's records in the browser — the roster, leave, exemptions (补卡,
with each policy's monthly quota), inspections, substitutions — listed, and uploaded as CSV/XLSX
through exactly the command line's reader and checks (:func:`daemon.imports.import_table`): the
same messages, all or nothing unless "store the good rows" is ticked, on the record.
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
from ..store import list_records
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
}
MAX_UPLOAD = 20 * 1024 * 1024  # a 200,000-row roster as XLSX is about 6 MB
#: Every column a one-record form of any kind has, each bounded (the parsers check the rest).
RECORD = fields(**{c: 200 for kind in KINDS for c in form_columns(kind)})


def _quotas(console) -> list[dict]:
    """Each policy's monthly 补卡 quota and who used how much of it this month."""
    from ..period_results import compile_rules

    _, policies, names, _ = compile_rules(console.config)
    month = site_time(console.clock(), console.tz).strftime("%Y-%m")
    used = Counter(r["staff_no"] for r in list_records(console.store, "exemptions") if str(r["day"])[:7] == month)
    staff_window = {r["staff_no"]: r["window_code"] for r in list_records(console.store, "roster")}
    rows = []
    for no, n in sorted(used.items()):
        window = staff_window.get(no)
        quota = policies[window].day.exemption_quota_per_month if window in policies else None
        rows.append({"staff_no": no, "window": names.get(window, window), "used": n, "quota": quota})
    return rows


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
            **context,
        )

    @app.get("/records/{kind}", response_class=HTMLResponse, include_in_schema=False)
    def records(request: Request, kind: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        return show(request, v, kind)

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
            report = import_table(
                c.store,
                c.config,
                kind,
                form_table(kind, values),
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
                action="record_edit" if values.get("ref") or kind == "roster" else "record_add",
            )
        except ImportRefused as refused:
            return show(request, v, kind, 400, error=str(refused), problems=refused.report.problems, entered=values)
        except UserError as exc:
            return show(request, v, kind, 400, error=str(exc), problems=[], entered=values)
        c.cache.clear()
        return show(request, v, kind, report=report)
