"""The course server for real: JupyterHub, its proxy, the trainees' servers and the instructor
service, started by the test and driven by Chromium.

The hub runs deploy/jupyterhub/jupyterhub_config.py as `make course` does, with the test
authenticator (DummyAuthenticator, one fixed password, allowed only with
KDSUPPORT_HUB_TESTING=1), SimpleLocalProcessSpawner and the real configurable-http-proxy from
npm (`make proxy`), on free ports of 127.0.0.1, with its database, cookie secret, attempt log
and exports in a temporary folder.

Needs configurable-http-proxy (`make proxy`), jupyterhub (the `hub` extra) and Debian's
Chromium. Without the proxy or jupyterhub the test is skipped on a developer's machine and
fails under CI (`CI` set, as for the PostgreSQL tests). KDSUPPORT_SKIP_BROWSER=1 skips it
with the other browser tests.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT
from postgres_cluster import in_ci

from kdsupport.records.bundled import load_case_by_id
from kdsupport.training.attempts import SQLiteAttemptStore

CHROMIUM = os.environ.get("KDSUPPORT_CHROMIUM", "/usr/bin/chromium")
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
LOCAL_CHP = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "course-test-password-1"
TRAINEES = ("alice", "bob")
INSTRUCTOR = "ivy"
SERVICE = "kdsupport-instructor"
CASE = "tr-003"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless=new",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("KDSUPPORT_SKIP_BROWSER") == "1", reason="KDSUPPORT_SKIP_BROWSER=1"
    ),
]


def _missing(what: str) -> None:
    """Fail under CI, skip elsewhere, saying what is missing and how to get it."""
    if in_ci():
        pytest.fail(f"{what} (CI must run the real-hub test)")
    pytest.skip(what)


def _proxy_command() -> str:
    found = os.environ.get("KDSUPPORT_CHP") or (
        str(LOCAL_CHP) if LOCAL_CHP.exists() else shutil.which("configurable-http-proxy")
    )
    if not found:
        _missing("configurable-http-proxy is not installed: run `make proxy` (npm)")
    return str(found)


def _free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Hub:
    """A JupyterHub started with the course's configuration, stopped at the end."""

    def __init__(self, folder: Path, proxy: str, auth: str = "dummy"):
        self.folder = folder
        self.port, hub_api, proxy_api, service = _free_ports(4)
        self.base = f"http://127.0.0.1:{self.port}"
        self.attempts = folder / "attempts.sqlite"
        self.exports = folder / "exports"
        self.log_path = folder / "hub.log"
        env = {
            **os.environ,
            "KDSUPPORT_HUB_AUTH": auth,
            "KDSUPPORT_INSTRUCTORS": INSTRUCTOR,
            "KDSUPPORT_COURSE_DIR": str(folder / "course"),
            "KDSUPPORT_COURSE_PORT": str(self.port),
            "KDSUPPORT_HUB_API_PORT": str(hub_api),
            "KDSUPPORT_PROXY_API_PORT": str(proxy_api),
            "KDSUPPORT_INSTRUCTOR_PORT": str(service),
            "KDSUPPORT_ATTEMPTS": str(self.attempts),
            "KDSUPPORT_EXPORT_DIR": str(self.exports),
            "KDSUPPORT_CHP": proxy,
        }
        if auth == "dummy":
            env.update(KDSUPPORT_HUB_TESTING="1", KDSUPPORT_HUB_TEST_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=folder,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its proxy, servers and kernels: one group to clean up
        )
        deadline = time.time() + 90
        while not self._up():
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                pytest.fail("the hub did not start:\n" + self.log_path.read_text()[-6000:])
            time.sleep(0.5)

    def _up(self) -> bool:
        """The hub answers through its proxy (it adds its route once the service is up)."""
        try:
            with urllib.request.urlopen(f"{self.base}/hub/api/", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the hub stops its servers, the service and the proxy
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything left of what this test started
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start_hub(folder: Path, auth: str) -> Hub:
    for module in ("jupyterhub", "nativeauthenticator"):
        if importlib.util.find_spec(module) is None:
            _missing(f"{module} is not installed: pip install -e '.[hub]'")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    return Hub(folder, _proxy_command(), auth)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    running = _start_hub(tmp_path_factory.mktemp("hub"), "dummy")
    yield running
    running.stop()


def _browser(p, folder: Path, name: str):
    """A fresh Chromium profile of its own for each person."""
    return p.chromium.launch_persistent_context(
        str(folder / f"chromium-{name}"),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
    )


def _sign_in(context, base: str, user: str, password: str = PASSWORD):
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{base}/hub/login", timeout=60_000)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.locator("form [type=submit]").first.click()
    return page


def _answer_first_question(page, base: str, user: str, *, right: bool, as_other: str) -> None:
    """Answer question 1 of the case, asking the URL to record it for another trainee."""
    from playwright.sync_api import expect

    q1 = load_case_by_id(CASE).teaching.questions[0]
    assert q1.kind == "single", "the test answers question 1 by its option labels"
    option = next(o for o in q1.options if (o.value == q1.answer) == right)
    page.goto(
        f"{base}/user/{user}/voila/render/05_case_walkthrough.ipynb"
        f"?case_id={CASE}&trainee={as_other}",
        timeout=120_000,
    )
    check = page.get_by_role("button", name="Check answer")
    check.wait_for(timeout=120_000)
    # no id box: the signed-in user, whatever the URL says
    assert page.locator(".kd-trainee-id input").count() == 0
    assert page.locator(".kd-trainee-id").inner_text().strip() == f"Signed in as {user}"
    page.get_by_label(option.label, exact=True).check()
    check.click()
    expect(page.locator(".kd-feedback")).to_contain_text(
        "Correct" if right else "Not quite", timeout=30_000
    )
    expect(page.locator(".kd-score")).to_contain_text(f"{int(right)} of 1 first answers correct")


# Sends the page's kernel code to run, over a websocket of its own, as a hostile page could.
_SEND_CODE = """async ([prefix, code]) => {
  const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
  const url = `ws://${location.host}${prefix}api/kernels/${config.kernelId}/channels`;
  const ws = new WebSocket(url);
  await new Promise((ok, ko) => { ws.onopen = ok; ws.onerror = ko; });
  const header = {msg_id: 'probe-1', username: 'probe', session: 'probe', date: '',
                  msg_type: 'execute_request', version: '5.3'};
  ws.send(JSON.stringify({channel: 'shell', header, parent_header: {}, metadata: {},
    content: {code, silent: false, store_history: false, user_expressions: {},
              allow_stdin: false, stop_on_error: true}, buffers: []}));
  await new Promise((ok) => setTimeout(ok, 3000));
  ws.close();
}"""


def _environments(owner: str, program: bytes) -> list[dict[str, str]]:
    """The environment of each process of a trainee's course server running ``program``."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            cmd = (environ.parent / "cmdline").read_bytes()
            values = environ.read_bytes().split(b"\0")
        except OSError:
            continue
        env = dict(v.decode(errors="replace").split("=", 1) for v in values if b"=" in v)
        if program in cmd and env.get("JUPYTERHUB_USER") == owner:
            found.append(env)
    return found


def test_two_trainees_and_an_instructor_on_a_real_hub(hub, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    q1 = load_case_by_id(CASE).teaching.questions[0]
    with sync_playwright() as p:
        alice_ctx, bob_ctx, ivy_ctx = (_browser(p, tmp_path, n) for n in (*TRAINEES, INSTRUCTOR))

        # a wrong password signs nobody in
        page = _sign_in(bob_ctx, hub.base, "bob", "not-the-password")
        expect(page.get_by_text("Invalid username or password")).to_be_visible(timeout=30_000)

        # both trainees sign in; the hub starts each one's own course server
        alice = _sign_in(alice_ctx, hub.base, "alice")
        bob = _sign_in(bob_ctx, hub.base, "bob")
        for page, user in ((alice, "alice"), (bob, "bob")):
            page.wait_for_url(
                f"{hub.base}/user/{user}/voila/render/00_start_here.ipynb", timeout=120_000
            )
            page.get_by_role("heading", name="Course map", exact=True).wait_for(timeout=120_000)
            assert page.locator(".kd-trainee-id input").count() == 0

        # each answers, each asking the URL to record it under the other's name
        _answer_first_question(alice, hub.base, "alice", right=True, as_other="bob")
        _answer_first_question(bob, hub.base, "bob", right=False, as_other="alice")
        # the kernels know their trainee, never the server's hub API token
        kernels = _environments("alice", b"ipykernel")
        assert kernels and all("JUPYTERHUB_API_TOKEN" not in env for env in kernels)
        # and a page cannot make its kernel run code of its own: only widget messages pass
        marker = tmp_path / "code-ran"
        alice.evaluate(_SEND_CODE, ["/user/alice/", f"open({str(marker)!r}, 'w').write('x')"])
        assert not marker.exists()
        assert 'Received message of type "execute_request", which is not allowed' in hub.log()
        rows = SQLiteAttemptStore(hub.attempts).attempts()
        assert sorted((a.trainee_id, a.case_id, a.question_id, a.correct) for a in rows) == [
            ("alice", CASE, q1.id, True),
            ("bob", CASE, q1.id, False),
        ]

        # a trainee sees only their own progress, whatever the URL asks for
        bob.goto(f"{hub.base}/user/bob/voila/render/00_start_here.ipynb?trainee=alice")
        progress = bob.get_by_role("region", name="Your progress by case")
        expect(progress).to_contain_text("Progress of trainee bob", timeout=120_000)
        assert "alice" not in progress.inner_text()
        assert "0" in progress.get_by_role("row", name=CASE).inner_text()  # bob's wrong answer
        # ... cannot open another trainee's server ...
        response = bob.goto(f"{hub.base}/user/alice/voila/render/00_start_here.ipynb")
        assert response.status == 403
        assert "Course map" not in bob.inner_text("body")
        # ... nor the instructor service (RBAC: only the group instructors holds its scope)
        for path in ("", "voila/render/08_instructor_dashboard.ipynb"):
            response = bob.goto(f"{hub.base}/services/{SERVICE}/{path}")
            assert response.status == 403, path
            assert "Instructor dashboard" not in bob.inner_text("body")

        # the instructor signs in and lands on the dashboard: both trainees, then an export
        ivy = _sign_in(ivy_ctx, hub.base, INSTRUCTOR)
        ivy.wait_for_url(f"{hub.base}/services/{SERVICE}/**", timeout=120_000)
        export = ivy.get_by_role("button", name="Export CSV")
        export.wait_for(timeout=120_000)
        table = ivy.get_by_role("table", name="First answers by trainee")
        expect(table.get_by_role("row", name="alice")).to_contain_text("1")
        expect(table.get_by_role("row", name="bob")).to_be_visible()
        export.click()
        link = ivy.get_by_role("link", name="Download attempts-")
        link.wait_for(timeout=30_000)
        with ivy.expect_download() as info:
            link.click()
        downloaded = Path(info.value.path()).read_text()
        (written,) = hub.exports.glob("attempts-*.csv")
        assert written.read_text() == downloaded
        exported = list(csv.DictReader(io.StringIO(downloaded)))
        assert sorted(r["trainee_id"] for r in exported) == ["alice", "bob"]

        # a hub admin (the instructor approves sign-ups) may pass the hub's check for a
        # trainee's server, but the server lets in its owner only: nobody answers for alice
        ivy.goto(f"{hub.base}/user/alice/voila/render/05_case_walkthrough.ipynb")
        authorize = ivy.get_by_role("button", name="Authorize")
        if authorize.count():
            with ivy.expect_navigation():
                authorize.click()
        assert "Check answer" not in ivy.inner_text("body")
        assert "belongs to another trainee" in ivy.inner_text("body")

        # signing out stops the trainee's server
        assert _environments("alice", b"kdsupport.app")
        alice.goto(f"{hub.base}/user/alice/voila/render/00_start_here.ipynb")
        alice.get_by_role("link", name="Sign out").click(timeout=120_000)
        alice.wait_for_url(f"{hub.base}/hub/login**", timeout=30_000)
        deadline = time.time() + 30
        while _environments("alice", b"kdsupport.app") and time.time() < deadline:
            time.sleep(0.5)
        assert not _environments("alice", b"kdsupport.app")

        for context in (alice_ctx, bob_ctx, ivy_ctx):
            context.close()
    assert {a.trainee_id for a in SQLiteAttemptStore(hub.attempts).attempts()} == set(TRAINEES)
    log = hub.log()
    assert "Using Authenticator: jupyterhub.auth.DummyAuthenticator" in log
    assert "Using Spawner: jupyterhub.spawner.SimpleLocalProcessSpawner" in log


def test_the_test_authenticator_is_refused_without_the_test_flag(tmp_path):
    if importlib.util.find_spec("jupyterhub") is None:
        _missing("jupyterhub is not installed: pip install -e '.[hub]'")
    env = {
        **os.environ,
        "KDSUPPORT_HUB_AUTH": "dummy",
        "KDSUPPORT_HUB_TEST_PASSWORD": PASSWORD,
        "KDSUPPORT_COURSE_DIR": str(tmp_path / "course"),
        "KDSUPPORT_COURSE_PORT": str(_free_ports(1)[0]),
    }
    env.pop("KDSUPPORT_HUB_TESTING", None)
    proc = subprocess.run(
        [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "KDSUPPORT_HUB_AUTH=dummy signs anyone in" in proc.stderr
    assert "JupyterHub is now running" not in proc.stdout + proc.stderr


def test_sign_up_is_approved_by_an_instructor_with_native_authenticator(tmp_path):
    """What `make course` runs: NativeAuthenticator, sign-up, an instructor's approval."""
    from playwright.sync_api import expect, sync_playwright

    hub = _start_hub(tmp_path, "native")
    password = "a-long-pass-phrase-42"
    try:
        with sync_playwright() as p:
            ivy_ctx, alice_ctx = (_browser(p, tmp_path, n) for n in (INSTRUCTOR, "alice"))
            for context, user, said in (
                (ivy_ctx, INSTRUCTOR, "The signup was successful"),  # instructors: pre-approved
                (alice_ctx, "alice", "Your information has been sent to the admin"),
            ):
                page = context.pages[0]
                page.goto(f"{hub.base}/hub/signup", timeout=60_000)
                page.fill("#username_input", user)
                page.fill("#password_input", password)
                page.fill("#password_confirmation_input", password)
                page.click("#signup_submit")
                expect(page.get_by_text(said)).to_be_visible(timeout=30_000)

            alice = _sign_in(alice_ctx, hub.base, "alice", password)
            expect(alice.get_by_text("has not been authorized")).to_be_visible(timeout=30_000)

            ivy = _sign_in(ivy_ctx, hub.base, INSTRUCTOR, password)
            ivy.wait_for_url(f"{hub.base}/services/{SERVICE}/**", timeout=120_000)
            ivy.goto(f"{hub.base}/hub/authorize")
            row = ivy.get_by_role("row", name="alice")
            row.get_by_role("button", name="Authorize", exact=True).click()  # <a role=button>
            expect(ivy.get_by_role("row", name="alice")).to_contain_text("Yes", timeout=30_000)

            alice = _sign_in(alice_ctx, hub.base, "alice", password)
            alice.wait_for_url(
                f"{hub.base}/user/alice/voila/render/00_start_here.ipynb", timeout=120_000
            )
            expect(alice.locator(".kd-trainee-id")).to_have_text(
                "Signed in as alice", timeout=120_000
            )
            response = alice.goto(f"{hub.base}/services/{SERVICE}/")
            assert response.status == 403
            for context in (ivy_ctx, alice_ctx):
                context.close()
    finally:
        hub.stop()
    assert "Using Authenticator: nativeauthenticator.nativeauthenticator.NativeAuthenticator" in (
        hub.log()
    )
