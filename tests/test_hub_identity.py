"""Identity under JupyterHub, without a hub: the decision, the pages, the guard, the settings.

tests/test_hub.py checks the same promises end to end on a real hub in Chromium.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import ROOT

from kdsupport.app import pages_of
from kdsupport.server.guard import RequestGuard
from kdsupport.server.hub import hub_settings
from kdsupport.server.identity import hub_user, trainee_id
from kdsupport.training.attempts import Attempt, SQLiteAttemptStore
from kdsupport.widgets import (
    build_case_walkthrough,
    build_claim_quiz,
    build_course_home,
    trainee_parameter,
)
from kdsupport.widgets.course import course_nav_html, page_href

HUB_ENV = {
    "JUPYTERHUB_API_TOKEN": "secret-token",
    "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
    "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-alice",
    "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:50123/user/alice/",
    "JUPYTERHUB_USER": "alice",
}


@pytest.fixture
def store(tmp_path):
    return SQLiteAttemptStore(tmp_path / "attempts.sqlite")


@pytest.fixture
def under_hub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("QUERY_STRING", "case_id=tr-003&trainee=bob")


@pytest.fixture
def no_hub(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("QUERY_STRING", "trainee=bob")


def _answer(store, trainee, correct=True):
    store.record(Attempt(trainee, "tr-001", "q1", "x", correct, Attempt.now(), "kb", "v"))


# ---------------------------------------------------------------- the one decision
def test_under_the_hub_the_trainee_is_the_hub_user_whatever_is_asked(under_hub):
    assert hub_user() == "alice"
    assert trainee_id("bob") == trainee_id("") == trainee_id(None) == "alice"
    assert trainee_parameter("carol") == "alice"  # ?trainee=bob and the parameter: ignored


def test_without_a_hub_the_page_decides_as_before(no_hub):
    assert hub_user() is None
    assert trainee_id(" bob ") == "bob" and trainee_id(None) == ""
    assert trainee_parameter("carol") == "bob"  # the URL first, then the parameter


def test_an_empty_hub_user_is_no_hub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "  ")
    assert hub_user() is None and trainee_id("bob") == "bob"


# ---------------------------------------------------------------- the pages
def test_under_the_hub_answers_are_recorded_for_the_hub_user_only(under_hub, store):
    w = build_case_walkthrough("tr-003", trainee_id="bob", store=store, figures="none")
    assert w.trainee.value == "alice" and "kd-trainee-id" in w.trainee._dom_classes
    assert "Signed in as <b>alice</b>" in w.trainee.children[0].value
    w.trainee.set_state({"value": "bob"})  # what a browser could send: not a widget state
    with pytest.raises(AttributeError):
        w.trainee.value = "bob"
    q = w.question
    w.submit(str(q.answer) if q.kind == "numeric" else q.answer)
    assert [a.trainee_id for a in store.attempts()] == ["alice"]
    quiz = build_claim_quiz(trainee_id="bob", store=store)
    claim_id = next(iter(quiz.cards))
    quiz.submit(claim_id, "accurate")
    assert {a.trainee_id for a in store.attempts()} == {"alice"}


def test_under_the_hub_the_home_page_shows_the_hub_users_progress_only(under_hub, store):
    _answer(store, "alice", correct=True)
    _answer(store, "bob", correct=False)
    home = build_course_home(trainee_id="bob", store=store)
    progress = unescape(home.progress.value)
    assert "Progress of trainee alice" in progress and "bob" not in progress
    row = re.search(r"tr-001</a></th><td>[^<]*</td><td>(\d+) of \d+</td><td>(\d+)</td>", progress)
    assert row and row.groups() == ("1", "1")
    assert "Enter your trainee ID" not in home.children[1].value
    assert home.trainee.value == "alice"


def test_under_the_hub_links_carry_no_trainee_and_the_nav_says_who(under_hub, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/")
    assert page_href("05_case_walkthrough", "bob", case_id="tr-001") == (
        "05_case_walkthrough.ipynb?case_id=tr-001"
    )
    nav = course_nav_html("00_start_here", "bob")
    assert "trainee=" not in nav and "Signed in as <b>alice</b>" in nav
    assert "href='/hub/logout'" in nav


def test_without_a_hub_the_nav_has_no_sign_out(no_hub):
    nav = course_nav_html("00_start_here", "bob")
    assert "trainee=bob" in nav and "Sign out" not in nav


# ---------------------------------------------------------------- the server behind the hub
def test_the_hub_settings_are_read_and_checked():
    s = hub_settings("trainee", HUB_ENV)
    assert (s.prefix, s.host, s.port, s.owner, s.service) == (
        "/user/alice/",
        "127.0.0.1",
        50123,
        "alice",
        None,
    )
    service = {
        **{k: v for k, v in HUB_ENV.items() if k != "JUPYTERHUB_USER"},
        "JUPYTERHUB_SERVICE_NAME": "kdsupport-instructor",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/kdsupport-instructor",
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:8869",
    }
    s = hub_settings("instructor", service)
    assert (s.prefix, s.port, s.owner, s.service) == (
        "/services/kdsupport-instructor/",
        8869,
        None,
        "kdsupport-instructor",
    )
    with pytest.raises(ValueError, match="JUPYTERHUB_API_TOKEN"):
        hub_settings("trainee", {k: v for k, v in HUB_ENV.items() if k != "JUPYTERHUB_API_TOKEN"})
    with pytest.raises(ValueError, match="hub service"):  # never the instructor pages as a user
        hub_settings("instructor", HUB_ENV)
    with pytest.raises(ValueError, match="hub user's server"):
        hub_settings("trainee", service)


def test_app_refuses_hub_mode_outside_a_hub(monkeypatch, capsys):
    from kdsupport.app import main

    for name in HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    assert main(["--hub"]) == 2
    assert "--hub needs the variables JupyterHub sets" in capsys.readouterr().err


def test_the_guard_serves_only_under_the_prefix_and_the_hub_sign_in_routes():
    pages = pages_of(ROOT / "notebooks" / "course")
    guard = RequestGuard.for_pages(pages, base_url="/user/alice/", hub=True)

    def status(path):
        refusal = guard.check("GET", path, {"Host": "127.0.0.1:8000"})
        return 200 if refusal is None else refusal.status

    assert status("/user/alice/voila/render/00_start_here.ipynb") == 200
    assert status("/user/alice/") == status("/user/alice") == 200
    assert status("/user/alice/oauth_callback") == status("/user/alice/logout") == 200
    for path in (
        "/voila/render/00_start_here.ipynb",  # outside the prefix
        "/user/bob/voila/render/00_start_here.ipynb",
        "/user/alice/voila/render/08_instructor_dashboard.ipynb",
        "/user/alice/voila/tree",
        "/user/alice/api/contents",
        "/user/alice/../bob/voila/render/00_start_here.ipynb",
    ):
        assert status(path) == 404, path
    alone = RequestGuard.for_pages(pages)
    assert alone.check("GET", "/oauth_callback", {"Host": "127.0.0.1:8866"}).status == 404
