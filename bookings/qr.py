"""QR images of check-in links (segno)."""

import io

import segno


def qr_svg(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title="QR")
    return buffer.getvalue()


def qr_png(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()
