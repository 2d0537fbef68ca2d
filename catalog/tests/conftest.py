import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert on the English source messages; the Russian catalog is checked separately."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
