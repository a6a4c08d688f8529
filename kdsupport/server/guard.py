"""The request guard: every request to the trainee or instructor app passes here first.

A request is answered only when all of these hold (else 403 or 404, with a one-line reason):

* **Host**: the ``Host`` header names ``localhost``, a loopback address or a host name the
  operator configured (``--allow-host``). A DNS-rebinding page reaches the app under its own
  name, so it is refused.
* **Origin**: when a browser sends ``Origin`` (every websocket does), it is the app's own
  origin. A page elsewhere cannot drive a kernel.
* **Cross-site**: a request that the browser marks ``Sec-Fetch-Site: cross-site`` or
  ``same-site`` is answered only when it is a top-level navigation to a page (a link the user
  followed); images, frames, scripts and fetches from other sites are refused, so another site
  cannot start kernels or read anything.
* **Route**: only the pages of the app's role and the assets Voilà needs are served. The trainee
  app serves the course pages; the dashboard, conference and cohort pages exist only in the
  instructor app. File listings, the contents API and arbitrary files are never served.
  Behind JupyterHub every path lies under the app's prefix (``/user/<name>/``,
  ``/services/<name>/``), and the hub's sign-in routes (``oauth_callback``, ``logout``) are
  served too.

The guard is pure (no Tornado objects), so its policy is tested directly; :mod:`.voila`
applies it to every request before Tornado picks a handler.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Refusal", "RequestGuard", "LOCAL_HOSTS"]

LOCAL_HOSTS = frozenset({"localhost"})
_KERNEL = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# What a rendered Voilà page loads besides the page itself.
_ASSETS = (
    r"/voila/static/[A-Za-z0-9_./@-]+",
    r"/voila/templates/[A-Za-z0-9_./@-]+",
    r"/voila/labextensions/[A-Za-z0-9_./@-]+",
    r"/voila/api/themes/[A-Za-z0-9_./@-]*",
    r"/static/[A-Za-z0-9_./@-]+",
    rf"/api/kernels/{_KERNEL}",
    rf"/api/kernels/{_KERNEL}/channels",
    rf"/voila/api/shutdown/{_KERNEL}",
    r"/login",
    r"/favicon\.ico",
)
# What an app behind JupyterHub serves besides: the end of the hub's sign-in, and sign-out.
_HUB_ROUTES = (r"/oauth_callback", r"/logout")
_NAVIGATIONS = {"navigate", "nested-navigate"}


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the HTTP status and a one-line reason."""

    status: int
    reason: str


@dataclass(frozen=True)
class RequestGuard:
    """The policy of one app: its allowed host names, its pages, its base URL.

    Parameters
    ----------
    pages
        The notebook names (without ``.ipynb``) this app may render.
    hosts
        Extra host names the operator allows besides localhost and loopback addresses.
    base_url
        The prefix every path lies under (``/`` alone; ``/user/<name>/`` behind JupyterHub).
    hub
        Whether the app runs behind JupyterHub (its sign-in routes are then served).
    """

    pages: frozenset[str]
    hosts: frozenset[str] = field(default_factory=frozenset)
    base_url: str = "/"
    hub: bool = False

    @classmethod
    def for_pages(
        cls,
        pages: Iterable[str],
        hosts: Iterable[str] = (),
        *,
        base_url: str = "/",
        hub: bool = False,
    ) -> RequestGuard:
        """A guard for these page names and extra host names (case-insensitive)."""
        base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
        hosts = frozenset(h.strip().lower() for h in hosts if h.strip())
        return cls(frozenset(pages), hosts, base, hub)

    def app_path(self, path: str) -> str | None:
        """The path inside the app (``/voila/...``); None when it lies outside the prefix."""
        if self.base_url == "/":
            return path
        if path == self.base_url.rstrip("/"):
            return "/"
        if path.startswith(self.base_url):
            return "/" + path[len(self.base_url) :]
        return None

    # ---------------------------------------------------------------- the parts
    def host_allowed(self, host: str) -> bool:
        """Whether a host name (no port) is localhost, a loopback address or configured."""
        name = host.strip().lower().rstrip(".")
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        if name in LOCAL_HOSTS or name in self.hosts:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    @staticmethod
    def split_host(host_header: str) -> tuple[str, str]:
        """(host, port) of a ``Host`` header value; ('', '') when it is malformed."""
        m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(?::([0-9]{1,5}))?", host_header)
        return (m.group(1), m.group(2) or "") if m else ("", "")

    def route_allowed(self, path: str) -> bool:
        """Whether the app serves this path at all."""
        if path in ("", "/"):
            return True
        m = re.fullmatch(r"/voila/render/([A-Za-z0-9_\-]+)\.ipynb", path)
        if m:
            return m.group(1) in self.pages
        routes = (*_ASSETS, *_HUB_ROUTES) if self.hub else _ASSETS
        return any(re.fullmatch(p, path) for p in routes) and ".." not in path

    # ---------------------------------------------------------------- the decision
    def check(self, method: str, path: str, headers: Mapping[str, str]) -> Refusal | None:
        """None when the request may proceed, else why it is refused."""
        host_header = headers.get("Host", "")
        host, port = self.split_host(host_header)
        if not host or not self.host_allowed(host):
            return Refusal(403, "host not allowed (add it with --allow-host if it is yours)")
        origin = headers.get("Origin")
        if origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host_header.lower():
                return Refusal(403, "cross-origin request refused")
        site = headers.get("Sec-Fetch-Site", "").lower()
        if site in ("cross-site", "same-site"):
            navigation = (
                headers.get("Sec-Fetch-Mode", "").lower() in _NAVIGATIONS
                and headers.get("Sec-Fetch-Dest", "").lower() == "document"
                and method == "GET"
            )
            if not navigation:
                return Refusal(403, "request from another site refused")
        if method not in ("GET", "HEAD", "POST", "DELETE", "OPTIONS"):
            return Refusal(405, "method not allowed")
        inside = self.app_path(path)
        if inside is None or not self.route_allowed(inside):
            return Refusal(404, "not found")
        return None
