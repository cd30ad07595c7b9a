"""The service card's QR code, drawn on the server as SVG (segno): no script, no image file."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(url: str) -> SafeString:
    """An inline <svg> of the URL; medium error correction survives a scuffed card."""
    qr = segno.make(url, error="m", micro=False)
    # segno writes the markup from the modules alone; the URL is not echoed into it.
    return mark_safe(qr.svg_inline(scale=4, border=2, dark="#000", light="#fff"))  # noqa: S308
