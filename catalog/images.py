"""Organization photos and logos go through the shared image pipeline (portal.images).

Only JPEG, PNG and WebP are accepted, within ``IMAGE_UPLOAD_MAX_BYTES`` and
``IMAGE_UPLOAD_MAX_PIXELS``; every picture is decoded fully and re-encoded
(metadata dropped). This adapter scales gallery pictures to the catalog's
size and reports every refusal with the one code ``bad_image``.
"""

from typing import IO

from django.utils.translation import gettext as _

from portal.errors import ValidationError
from portal.images import EncodedImage, image_validate_and_normalize

MAX_SIDE = 2560  # gallery pictures are scaled down to this longest side
LOGO_MAX_SIDE = 512


def validate_and_reencode(upload: IO[bytes] | None, *, max_side: int = MAX_SIDE) -> EncodedImage:
    """Return a clean re-encoded copy of ``upload`` (with ``image_size``) or raise ``ValidationError``."""
    if upload is None:
        raise ValidationError(_("Choose an image file."), code="bad_image")
    try:
        result = image_validate_and_normalize(upload, max_side=max_side)
    except ValidationError as exc:
        raise ValidationError(exc.message, code="bad_image", extra={"reason": exc.code})
    return result.image
