"""JupyterHub configuration of the kdsupport course server (``make course``).

One machine, one OS user serving everyone, listening on 127.0.0.1 only:

* each trainee who signs in gets their own course server: ``python -m kdsupport.app --hub``
  (the Voilà course, never JupyterLab), spawned by ``SimpleLocalProcessSpawner`` at
  ``/user/<name>/``. The hub user name is the trainee id;
* the instructor pages (dashboard and exports, case conference, cohort outcomes) are the
  managed service ``kdsupport-instructor`` at ``/services/kdsupport-instructor/``; the role
  ``kdsupport-instructor`` grants ``access:services!service=kdsupport-instructor`` to the hub
  group ``instructors`` only (RBAC), so a trainee gets 403 there;
* every server and the service write to one attempt log, ``KDSUPPORT_ATTEMPTS`` (a SQLite file
  under the course folder by default, or ``postgresql://...``).

Settings, all from the environment (see deploy/jupyterhub/README.md):

==================================  ===========================================================
``KDSUPPORT_HUB_AUTH``              ``native`` (default): NativeAuthenticator, sign-up approved by
                                    an instructor; ``oauth``: a clinic's identity provider
                                    (GenericOAuthenticator; documented, not run here);
                                    ``dummy``: tests only, refused unless
                                    ``KDSUPPORT_HUB_TESTING=1``
``KDSUPPORT_INSTRUCTORS``           user names (comma-separated) put in the group ``instructors``
                                    and made hub admins, who approve sign-ups
``KDSUPPORT_HUB_ADMINS``            hub admins, if not the instructors
``KDSUPPORT_COURSE_DIR``            the hub's state: database, cookie secret, trainees' working
                                    folders, the attempt log, exports (default ``var/course``)
``KDSUPPORT_COURSE_PORT``           the course's port on 127.0.0.1 (8000)
``KDSUPPORT_HUB_API_PORT``          the hub's internal API port (8081)
``KDSUPPORT_PROXY_API_PORT``        the proxy's internal API port (8001)
``KDSUPPORT_INSTRUCTOR_PORT``       the instructor service's internal port (8869)
``KDSUPPORT_ATTEMPTS``              the shared attempt log: a path or ``postgresql://...``
``KDSUPPORT_EXPORT_DIR``            where the instructor service writes exports
``KDSUPPORT_ALLOW_HOSTS``           public host names (comma-separated) of a reverse proxy in
                                    front of the hub, besides localhost
``KDSUPPORT_TRAINEE_MAX_KERNELS``   open pages per trainee at once (4)
``KDSUPPORT_CHP``                   the configurable-http-proxy command (default: the one
                                    ``make course`` installs in .venv/node, else PATH)
==================================  ===========================================================

For training with synthetic patients; not a medical device.
"""

# ruff: noqa: F821 - JupyterHub runs this file with `c` and `get_config` defined

from __future__ import annotations

import os
import sys
from pathlib import Path

c = get_config()

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "kdsupport-instructor"  # kdsupport.server.hub.INSTRUCTOR_SERVICE
INSTRUCTORS_GROUP = "instructors"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _names(name: str) -> list[str]:
    return sorted({n.strip() for n in os.environ.get(name, "").split(",") if n.strip()})


def _port(name: str, default: int) -> int:
    text = _env(name, str(default))
    if not text.isdigit() or not 0 < int(text) < 65536:
        _refuse(f"{name} must be a port number, got {text!r}")
    return int(text)


def _refuse(reason: str) -> None:
    """Stop before the hub starts (an exception here would only be logged by traitlets)."""
    print(f"kdsupport course: {reason}", file=sys.stderr, flush=True)
    raise SystemExit(2)


