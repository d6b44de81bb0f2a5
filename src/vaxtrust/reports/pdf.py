"""The progress report as a PDF summary for the ministry (fpdf2, the passport's fonts).

Page 1: the campaign, the figures that matter, the deadlines with days left, the trend of
authenticated records and signed people against the deadlines, and the provinces (or the units
of the widest level in scope) ranked by authenticated share. Then the table of those units.
Charts are drawn with the PDF's own lines and rectangles: no plotting library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaxtrust.passport.pdf import add_fonts
from vaxtrust.reports.progress import ProgressReport, Unit

BLUE = (31, 119, 180)
GREEN = (44, 160, 44)
RED = (214, 39, 40)
GREY = (120, 120, 120)
LEFT, WIDTH = 15.0, 180.0


def _pct(value: float) -> str:
    return f"{value:.1%}".replace(".", ",")


def _num(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _title(pdf: Any, report: ProgressReport) -> None:
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, "BÁO CÁO TIẾN ĐỘ LÀM SẠCH DỮ LIỆU TIÊM CHỦNG COVID-19", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "I", 9)
    pdf.cell(0, 5, "Progress of the COVID-19 vaccination data cleaning and vaccine passports",
             align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    source = "ảnh chụp hằng ngày" if report.source == "snapshot" else "số liệu trực tiếp"
    pdf.multi_cell(0, 5, f"{report.campaign.name}. Số liệu đến hết ngày "
                   f"{report.as_of:%d/%m/%Y} ({source}); phạm vi: {report.scope}.",
                   align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _figures(pdf: Any, total: Unit) -> None:
    boxes = [("Mũi tiêm (bản ghi)", _num(total.counts["records"])),
             ("Đã xác thực / hiệu chỉnh", _pct(total.authenticated_share)),
             ("Chờ rà soát", _num(total.counts["review"] + total.counts["unmatched"])),
             ("Người đã ký / đã xác thực", f"{_num(total.counts['people_signed'])} / "
                                           f"{_num(total.counts['people_linked'])}"),
             ("Phản ánh đang mở (quá hạn)", f"{_num(total.counts['complaints_open'])} "
                                            f"({_num(total.counts['complaints_overdue'])})")]
    width = WIDTH / len(boxes)
    top = pdf.get_y()
    for index, (label, value) in enumerate(boxes):
        x = LEFT + index * width
        pdf.set_draw_color(*GREY)
        pdf.rect(x + 1, top, width - 2, 17)
        pdf.set_xy(x + 1, top + 1.5)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(width - 2, 7, value, align="C")
        pdf.set_xy(x + 1, top + 9)
        pdf.set_font("DejaVu", "", 7)
        pdf.multi_cell(width - 2, 3.3, label, align="C")
    pdf.set_y(top + 20)


def _deadlines(pdf: Any, report: ProgressReport) -> None:
    pdf.set_font("DejaVu", "B", 9)
    widths = (92, 22, 22, 22, 22)
    for width, header in zip(widths, ("Mốc thời hạn", "Hạn chót", "Còn (ngày)", "Hiện đạt",
                                      "Kết quả"), strict=True):
        pdf.cell(width, 6, header, border="B")
    pdf.ln()
    pdf.set_font("DejaVu", "", 8)
    for d in report.deadlines:
        share = d.measure.endswith("share")
        value = "" if d.value is None else (_pct(d.value) if share else _num(int(d.value)))
        verdict = "" if d.met is None else ("Đạt" if d.met else "Chưa đạt")
        color = GREY if d.met is None else (GREEN if d.met else RED)
        pdf.cell(widths[0], 5, d.label if len(d.label) <= 56 else d.label[:55] + "…")
        pdf.cell(widths[1], 5, f"{d.due_on:%d/%m/%Y}")
        pdf.cell(widths[2], 5, str(d.days_left), align="R")
        pdf.cell(widths[3], 5, value, align="R")
        pdf.set_text_color(*color)
        pdf.cell(widths[4], 5, verdict, align="R")
        pdf.set_text_color(0, 0, 0)
        pdf.ln()
    pdf.ln(3)


def _x_of(day: dt.date, first: dt.date, last: dt.date, left: float, width: float) -> float:
    span = max(1, (last - first).days)
    return left + width * (day - first).days / span


def trend_chart(pdf: Any, report: ProgressReport, top: float, height: float = 62) -> None:
    """Shares of authenticated records and signed people per day, deadlines as red lines."""
    pdf.set_font("DejaVu", "B", 9)
    pdf.set_xy(LEFT, top)
    pdf.cell(0, 5, "Xu hướng: tỷ lệ xác thực và tỷ lệ đã ký so với thời hạn / trend against "
             "the deadlines")
    left, width, bottom = LEFT + 10, WIDTH - 12, top + height
    plot_top = top + 8
    points = [(dt.date.fromisoformat(str(t["date"])),
               int(t["authenticated"]) / int(t["records"]) if t["records"] else 0.0,
               int(t["people_signed"]) / int(t["people_linked"]) if t["people_linked"] else 0.0)
              for t in report.trend]
    dates = [p[0] for p in points] + [d.due_on for d in report.campaign.deadlines]
    first, last = min([*dates, report.campaign.starts_on]), max(dates)
    pdf.set_draw_color(*GREY)
    pdf.set_font("DejaVu", "", 6.5)
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = bottom - share * (bottom - plot_top)
        pdf.line(left, y, left + width, y)
        pdf.set_xy(LEFT, y - 1.5)
        pdf.cell(9, 3, f"{share:.0%}", align="R")
    pdf.set_draw_color(*RED)
    for deadline in report.campaign.deadlines:
        x = _x_of(deadline.due_on, first, last, left, width)
        pdf.line(x, plot_top, x, bottom)
        pdf.set_xy(x - 8, bottom + 0.5)
        pdf.set_text_color(*RED)
        pdf.cell(16, 3, f"{deadline.due_on:%d/%m}", align="C")
    pdf.set_text_color(0, 0, 0)
    for index, color in ((1, BLUE), (2, GREEN)):
        pdf.set_draw_color(*color)
        pdf.set_fill_color(*color)
        coords = [(_x_of(day, first, last, left, width),
                   bottom - values * (bottom - plot_top))
                  for day, *rest in points for values in [rest[index - 1]]]
        for (x1, y1), (x2, y2) in zip(coords, coords[1:], strict=False):
            pdf.line(x1, y1, x2, y2)
        for x, y in coords:
            pdf.ellipse(x - 0.8, y - 0.8, 1.6, 1.6, style="F")
    pdf.set_xy(left, bottom + 4)
    pdf.set_font("DejaVu", "", 7)
    for label, color in (("tỷ lệ bản ghi đã xác thực", BLUE), ("tỷ lệ người đã ký", GREEN),
                         ("thời hạn", RED)):
        pdf.set_fill_color(*color)
        pdf.rect(pdf.get_x(), pdf.get_y() + 1, 3, 2, style="F")
        pdf.set_x(pdf.get_x() + 4)
        pdf.cell(40, 4, label)
    pdf.set_draw_color(0, 0, 0)


def ranking_chart(pdf: Any, units: Sequence[Unit], top: float, title: str) -> float:
    """Horizontal bars: each unit's authenticated (blue) and signed (green) share, best first."""
    ranked = sorted(units, key=lambda u: (-u.authenticated_share, u.code))
    bar = min(4.2, max(2.0, 262 / max(1, len(ranked))))
    if top + 7 + bar * len(ranked) > 285:
        pdf.add_page()       # the ranking on a page of its own (63 provinces fit one)
        top = 15.0
    pdf.set_font("DejaVu", "B", 9)
    pdf.set_xy(LEFT, top)
    pdf.cell(0, 5, title)
    y = top + 7
    label_width, plot = 48.0, WIDTH - 62
    pdf.set_font("DejaVu", "", min(7.0, bar * 2))
    for unit in ranked:
        if y + bar > 285:
            pdf.add_page()
            y = 15.0
        pdf.set_xy(LEFT, y)
        pdf.cell(label_width, bar, unit.name[:34], align="R")
        pdf.set_fill_color(*BLUE)
        pdf.rect(LEFT + label_width + 1, y + bar * 0.1, plot * unit.authenticated_share,
                 bar * 0.45, style="F")
        pdf.set_fill_color(*GREEN)
        pdf.rect(LEFT + label_width + 1, y + bar * 0.55, plot * unit.signed_share, bar * 0.35,
                 style="F")
        pdf.set_xy(LEFT + label_width + plot + 2, y)
        pdf.cell(12, bar, _pct(unit.authenticated_share), align="R")
        y += bar
    return y


