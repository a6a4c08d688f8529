"""Voilà wired to the request guard and the capped kernel manager.

:func:`voila_class` returns a Voilà application class whose Tornado application checks every
request with a :class:`~kdsupport.server.guard.RequestGuard` before a handler sees it, whose
root URL opens the app's start page, and whose kernels are managed by
:class:`~kdsupport.server.kernels.CappedKernelManager`.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import tempfile
from typing import Any

import tornado.web

from kdsupport.server.guard import Refusal, RequestGuard
from kdsupport.server.hub import (
    SECRET_VARIABLES,
    HubSettings,
    authorizer_class,
    identity_provider_class,
)

__all__ = ["voila_class", "GuardedApplication", "SECURITY_HEADERS", "CSP"]

# Sent with every response: the page may load and connect only to this app (so nothing is fetched
# from a CDN and nothing leaks elsewhere), no other site may frame it, no referrer leaks, no MIME
# sniffing. Voilà and ipywidgets need inline scripts and eval; anywidget (the walkthrough's
# question card) imports its module from a blob: URL made by a script already on the page.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class RefusalHandler(tornado.web.RequestHandler):
    """Answers a refused request with its status and a one-line reason (nothing else runs)."""

    def initialize(self, refusal: Refusal) -> None:  # noqa: D102
        self.refusal = refusal

    def prepare(self) -> None:  # noqa: D102
        self.set_status(self.refusal.status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.finish(f"{self.refusal.status}: {self.refusal.reason}\n")


class GuardedApplication(tornado.web.Application):
    """A Tornado application that asks the guard before it routes any request."""

    def __init__(self, guard: RequestGuard, *args: Any, **kwargs: Any):
        self.guard = guard
        super().__init__(*args, **kwargs)

    def find_handler(self, request: Any, **kwargs: Any) -> Any:  # noqa: D102
        refusal = self.guard.check(request.method or "", request.path, request.headers)
        if refusal is not None:
            return self.get_handler_delegate(request, RefusalHandler, {"refusal": refusal})
        return super().find_handler(request, **kwargs)


def voila_class(guard: RequestGuard, start_page: str, hub: HubSettings | None = None) -> type[Any]:
    """A Voilà application class guarded by ``guard`` whose root opens ``start_page``.

    With ``hub`` (:mod:`kdsupport.server.hub`), users sign in through JupyterHub: the hub's
    identity provider and authorizer replace Voilà's token, its sign-in routes are served under
    the app's prefix, and the hub API token is kept from the kernels.
    """
    import os

    from jupyter_server.utils import url_path_join
    from tornado.web import RedirectHandler
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class PageHandler(TornadoVoilaHandler):
        """Voilà's page handler, which also sets the ``_xsrf`` cookie with the page.

        When a tab closes, the page sends a beacon to ``/voila/api/shutdown/<kernel>`` carrying
        the ``_xsrf`` cookie's value. Voilà never set that cookie, so the shutdown was refused
        (403) and every closed page left its kernel running until the idle culler, filling the
        kernel cap. Reading ``xsrf_token`` sets the cookie (same-site, this origin only).
        """

        async def get(self, path: str | None = None) -> Any:  # noqa: D102
            self.xsrf_token  # noqa: B018 - the property sets the cookie
            return await super().get(path)

    class GuardedVoila(Voila):
        """Voilà behind the request guard, opening at the app's start page."""

        def init_handlers(self) -> list[Any]:  # noqa: D102
            handlers = [
                (h[0], PageHandler, *h[2:]) if h[1] is TornadoVoilaHandler else h
                for h in super().init_handlers()
            ]
            # Voilà adds its identity provider's routes (the hub's oauth_callback and logout)
            # without the prefix the app is served under
            handlers = [
                h
                if h[0].startswith(self.server_url)
                else (url_path_join(self.server_url, h[0]), *h[1:])
                for h in handlers
            ]
            home = url_path_join(self.server_url, "/voila/render/", start_page)
            root = url_path_join(self.server_url, "/?")
            return [(root, RedirectHandler, {"url": home, "permanent": False}), *handlers]

        def init_settings(self) -> dict[str, Any]:  # noqa: D102
            if hub is not None:
                self.identity_provider_class = identity_provider_class(hub)
                self.authorizer_class = authorizer_class()
            settings: dict[str, Any] = super().init_settings()
            if hub is not None:
                # read once by the hub client, then out of the environment kernels inherit
                self.identity_provider.hub_auth.api_token  # noqa: B018 - reads it now
                for name in SECRET_VARIABLES:
                    os.environ.pop(name, None)
            return settings

        def start(self) -> None:
            """Voilà's own start, with the guarded Tornado application."""
            self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
            settings = self.init_settings()
            self.app = GuardedApplication(guard, **settings)
            self.app.settings.update(self.tornado_settings)
            # Defence in depth behind the guard: Jupyter's own host check and page headers.
            self.app.settings.update(
                allow_remote_access=False,
                local_hostnames=["localhost", *sorted(guard.hosts)],
                headers={**self.app.settings.get("headers", {}), **SECURITY_HEADERS},
            )
            self.app.add_handlers(".*$", self.init_handlers())
            self.listen()

    return GuardedVoila
