"""The request guard's policy and the kernel cap, tested without a browser.

The browser tests (test_browser.py) check the same promises end to end in Chromium.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from conftest import ROOT

from kdsupport.app import pages_of
from kdsupport.server.guard import RequestGuard

COURSE = RequestGuard.for_pages(pages_of(ROOT / "notebooks" / "course"), ["course.example.org"])
INSTRUCTOR = RequestGuard.for_pages(pages_of(ROOT / "notebooks" / "instructor"))
KERNEL = "0b0a5a6e-3f3c-4c1e-9c43-2f0e6c1d8a11"


def check(guard, path="/voila/render/00_start_here.ipynb", method="GET", **headers):
    headers.setdefault("Host", "127.0.0.1:8866")
    return guard.check(method, path, {k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8866", "localhost:8866", "[::1]:8866", "127.0.0.2", "course.example.org:443"],
)
def test_local_and_configured_hosts_are_served(host):
    assert check(COURSE, Host=host) is None


@pytest.mark.parametrize(
    "host",
    ["evil.example:8866", "localhost.evil.example", "192.168.1.20:8866", "", "a b", "0.0.0.0"],
)
def test_other_hosts_are_refused_as_dns_rebinding_would_need(host):
    refusal = check(COURSE, Host=host)
    assert refusal is not None and refusal.status == 403 and "host" in refusal.reason


def test_a_foreign_origin_is_refused_even_for_a_websocket():
    path = f"/api/kernels/{KERNEL}/channels"
    assert check(COURSE, path, Origin="http://127.0.0.1:8866") is None
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "null", "file://"):
        refusal = check(COURSE, path, Origin=origin)
        assert refusal is not None and refusal.status == 403, origin


def test_cross_site_requests_are_refused_unless_a_top_level_navigation():
    nav = dict(Sec_Fetch_Site="cross-site", Sec_Fetch_Mode="navigate", Sec_Fetch_Dest="document")
    assert check(COURSE, **nav) is None  # a link the trainee followed
    for dest, mode in (("image", "no-cors"), ("iframe", "navigate"), ("empty", "cors")):
        refusal = check(
            COURSE, Sec_Fetch_Site="cross-site", Sec_Fetch_Mode=mode, Sec_Fetch_Dest=dest
        )
        assert refusal is not None and refusal.status == 403
    assert check(COURSE, Sec_Fetch_Site="same-origin", Sec_Fetch_Dest="empty") is None


def test_each_app_serves_only_its_own_pages():
    for page in ("08_instructor_dashboard", "10_case_conference", "11_cohort_outcomes"):
        path = f"/voila/render/{page}.ipynb"
        assert check(COURSE, path).status == 404
        assert check(INSTRUCTOR, path) is None
    assert check(INSTRUCTOR, "/voila/render/05_case_walkthrough.ipynb").status == 404
    for path in (
        "/logout",  # answered 500 (no static_path in Voila's app): there is nothing to log out of
        "/voila/tree",
        "/voila/tree/",
        "/voila/api/contents/",
        "/voila/files/README.md",
        "/voila/render/../instructor/08_instructor_dashboard.ipynb",
        "/voila/render/instructor/08_instructor_dashboard.ipynb",
        "/voila/static/../../etc/passwd",
        "/api/kernels",
        "/api/sessions",
        "/terminals/1",
    ):
        assert check(COURSE, path).status == 404, path
    for path in (
        "/",
        "/voila/static/voila.js",
        f"/api/kernels/{KERNEL}",
        f"/api/kernels/{KERNEL}/channels",
        f"/voila/api/shutdown/{KERNEL}",
        "/voila/labextensions/@jupyter-widgets/jupyterlab-manager/static/7.js",
    ):
        assert check(COURSE, path) is None, path


class _Kernel:
    def __init__(self, age_s: float, state: str = "idle"):
        self.last_activity = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)
        self.execution_state = state


def test_the_kernel_cap_makes_room_only_by_evicting_stale_unconnected_kernels():
    from tornado import web

    from kdsupport.server.kernels import CappedKernelManager

    km = CappedKernelManager(max_kernels=3, unconnected_grace_s=30)
    shut: list[str] = []
    km._kernels = {
        "connected": _Kernel(500),
        "busy": _Kernel(500, "busy"),
        "stale": _Kernel(120),
    }
    km._kernel_connections = {"connected": 1, "busy": 0, "stale": 0}
    km.list_kernel_ids = lambda: list(km._kernels)

    async def shutdown(kernel_id, *a, **kw):
        shut.append(kernel_id)
        km._kernels.pop(kernel_id)

    km.shutdown_kernel = shutdown

    async def started(*a, **kw):
        km._kernels["new"] = _Kernel(0)
        km._kernel_connections["new"] = 0
        return "new"

    import jupyter_server.services.kernels.kernelmanager as jk

    original = jk.AsyncMappingKernelManager.start_kernel
    jk.AsyncMappingKernelManager.start_kernel = started
    try:
        assert asyncio.run(km.start_kernel()) == "new" and shut == ["stale"]
        with pytest.raises(web.HTTPError) as info:  # nothing stale left: the page gets 503
            asyncio.run(km.start_kernel())
        assert info.value.status_code == 503 and len(km._kernels) == 3
    finally:
        jk.AsyncMappingKernelManager.start_kernel = original


def test_app_options_are_checked_before_anything_starts(capsys, tmp_path):
    from kdsupport.app import main

    assert main(["--max-kernels", "0", "--attempts", str(tmp_path / "a.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "--max-kernels must be >= 1" in err and "Traceback" not in err