def _table(pdf: Any, units: Sequence[Unit], as_of: dt.date) -> None:
    from vaxtrust.reports.columns import REPORT_COLUMNS

    keys = ("name", "records", "authenticated_share", "review", "unmatched", "people_linked",
            "people_signed", "signed_share", "complaints_open", "complaints_overdue")
    columns = [next(c for c in REPORT_COLUMNS if c.key == key) for key in keys]
    widths = [44, 17, 15, 15, 15, 17, 15, 14, 14, 14]
    pdf.set_font("DejaVu", "B", 6.5)
    top = pdf.get_y()
    for width, column in zip(widths, columns, strict=True):
        x = pdf.get_x()
        pdf.multi_cell(width, 3.2, column.vi, border="B", align="C")
        pdf.set_xy(x + width, top)
    pdf.set_y(top + 7)
    pdf.set_font("DejaVu", "", 6.5)
    for unit in units:
        values = unit.to_dict(as_of)
        for width, column in zip(widths, columns, strict=True):
            value = values.get(column.key)
            text = (str(value)[:30] if column.kind == "text" else
                    _pct(float(value or 0)) if column.kind == "share" else _num(int(value or 0)))
            pdf.cell(width, 4, text, align="L" if column.kind == "text" else "R")
        pdf.ln()


def ranked_level(report: ProgressReport) -> str:
    """The widest level with more than one unit (a province officer: districts)."""
    levels = [level for level in ("province", "district", "commune", "facility")
              if level in report.levels]
    return next((level for level in levels if len(report.levels[level]) > 1),
                levels[0] if levels else "country")


def write(report: ProgressReport, out: Path) -> Path:
    """Write the summary PDF of ``report`` to ``out``."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title("Báo cáo tiến độ / Progress report")
    pdf.set_creator("vaxtrust")
    add_fonts(pdf)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(LEFT, 12, LEFT)
    pdf.add_page()
    _title(pdf, report)
    _figures(pdf, report.total)
    _deadlines(pdf, report)
    trend_chart(pdf, report, pdf.get_y())
    units = report.levels[ranked_level(report)]
    ranking_chart(pdf, units, pdf.get_y() + 8, "Xếp hạng theo tỷ lệ xác thực (xanh lam) và tỷ "
                  "lệ đã ký (xanh lá) / ranked by authenticated and signed share")
    pdf.add_page()
    _table(pdf, units, report.as_of)
    out.write_bytes(bytes(pdf.output()))
    return out
