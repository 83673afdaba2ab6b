"""Shared test configuration: hypothesis profiles, and pytest's assert rewriting
for the shared helper modules (``docs_examples``, ``agents_fixtures``).

``ci`` (selected when ``CI`` is set, as in ``.ci/run``) is derandomized with no
deadline and no example database, so a CI failure reproduces exactly from its
printed blob; ``dev`` is the quick local default.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# before any test module imports them, so their asserts explain a failure as a test's do
pytest.register_assert_rewrite("agents_fixtures", "docs_examples")

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