# ---------------------------------------------------------------- where and what
COURSE_DIR = Path(_env("KDSUPPORT_COURSE_DIR", str(ROOT / "var" / "course"))).resolve()
COURSE_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
PORT = _port("KDSUPPORT_COURSE_PORT", 8000)
ATTEMPTS = _env("KDSUPPORT_ATTEMPTS", str(COURSE_DIR / "attempts.sqlite"))
if "://" not in ATTEMPTS:
    ATTEMPTS = str(Path(ATTEMPTS).resolve())  # the same file from every server's folder
EXPORT_DIR = str(Path(_env("KDSUPPORT_EXPORT_DIR", str(COURSE_DIR / "exports"))).resolve())
ALLOW_HOSTS = [f"--allow-host={h}" for h in _names("KDSUPPORT_ALLOW_HOSTS")]
INSTRUCTORS = _names("KDSUPPORT_INSTRUCTORS")
ADMINS = _names("KDSUPPORT_HUB_ADMINS") or INSTRUCTORS

# Only 127.0.0.1: a clinic puts a TLS reverse proxy in front (README), never the hub itself.
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{_port('KDSUPPORT_HUB_API_PORT', 8081)}"
c.JupyterHub.db_url = f"sqlite:///{COURSE_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(COURSE_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(COURSE_DIR / "jupyterhub.pid")
c.JupyterHub.allow_named_servers = False
c.JupyterHub.shutdown_on_logout = True  # a trainee's server stops when they sign out
c.JupyterHub.template_vars = {
    "announcement_login": (
        "kdsupport course: clinical training with synthetic patients only. "
        "Not a medical device; not a REMS certification."
    ),
}

# ---------------------------------------------------------------- the proxy (from npm)
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port('KDSUPPORT_PROXY_API_PORT', 8001)}"
c.ConfigurableHTTPProxy.pid_file = str(COURSE_DIR / "jupyterhub-proxy.pid")
_local_chp = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
if _env("KDSUPPORT_CHP"):
    c.ConfigurableHTTPProxy.command = [_env("KDSUPPORT_CHP")]
elif _local_chp.exists():
    c.ConfigurableHTTPProxy.command = [str(_local_chp)]

# ---------------------------------------------------------------- who signs in
AUTH = _env("KDSUPPORT_HUB_AUTH", "native").lower()
c.Authenticator.admin_users = set(ADMINS)
if AUTH == "native":
    # Anyone may ask for an account at /hub/signup; an instructor (a hub admin) approves it at
    # /hub/authorize before it can sign in.
    import jupyterhub

    if int(jupyterhub.__version__.split(".")[0]) >= 6:
        # NativeAuthenticator 1.3 still times logins with statsd, which JupyterHub 6 removed:
        # every sign-in would fail with a 500.
        _refuse(
            "NativeAuthenticator 1.3 does not work with JupyterHub "
            f"{jupyterhub.__version__}; install jupyterhub>=5.2,<6"
        )
    c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 600
    c.Authenticator.allow_all = True  # every *approved* account
elif AUTH == "oauth":
    # A clinic's identity provider (OpenID Connect). Documented; not run here. The client is
    # registered at the provider with the callback https://<course host>/hub/oauth_callback.
    # OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CALLBACK_URL, OAUTH2_AUTHORIZE_URL,
    # OAUTH2_TOKEN_URL and OAUTH2_USERDATA_URL are read by OAuthenticator itself.
    try:
        import oauthenticator  # noqa: F401
    except ImportError:
        _refuse("KDSUPPORT_HUB_AUTH=oauth needs OAuthenticator: pip install oauthenticator")
    idp_instructors = _env("KDSUPPORT_OAUTH_INSTRUCTORS_GROUP", INSTRUCTORS_GROUP)
    groups_claim = _env("KDSUPPORT_OAUTH_GROUPS_CLAIM", "groups")
    allowed = set(_names("KDSUPPORT_OAUTH_ALLOWED_GROUPS"))

    def _hub_groups(auth_state: dict) -> list[str]:
        """The provider's groups, its instructors' group named ``instructors`` in the hub."""
        claimed = (auth_state.get("oauth_user") or {}).get(groups_claim) or []
        return [INSTRUCTORS_GROUP if g == idp_instructors else str(g) for g in claimed]

    c.JupyterHub.authenticator_class = "generic-oauth"
    c.GenericOAuthenticator.login_service = _env("KDSUPPORT_OAUTH_LOGIN_SERVICE", "clinic sign-in")
    c.GenericOAuthenticator.scope = ["openid", "profile", "email"]
    c.GenericOAuthenticator.username_claim = _env("KDSUPPORT_OAUTH_USERNAME_CLAIM", "email")
    c.GenericOAuthenticator.manage_groups = True  # before the group settings, which need it
    c.GenericOAuthenticator.auth_state_groups_key = _hub_groups
    if allowed:
        c.GenericOAuthenticator.allowed_groups = allowed | {INSTRUCTORS_GROUP}
    else:
        c.GenericOAuthenticator.allow_all = True  # everyone the provider signs in
