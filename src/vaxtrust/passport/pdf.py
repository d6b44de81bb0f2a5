"""A printable A4 certificate: the 11 fields of Decision 5772/QĐ-BYT (vi + en) and the QR."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from vaxtrust.errors import CertificateError
from vaxtrust.passport import qr
from vaxtrust.passport.fields import certificate_fields

# Debian's fonts-dejavu-core: DejaVu covers every Vietnamese precomposed letter.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
QR_SIDE_MM = 62     # hcert spec 4.2: a 35–60 mm diagonal at least; printed larger for old phones


def certificate_pdf(payload: Mapping[str, Any], qr_text: str, *, issued_at: datetime,
                    expires_at: datetime, issuing_country: str = "VN") -> bytes:
    """PDF bytes of one certificate page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title("Hộ chiếu vắc xin / Vaccine passport")
    pdf.set_creator("vaxtrust")
    add_fonts(pdf)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    _header(pdf)
    pdf.image(io.BytesIO(qr.png(qr_text, scale=8, border=2)), x=(210 - QR_SIDE_MM) / 2, y=44,
              w=QR_SIDE_MM, h=QR_SIDE_MM)
    pdf.set_y(44 + QR_SIDE_MM + 6)
    for field in certificate_fields(payload, issuing_country=issuing_country):
        _field_row(pdf, field.number, field.label_vi, field.label_en, field.value)
    pdf.ln(4)
    pdf.set_font("DejaVu", "I", 8.5)
    pdf.multi_cell(0, 4.5, f"Mã QR có hiệu lực từ {issued_at:%d/%m/%Y} đến {expires_at:%d/%m/%Y} / "
                   f"QR code valid from {issued_at:%Y-%m-%d} to {expires_at:%Y-%m-%d} (UTC). "
                   "Xuất trình kèm giấy tờ tùy thân / Present with an identity document.",
                   align="C")
    return bytes(pdf.output())


def add_fonts(pdf: Any) -> None:
    for style, name in _FONTS.items():
        path = FONT_DIR / name
        if not path.is_file():
            raise CertificateError(f"pdf: font {path} is missing (apt-get install fonts-dejavu-core)")
        pdf.add_font("DejaVu", style, str(path))


def _header(pdf: Any) -> None:
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 6, "BỘ Y TẾ / MINISTRY OF HEALTH", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 9, "CHỨNG NHẬN TIÊM CHỦNG COVID-19", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "I", 11)
    pdf.cell(0, 6, "COVID-19 Vaccination Certificate (EU DCC)", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, "Hộ chiếu vắc xin theo Quyết định 5772/QĐ-BYT / Vaccine passport, Decision "
             "5772/QĐ-BYT", align="C", new_x="LMARGIN", new_y="NEXT")


def _field_row(pdf: Any, number: int, label_vi: str, label_en: str, value: str) -> None:
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9.5)
    pdf.set_xy(15, top)
    pdf.multi_cell(85, 4.6, f"{number}. {label_vi}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(15)
    pdf.set_font("DejaVu", "I", 8.5)
    pdf.multi_cell(85, 4.2, label_en, new_x="LMARGIN", new_y="NEXT")
    label_bottom = pdf.get_y()
    pdf.set_xy(102, top)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(93, 5, value or "—", align="L", new_x="LMARGIN", new_y="NEXT")
    bottom = max(label_bottom, pdf.get_y()) + 1.2
    pdf.set_draw_color(200, 200, 200)
    pdf.line(15, bottom, 195, bottom)
    pdf.set_y(bottom + 1.2)
