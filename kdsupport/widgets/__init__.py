"""ipywidgets builders for the course notebooks and the trainee app.

Builders return a widget and never call ``display`` themselves, so tests can build them
headless, set ``.value``, call ``.click()`` and read the ``HTML`` widgets' ``.value``. They hold
no clinical logic: grading and rules live in :mod:`kdsupport`.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "app_parameter",
    "trainee_parameter",
    "build_case_walkthrough",
    "build_course_home",
    "build_course_nav",
    "build_trial_history_builder",
    "build_staging_comparison",
    "build_safety_explorer",
    "build_session_monitor",
    "build_claim_quiz",
    "build_instructor_dashboard",
]

_LAZY = {
    "build_case_walkthrough": "kdsupport.widgets.walkthrough",
    "build_course_home": "kdsupport.widgets.course",
    "build_course_nav": "kdsupport.widgets.course",
    "build_trial_history_builder": "kdsupport.widgets.trials",
    "build_staging_comparison": "kdsupport.widgets.staging",
    "build_safety_explorer": "kdsupport.widgets.safety",
    "build_session_monitor": "kdsupport.widgets.monitoring",
    "build_claim_quiz": "kdsupport.widgets.evidence",
    "build_instructor_dashboard": "kdsupport.widgets.dashboard",
}


def app_parameter(name: str, default: Any) -> Any:
    """A value from the app URL's query string (``?case_id=tr-003``), else ``default``.

    Voila passes the query string to the notebook's kernel as ``QUERY_STRING``; under papermill
    or in JupyterLab there is none and the notebook's parameter is used.
    """
    import os
    from urllib.parse import parse_qs

    values = parse_qs(os.environ.get("QUERY_STRING", "")).get(name)
    return values[0] if values else default


def trainee_parameter(default: str = "") -> str:
    """The trainee id of a course page, as every course notebook asks for it.

    Under JupyterHub, the hub user's name (a ``?trainee=`` parameter is ignored); else the URL's
    ``?trainee=`` parameter, else ``default`` (the notebook's ``trainee_id`` parameter). See
    :func:`kdsupport.server.identity.trainee_id`, the one place that decides.
    """
    from kdsupport.server.identity import hub_user, trainee_id

    if hub_user() is not None:
        return trainee_id()
    return str(app_parameter("trainee", default))


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kdsupport.widgets' has no attribute {name!r}")
