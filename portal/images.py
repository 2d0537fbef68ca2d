"""Uploaded images (avatars, logos, photos): validate with Pillow, re-encode, thumbnail.

One entry point for every app::

    from portal.images import image_validate_and_normalize

    result = image_validate_and_normalize(upload)  # raises portal.errors.ValidationError
    instance.logo.save(result.image.name, result.image, save=False)
    instance.logo_thumbnail.save(result.thumbnail.name, result.thumbnail, save=False)

Only JPEG, PNG and WebP are accepted, whatever the file name or content type
claim: Pillow identifies the bytes. The byte size is bounded by
``settings.IMAGE_UPLOAD_MAX_BYTES`` and the pixel count by
``settings.IMAGE_UPLOAD_MAX_PIXELS`` (checked from the header, before the pixels
are decoded, so a decompression bomb is refused without being unpacked). The
image is decoded fully (a truncated file is refused), turned upright by its
EXIF orientation, stripped of metadata and re-encoded: JPEG, or PNG when it has
transparency. Animated files keep their first frame.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.errors import ValidationError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
DEFAULT_MAX_SIDE = 2048
DEFAULT_THUMBNAIL_SIZE = (256, 256)
JPEG_QUALITY = 85


class EncodedImage(ContentFile):
    """A re-encoded picture in memory: always named, with its size in pixels."""

    name: str

    def __init__(self, content: bytes, *, name: str, image_size: tuple[int, int]) -> None:
        super().__init__(content, name=name)
        self.image_size = image_size


@dataclass(frozen=True)
class NormalizedImage:
    """The re-encoded image and its thumbnail, ready for ``FieldFile.save(name, content)``."""

    image: EncodedImage
    thumbnail: EncodedImage
    width: int
    height: int
    format: str  # "JPEG" or "PNG": the format of both files
    content_type: str


def _read_bounded(file: IO[bytes], max_bytes: int) -> bytes:
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise _too_large(max_bytes)
    if hasattr(file, "seek"):
        try:
            file.seek(0)
        except (OSError, ValueError):
            pass
    data = file.read(max_bytes + 1)
    if isinstance(data, str):  # a text-mode file is not an image
        raise ValidationError(_("The file is not an image."), code="image_invalid")
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise ValidationError(_("The file is empty."), code="image_invalid")
    return data


def image_max_size_text(max_bytes: int | None = None) -> str:
    """The upload limit in megabytes as people read it in the active language ("5", "1,5").

    The one wording of the limit, shared by the forms' help texts and the
    "too large" error, so the two never disagree.
    """
    megabytes = round((max_bytes or settings.IMAGE_UPLOAD_MAX_BYTES) / (1024 * 1024), 1)
    return number_format(int(megabytes) if megabytes.is_integer() else megabytes)


def _too_large(max_bytes: int) -> ValidationError:
    return ValidationError(
        _("The image is too large: at most %(size)s MB.") % {"size": image_max_size_text(max_bytes)},
        code="image_too_large",
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def image_validate_and_normalize(
    file: IO[bytes],
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    thumbnail_size: tuple[int, int] = DEFAULT_THUMBNAIL_SIZE,
    thumbnail_crop: bool = False,
) -> NormalizedImage:
    """Check an uploaded image and return it re-encoded plus a thumbnail.

    ``file`` is any binary file-like object (an ``UploadedFile``, ``BytesIO``…).
    Limits default to ``settings.IMAGE_UPLOAD_MAX_BYTES`` / ``IMAGE_UPLOAD_MAX_PIXELS``.
    The main image is scaled down to fit ``max_side`` on its longer side; the
    thumbnail fits ``thumbnail_size`` (or fills it, centre-cropped, when
    ``thumbnail_crop`` is true — used for square avatars).

    Raises ``portal.errors.ValidationError`` with one of the codes
    ``image_invalid`` (not an image, truncated or corrupt), ``image_type_not_allowed``
    (an image, but not JPEG/PNG/WebP), ``image_too_large`` (bytes) or
    ``image_too_many_pixels`` (dimensions; decompression bombs land here).
    """
    max_bytes = max_bytes or settings.IMAGE_UPLOAD_MAX_BYTES
    max_pixels = max_pixels or settings.IMAGE_UPLOAD_MAX_PIXELS
    data = _read_bounded(file, max_bytes)

    with warnings.catch_warnings():
        # Pillow's own bomb guard warns (or raises) past its limit; ours is stricter anyway.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(_("Only JPEG, PNG and WebP images are accepted."), code="image_type_not_allowed")
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise _too_many_pixels(max_pixels)
            image.load()  # decode every pixel now: truncated or corrupt data fails here
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(max_pixels)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, EOFError, MemoryError):
            raise ValidationError(_("The file is not a valid image."), code="image_invalid")

    try:
        return _normalize(image, max_side=max_side, thumbnail_size=thumbnail_size, thumbnail_crop=thumbnail_crop)
    except (OSError, ValueError, TypeError, MemoryError):  # an exotic mode Pillow cannot convert
        raise ValidationError(_("The file is not a valid image."), code="image_invalid")


def _normalize(
    image: Image.Image, *, max_side: int, thumbnail_size: tuple[int, int], thumbnail_crop: bool
) -> NormalizedImage:
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # noqa: S110 - a broken EXIF block must not refuse an otherwise fine image
        pass
    alpha = _has_alpha(image)
    image = image.convert("RGBA" if alpha else "RGB")
    out_format = "PNG" if alpha else "JPEG"
    extension = "png" if alpha else "jpg"

    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if thumbnail_crop:
        thumb = ImageOps.fit(image, thumbnail_size, Image.Resampling.LANCZOS)
    else:
        thumb = image.copy()
        thumb.thumbnail(thumbnail_size, Image.Resampling.LANCZOS)

    stem = uuid.uuid4().hex
    return NormalizedImage(
        image=EncodedImage(_encode(image, out_format), name=f"{stem}.{extension}", image_size=image.size),
        thumbnail=EncodedImage(_encode(thumb, out_format), name=f"{stem}_thumb.{extension}", image_size=thumb.size),
        width=image.width,
        height=image.height,
        format=out_format,
        content_type="image/png" if alpha else "image/jpeg",
    )


def _too_many_pixels(max_pixels: int) -> ValidationError:
    return ValidationError(
        _("The image has too many pixels: at most %(mp)s megapixels.") % {"mp": f"{max_pixels / 1_000_000:g}"},
        code="image_too_many_pixels",
    )
