"""The apps behind JupyterHub: a trainee's own course server, or the instructor service.

``make course`` starts JupyterHub with ``deploy/jupyterhub/jupyterhub_config.py``. The hub
signs people in and then runs, with the settings it passes in ``JUPYTERHUB_*`` variables:

* for each trainee, ``python -m kdsupport.app --hub``: the course (Voilà, the trainee role)
  at ``/user/<name>/``, as that trainee's single-user server. Only its owner may use it
  (hub OAuth, then the owner check below): the hub user *is* the trainee id
  (:mod:`kdsupport.server.identity`), so nobody answers in another's name, not even a hub
  admin;
* once, ``python -m kdsupport.app --role instructor --hub``: the instructor pages as the hub
  *service* ``kdsupport-instructor`` at ``/services/kdsupport-instructor/``. Hub OAuth lets in
  only users holding the scope ``access:services!service=kdsupport-instructor``, which the
  hub's RBAC grants to the group ``instructors``; anyone else gets 403.

Behind the hub the apps keep everything :mod:`kdsupport.app` does alone (the request guard,
the kernel cap and culler, the Voilà template) and add:

* sign-in through the hub: jupyterhub's own identity provider for Jupyter servers, reused
  with Voilà, which runs on jupyter_server's identity API;
* kernels that never inherit the server's hub API token.

As alone, Voilà passes from a page's websocket to its kernel only the messages widgets need
(no ``execute_request``), so a page does only what its notebook does; tests/test_hub.py checks
it behind the hub.

jupyterhub is imported only here, and only when ``--hub`` is given, so the package and
``make app`` do not need it.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "HubSettings",
    "hub_settings",
    "identity_provider_class",
    "authorizer_class",
    "SECRET_VARIABLES",
    "INSTRUCTOR_SERVICE",
]

#: The name of the instructor service in the hub's configuration (and its URL).
INSTRUCTOR_SERVICE = "kdsupport-instructor"

#: The page a signed-in user gets on another trainee's course server (with a 403).
NOT_OWNER = "This course server belongs to another trainee"

#: Variables the server needs and its kernels must not inherit.
SECRET_VARIABLES = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")

_NEEDED = (
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_SERVICE_URL",
)


@dataclass(frozen=True)
class HubSettings:
    """Where and as what the app runs behind the hub, read from the hub's variables.

    Attributes
    ----------
    role
        ``trainee`` (a user's server) or ``instructor`` (the service).
    prefix
        The URL prefix the hub's proxy routes to this app (``/user/alice/``).
    host, port
        Where to listen (from ``JUPYTERHUB_SERVICE_URL``).
    owner
        The hub user a trainee server belongs to; None for the service.
    service
        The service's name; None for a trainee server.
    """

    role: str
    prefix: str
    host: str
    port: int
    owner: str | None
    service: str | None


def hub_settings(role: str, environ: Mapping[str, str] | None = None) -> HubSettings:
    """The settings the hub passed to this process for ``role``.

    Raises
    ------
    ValueError
        Not started by a hub, or started for the other role (a trainee server carries
        ``JUPYTERHUB_USER``, the service ``JUPYTERHUB_SERVICE_NAME``), with a one-line reason.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in _NEEDED if not env.get(name)]
    if missing:
        raise ValueError(
            f"--hub needs the variables JupyterHub sets ({', '.join(missing)} missing): start "
            "it from the hub (make course), or without --hub"
        )
    owner = env.get("JUPYTERHUB_USER") or None
    service = env.get("JUPYTERHUB_SERVICE_NAME") or None
    if role == "trainee" and (owner is None or service is not None):
        raise ValueError("a trainee's course server is a hub user's server (JUPYTERHUB_USER)")
    if role == "instructor" and (service is None or owner is not None):
        raise ValueError(
            "the instructor pages run as a hub service (JUPYTERHUB_SERVICE_NAME), never in a "
            "user's server"
        )
    url = urlsplit(env["JUPYTERHUB_SERVICE_URL"])
    if url.scheme != "http" or not url.hostname or not url.port:
        raise ValueError(f"JUPYTERHUB_SERVICE_URL is not http://host:port/: {url.geturl()!r}")
    prefix = "/" + env["JUPYTERHUB_SERVICE_PREFIX"].strip("/") + "/"
    return HubSettings(role, prefix, url.hostname, url.port, owner, service)


def access_scopes(environ: Mapping[str, str] | None = None) -> list[str]:
    """The scopes the hub requires to reach this app (``JUPYTERHUB_OAUTH_ACCESS_SCOPES``)."""
    env = os.environ if environ is None else environ
    try:
        scopes = json.loads(env.get("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "[]"))
    except ValueError:
        return []
    return [str(s) for s in scopes] if isinstance(scopes, list) else []


def _extension() -> Any:
    """The module of JupyterHub's identity provider for Jupyter servers (imported on demand)."""
    return importlib.import_module("jupyterhub.singleuser.extension")


def identity_provider_class(settings: HubSettings) -> type[Any]:
    """The identity provider of a Voilà app behind the hub (hub OAuth, scopes, owner).

    jupyterhub's provider signs users in with the hub and lets in only those holding the app's
    access scopes. A trainee's server further lets in its owner only: an admin's or another
    user's scopes do not make them the trainee.
    """
    base = _extension().JupyterHubIdentityProvider
    owner = settings.owner

    class KdsupportHubIdentityProvider(base):  # type: ignore[misc,valid-type]  # loaded at run time
        """Hub sign-in; for a trainee's server, its owner only."""

        def __init__(self, **kwargs: Any):
            kwargs.pop("token", None)  # the hub's provider has no token of its own to set
            super().__init__(**kwargs)

        async def get_user(self, handler: Any) -> Any:
            user = await super().get_user(handler)
            if user is None or owner is None:
                return user
            model = getattr(user, "hub_user", {}) or {}
            if model.get("kind", "user") == "user" and model.get("name") == owner:
                return user
            self.log.warning("Not allowing %s on the course server of %s", model.get("name"), owner)
            name = str(model.get("name", "?"))

            def refuse(*args: Any, **kwargs: Any) -> None:
                from tornado.web import HTTPError

                raise HTTPError(403, f"course server of {owner}, not {name}", reason=NOT_OWNER)

            handler.redirect = refuse
            handler._jupyterhub_user = None
            return None

    return KdsupportHubIdentityProvider


def authorizer_class() -> type[Any]:
    """JupyterHub's authorizer: every action needs the app's access scopes as well."""
    authorizer: type[Any] = _extension().JupyterHubAuthorizer
    return authorizer
