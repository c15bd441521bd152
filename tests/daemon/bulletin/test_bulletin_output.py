"""Issue 13, point 16: where ``attendd bulletin -o`` writes, and what it refuses.

A folder (``-o DIR/``, or an existing ``DIR``) receives the default file name; a file name must end
in the format's extension; a missing folder is an error, never created; ``--format all`` needs an
existing folder. A refusal is one line, exit code 2, and leaves no file anywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import assert_clean_failure, attendd, fill, run_cli, write_centre

HTML = "考勤通报-2026-03.html"
XLSX = "考勤通报-2026-03.xlsx"


@pytest.fixture
def centre(tmp_path, store, monkeypatch):
    """The standard centre's March in ``tmp_path``; the commands run in ``tmp_path / "work"``."""
    cfg = write_centre(tmp_path)
    fill(store)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return cfg, work


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def refused(cfg: Path, *args: str, says: str) -> None:
    """``attendd bulletin --period 2026-03 ARGS`` exits 2 with the one line ``says``."""
    proc = run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", *args)
    assert_clean_failure(proc, 2)
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr == f"attendd: {says}\n"
    assert proc.stdout == ""


def test_a_folder_receives_the_default_file_name(centre):
    cfg, work = centre
    (work / "out").mkdir()
    proc = run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", "-o", "out/")
    assert proc.returncode == 0, proc.stderr
    assert f"2026-03: wrote out/{HTML}\n" in proc.stdout
    # an existing folder without the slash means the same (as cp and mv read it)
    proc = run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", "--format", "xlsx", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert f"2026-03: wrote out/{XLSX}\n" in proc.stdout
    # a file name in the format's extension, in any case, is written as named
    proc = run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", "-o", "out/给领导.HTML")
    assert proc.returncode == 0, proc.stderr
    assert files_under(work) == sorted(["out", f"out/{HTML}", f"out/{XLSX}", "out/给领导.HTML"])
    assert "<html" in (work / "out" / "给领导.HTML").read_text(encoding="utf-8")


def test_a_name_in_another_format_or_without_extension_is_refused_and_writes_nothing(centre):
    cfg, work = centre
    refused(
        cfg,
        "--format",
        "csv",
        "-o",
        "x.html",
        says="-o x.html: --format csv writes a .csv file and this name ends in .html (or give a folder/)",
    )
    refused(
        cfg,
        "-o",
        "通报",
        says="-o 通报: --format html writes a .html file and this name has no extension (or give a folder/)",
    )
    assert files_under(work) == []


def test_a_missing_folder_is_an_error_not_created(centre):
    cfg, work = centre
    refused(cfg, "-o", "nope/b.html", says="-o nope/b.html: no such folder nope (create it first)")
    refused(cfg, "-o", "nope/", says="-o nope/: no such folder nope (create it first)")
    refused(cfg, "--format", "all", "-o", "nope", says="-o nope: no such folder nope (create it first)")
    (work / "a.txt").write_text("keep me", encoding="utf-8")
    refused(cfg, "-o", "a.txt/b.html", says="-o a.txt/b.html: a.txt is a file, not a folder")
    refused(
        cfg,
        "--format",
        "all",
        "-o",
        "a.txt",
        says="-o a.txt: is a file; --format all writes one file per format into a folder",
    )
    assert files_under(work) == ["a.txt"]
    assert (work / "a.txt").read_text(encoding="utf-8") == "keep me"


def test_every_format_into_a_folder(centre):
    cfg, work = centre
    (work / "all").mkdir()
    proc = run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", "--format", "all", "-o", "all")
    if proc.returncode == 1 and "font" in proc.stderr:  # no CJK font here: the PDF alone is missing
        pytest.skip(f"no CJK TrueType font for the PDF: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    stem = "考勤通报-2026-03"
    assert files_under(work / "all") == sorted(
        [f"{stem}.{f}" for f in ("html", "xlsx", "pdf", "csv", "docx")]
        + [f"{stem}-{part}.csv" for part in ("windows", "deductions", "devices")]
    )


def test_a_refusal_in_a_real_process_leaves_nothing(centre):
    """The same in a real ``attendd`` process: one line on stderr, exit 2, not even a scratch folder."""
    cfg, work = centre
    (work / "out").mkdir()
    bad = attendd(
        "--config", str(cfg), "bulletin", "--period", "2026-03", "--format", "pdf", "-o", "out/x.csv", cwd=work
    )
    assert_clean_failure(bad, 2)
    says = "-o out/x.csv: --format pdf writes a .pdf file and this name ends in .csv (or give a folder/)"
    assert (bad.stdout, bad.stderr) == ("", f"attendd: {says}\n")
    assert files_under(work) == ["out"]
