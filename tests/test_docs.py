"""The README's configuration table keeps up with the settings."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_documents_every_environment_variable_the_settings_read():
    settings_source = (ROOT / "portal" / "settings.py").read_text()
    variables = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))

    assert len(variables) > 30
    missing = sorted(variables - documented)
    assert not missing, f"add a row for each of these to README.md's Configuration table: {missing}"


def test_readme_links_to_docs_that_exist_or_are_planned():
    readme = (ROOT / "README.md").read_text()
    for required in ("docs/architecture.md", "docs/operations.md", "docs/api.md", "docs/performance.md"):
        assert f"({required})" in readme
        assert (ROOT / required).is_file(), required
