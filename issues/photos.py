"""Photos: checked by content, re-encoded without metadata, thumbnailed."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
# A phone photo is at most ~50 megapixels; anything larger is a decompression bomb.
MAX_PIXELS = 60_000_000
LONG_SIDE = 2048
THUMB_SIDE = 360


@dataclass
class CleanPhoto:
    image: ContentFile
    thumbnail: ContentFile
    size: int


def _encode(img: Image.Image, long_side: int, quality: int) -> bytes:
    img = img.copy()
    img.thumbnail((long_side, long_side))
    out = io.BytesIO()
    # Re-encoding writes pixels only: no EXIF, so no GPS position or phone model.
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _refuse_bomb(upload: UploadedFile) -> ValidationError:
    return ValidationError(
        _("“%(name)s” has too many pixels to be a photo.") % {"name": upload.name}
    )


def _refuse_format(upload: UploadedFile) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is not a photo. Choose a JPEG, PNG or WebP image.") % {"name": upload.name}
    )


def decoded_bytes(img: Image.Image) -> int:
    """The memory the photo takes once decoded and turned into RGB, read from its header.

    Pixels alone understate it: a 1-bit image of 56 megapixels is 7 KB on disk and under the
    pixel limit, and becomes 56 MB decoded and 168 MB more as RGB. Each pixel costs at least
    the three bytes of the RGB copy every photo is made into.
    """
    return img.width * img.height * max(len(img.getbands()), 3)


def check_photo(upload: UploadedFile) -> None:
    """Raise ValidationError unless the upload's size and header are a photo's; decode nothing."""
    assert upload.size is not None  # an upload knows its size
    if upload.size > settings.MAX_PHOTO_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than %(limit)d MB.")
            % {"name": upload.name, "limit": settings.MAX_PHOTO_BYTES // (1024 * 1024)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            probe = Image.open(upload)
            if probe.format not in ACCEPTED_FORMATS:
                raise _refuse_format(upload)
            if (
                probe.width * probe.height > MAX_PIXELS
                or decoded_bytes(probe) > settings.MAX_PHOTO_DECODED_BYTES
            ):
                raise _refuse_bomb(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse_bomb(upload) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse_format(upload) from None
    finally:
        upload.seek(0)


def clean_photo(upload: UploadedFile) -> CleanPhoto:
    """Raise ValidationError unless the upload is an image of sane size; return it re-encoded."""
    check_photo(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            Image.open(upload).verify()
            upload.seek(0)
            img: Image.Image = Image.open(upload)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse_bomb(upload) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse_format(upload) from None
    img = ImageOps.exif_transpose(img).convert("RGB")
    full = _encode(img, LONG_SIDE, 85)
    return CleanPhoto(
        image=ContentFile(full, name="photo.jpg"),
        thumbnail=ContentFile(_encode(img, THUMB_SIDE, 75), name="thumb.jpg"),
        size=len(full),
    )
