"""Recalculating the workbook with LibreOffice (headless), and reading the Checks sheet back."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from ...errors import WorkbookError
from .facts import HEADER_ROW

__all__ = ["check_results", "recalculate"]

# LibreOffice: recalculate every formula of an xlsx or ods on load (not only those without a cached value)
_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _find_soffice(soffice: str | Path | None) -> str:
    exe = soffice or os.environ.get("REVBOOK_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise WorkbookError(
            "LibreOffice (soffice) is not installed, so the workbook's formulas cannot be recalculated here",
            hint="install it (Debian: apt-get install -y --no-install-recommends libreoffice-calc-nogui), set "
            "REVBOOK_SOFFICE to its path, or open the workbook in Excel, which computes it on opening",
        )
    return str(exe)


def recalculate(
    path: str | Path,
    *,
    out_dir: str | Path | None = None,
    timeout: float = 600.0,
    soffice: str | Path | None = None,
) -> Path:
    """Recalculate every formula with LibreOffice (headless) and save as xlsx, with the computed values.

    Writes ``out_dir/<name>.xlsx`` (default: replaces ``path``) and returns its path. Each run uses a
    profile directory of its own, so runs in parallel never share LibreOffice's lock.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"no workbook at {path}")
    exe = _find_soffice(soffice)
    dest_dir = Path(out_dir) if out_dir is not None else path.parent
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{path.stem}.xlsx"
    with tempfile.TemporaryDirectory(prefix="revbook-soffice-") as tmp:
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
        out = Path(tmp) / "out"
        out.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(path.resolve()),
        ]
        try:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
        except OSError as exc:
            raise WorkbookError(f"cannot run LibreOffice ({exe}): {exc}", hint="check the soffice install") from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise WorkbookError(
                f"LibreOffice did not finish recalculating {path} within {timeout:g} s",
                hint="ask for fewer months, or raise the timeout",
            ) from None
        produced = out / f"{path.stem}.xlsx"
        if proc.returncode != 0 or not produced.is_file():
            detail = (stderr or stdout or "").strip().splitlines()
            raise WorkbookError(
                f"LibreOffice could not recalculate {path} (exit status {proc.returncode})"
                + (f": {detail[-1]}" if detail else ""),
                hint="try the soffice command by hand to see why",
            )
        _restore_frozen_panes(path, produced)
        tmp_dest = dest.with_name(f".{dest.name}.tmp")
        shutil.move(str(produced), tmp_dest)
        os.replace(tmp_dest, dest)
    return dest


_SHEET_VIEWS = re.compile(rb"<sheetViews>.*?</sheetViews>|<sheetViews/>", re.DOTALL)


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name -> its part in the xlsx package."""
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    pkg = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter(f"{pkg}Relationship")
    }
    parts = {}
    for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{main}sheet"):
        target = targets.get(sheet.get(f"{rel}id"), "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _restore_frozen_panes(source: Path, target: Path) -> None:
    """LibreOffice's headless conversion drops frozen panes: put back the source's sheet views where
    they had one (a header row that stays on screen matters when auditing 30,000 rows)."""
    try:
        with zipfile.ZipFile(source) as z:
            views = {}
            for name, part in _sheet_parts(z).items():
                m = _SHEET_VIEWS.search(z.read(part))
                if m and b"<pane " in m.group(0):
                    views[name] = m.group(0)
        if not views:
            return
        with zipfile.ZipFile(target) as z:
            parts = {part: name for name, part in _sheet_parts(z).items()}
            entries = [(info, z.read(info.filename)) for info in z.infolist()]
    except (KeyError, OSError, zipfile.BadZipFile, SyntaxError):
        return  # not the package shape expected: leave LibreOffice's file as it is
    patched = target.with_name(f"{target.name}.views")
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            view = views.get(parts.get(info.filename, ""))
            if view is not None and (m := _SHEET_VIEWS.search(data)):
                data = data[: m.start()] + view + data[m.end() :]
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    os.replace(patched, target)


def check_results(path: str | Path) -> list[tuple[str, str]]:
    """The Checks sheet of a recalculated workbook: ``("all checks", PASS/FAIL)`` first, then one
    ``(family period figure, PASS/FAIL)`` per check."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"no workbook at {path}")
    wb = load_workbook(path, data_only=True, read_only=True)
    try:
        if "Checks" not in wb.sheetnames:
            raise WorkbookError(f"{path} has no Checks sheet", hint="write it with revbook's write_workbook")
        rows = list(wb["Checks"].iter_rows(min_row=HEADER_ROW, max_col=8, values_only=True))
    finally:
        wb.close()
    overall = rows[0][1] if rows else None
    if overall is None:
        raise WorkbookError(
            f"{path} has no computed values", hint="recalculate it first (recalculate(), or open and save it in Excel)"
        )
    out: list[tuple[str, str]] = [("all checks", str(overall))]
    header = next((i for i, r in enumerate(rows) if r[0] == "family"), None)
    if header is None:
        raise WorkbookError(f"{path}: the Checks sheet has no header row")
    for r in rows[header + 1 :]:
        if r[0] is None:
            continue
        out.append((f"{r[0]} {r[1]} {r[2]}", str(r[7])))
    return out
