import io

import pytest
from django.core.cache import cache
from PIL import ExifTags, Image

from grassroots import sms
from residents.tests.factories import CourtyardLinkFactory


@pytest.fixture(autouse=True)
def clean_slate(settings, tmp_path):
    """Each test counts its own rate limits, keeps its own texts and photos."""
    cache.clear()
    sms.outbox.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://grassroots.example.org"
    yield
    cache.clear()


@pytest.fixture
def link(courtyard):
    return CourtyardLinkFactory(courtyard=courtyard)


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), "blue")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (29.0, 39.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()