elif AUTH == "dummy":
    # Tests only: any user name with one shared password.
    if _env("KDSUPPORT_HUB_TESTING") != "1":
        _refuse(
            "KDSUPPORT_HUB_AUTH=dummy signs anyone in: it is for tests, and needs "
            "KDSUPPORT_HUB_TESTING=1"
        )
    if not _env("KDSUPPORT_HUB_TEST_PASSWORD"):
        _refuse("KDSUPPORT_HUB_AUTH=dummy needs KDSUPPORT_HUB_TEST_PASSWORD")
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = _env("KDSUPPORT_HUB_TEST_PASSWORD")
    c.Authenticator.allow_all = True
else:
    _refuse(f"KDSUPPORT_HUB_AUTH must be native, oauth or dummy, not {AUTH!r}")

# ---------------------------------------------------------------- instructors (RBAC)
if AUTH != "oauth":  # with a provider, its groups are the hub's (manage_groups)
    c.JupyterHub.load_groups = {INSTRUCTORS_GROUP: {"users": INSTRUCTORS}}
c.JupyterHub.load_roles = [
    {
        "name": SERVICE,
        "description": "Open the kdsupport instructor pages: dashboard, exports, conference.",
        "scopes": [f"access:services!service={SERVICE}"],
        "groups": [INSTRUCTORS_GROUP],
    },
]


def _landing(handler: object) -> str:
    """After sign-in: instructors to their dashboard; trainees ("") to their own course."""
    user = getattr(handler, "current_user", None)
    if INSTRUCTORS_GROUP in {g.name for g in getattr(user, "groups", [])}:
        hub_prefix = str(getattr(getattr(handler, "hub", None), "base_url", "/hub/"))
        return hub_prefix[: -len("hub/")] + f"services/{SERVICE}/"
    return ""


c.JupyterHub.default_url = _landing

# ---------------------------------------------------------------- each trainee's course
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(COURSE_DIR / "home" / "{username}")
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [sys.executable, "-m", "kdsupport.app", "--hub"]
c.Spawner.args = [
    f"--max-kernels={_port('KDSUPPORT_TRAINEE_MAX_KERNELS', 4)}",
    *ALLOW_HOSTS,
]
c.Spawner.environment = {"KDSUPPORT_ATTEMPTS": ATTEMPTS}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# ---------------------------------------------------------------- the instructor service
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "display": True,
        "info": {"description": "Instructor dashboard, exports, case conference, cohort."},
        "url": f"http://127.0.0.1:{_port('KDSUPPORT_INSTRUCTOR_PORT', 8869)}",
        "command": [
            sys.executable,
            "-m",
            "kdsupport.app",
            "--role=instructor",
            "--hub",
            *ALLOW_HOSTS,
        ],
        "cwd": str(COURSE_DIR),
        "environment": {"KDSUPPORT_ATTEMPTS": ATTEMPTS, "KDSUPPORT_EXPORT_DIR": EXPORT_DIR},
        "oauth_no_confirm": True,
    },
]
