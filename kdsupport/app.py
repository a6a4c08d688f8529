"""Start the trainee app or the instructor app (Voilà, code hidden, behind the request guard).

``python -m kdsupport.app`` (what ``make app`` runs) serves the **course** in
``notebooks/course`` to trainees, opening at ``00_start_here``. Only the course pages are
served: the instructor dashboard, the case-conference and the cohort pages are not part of it.

``python -m kdsupport.app --role instructor`` (what ``make instructor`` runs) serves
``notebooks/instructor`` on its own port, protected by a token printed at start-up. Exports go
to a folder chosen here (``--export-dir``, default ``var/exports``), never by a web page.

Both apps:

* listen on 127.0.0.1 unless told otherwise; binding to another interface exposes the app to
  that network, and trainee identity is then only what a trainee types (real per-trainee
  identity needs a course server with sign-in);
* answer only requests for ``localhost``, loopback addresses and ``--allow-host`` names, from
  their own origin (:mod:`kdsupport.server.guard`);
* cap live kernels and cull idle ones (:mod:`kdsupport.server.kernels`);
* refuse to start when the attempt log cannot be used (a damaged file, another program's
  database, a different schema), with one line saying why.

``--hub`` runs either app behind JupyterHub (``make course``; :mod:`kdsupport.server.hub`): the
hub starts a trainee's course server at ``/user/<name>/``, where the trainee id is the hub user,
and the instructor pages as the hub service ``kdsupport-instructor``, which only the hub group
``instructors`` can reach. Address, port and sign-in then come from the hub; there is no token.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import signal
import sys
from pathlib import Path

__all__ = ["main", "ROLES", "pages_of"]

ROOT = Path(__file__).resolve().parents[1]
# kdsupport's Voila template lives in the package, in Jupyter's data-directory layout.
TEMPLATES = Path(__file__).resolve().parent / "server" / "share" / "jupyter"
ROLES = {
    "trainee": ("course", "00_start_here", 8866),
    "instructor": ("instructor", "08_instructor_dashboard", 8867),
}


def pages_of(folder: Path) -> list[str]:
    """The notebook pages in a folder (names without ``.ipynb``)."""
    return sorted(p.stem for p in folder.glob("*.ipynb"))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kdsupport.app",
        description="Serve the kdsupport course (trainee) or the instructor pages (Voilà).",
    )
    p.add_argument("--role", choices=sorted(ROLES), default="trainee", help="which app")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (trainee 8866, instructor 8867)")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the app may be reached under besides localhost (repeatable)",
    )
    p.add_argument("--attempts", default=None, help="attempt log (default var/attempts.sqlite)")
    p.add_argument(
        "--export-dir", default=None, help="instructor exports folder (default var/exports)"
    )
    p.add_argument("--max-kernels", type=int, default=16, help="live kernels at most (16)")
    p.add_argument(
        "--idle-minutes",
        type=float,
        default=45,
        help="shut down a page's kernel after this long without activity (45)",
    )
    p.add_argument(
        "--unconnected-seconds",
        type=float,
        default=60,
        help="shut down a kernel no browser connected to after this long (60)",
    )
    p.add_argument(
        "--hub",
        action="store_true",
        help="run behind JupyterHub (the hub starts it: make course); sign-in through the hub",
    )
    p.add_argument("--notebooks", default=None, help=argparse.SUPPRESS)  # tests only
    return p


def _check_store(location: str) -> str | None:
    """None when the attempt log can be used, else a one-line reason."""
    from kdsupport.errors import KdsupportError
    from kdsupport.training.attempts import open_store

    try:
        store = open_store(location)
        try:
            store.check()
        finally:
            store.close()
    except KdsupportError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Start the app (blocks until stopped with Ctrl-C); returns the exit status."""
    from kdsupport.render.escaping import one_line
    from kdsupport.server.guard import RequestGuard
    from kdsupport.server.hub import HubSettings, hub_settings
    from kdsupport.server.voila import voila_class
    from kdsupport.training.attempts import default_store_location, display_location

    args = _parser().parse_args(argv)
    folder_name, start, default_port = ROLES[args.role]
    port = args.port or default_port
    notebooks = Path(args.notebooks) if args.notebooks else ROOT / "notebooks" / folder_name
    problems = []
    hub: HubSettings | None = None
    if args.hub:
        try:
            hub = hub_settings(args.role)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            args.host, port = hub.host, hub.port
    if args.max_kernels < 1:
        problems.append(f"--max-kernels must be >= 1, got {args.max_kernels}")
    if not args.idle_minutes > 0 or not args.unconnected_seconds > 0:
        problems.append("--idle-minutes and --unconnected-seconds must be > 0")
    if not (notebooks / f"{start}.ipynb").is_file():
        problems.append(f"no start page {start}.ipynb in {notebooks}")
    attempts = args.attempts or default_store_location()
    why = _check_store(attempts)
    if why is not None:
        problems.append(f"{why}. Move the file away or choose another with --attempts.")
    if problems:
        for problem in problems:
            print(one_line(f"kdsupport app: {problem}"), file=sys.stderr)
        return 2
    os.environ["KDSUPPORT_ATTEMPTS"] = attempts
    export_dir = (
        args.export_dir or os.environ.get("KDSUPPORT_EXPORT_DIR") or ROOT / "var" / "exports"
    )
    os.environ["KDSUPPORT_EXPORT_DIR"] = str(export_dir)

    prefix = hub.prefix if hub is not None else "/"
    guard = RequestGuard.for_pages(
        pages_of(notebooks), args.allow_host, base_url=prefix, hub=hub is not None
    )
    base = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{port}{prefix}"
    token = ""
    # read once and removed, so that no kernel inherits it
    given_token = os.environ.pop("KDSUPPORT_INSTRUCTOR_TOKEN", "")
    if args.role == "instructor" and hub is None:
        token = given_token or secrets.token_urlsafe(24)
    url = f"{base}voila/render/{start}.ipynb?token={token}" if token else base
    print(f"kdsupport {args.role} app: {url}", flush=True)
    if hub is not None:
        who = f"the course server of {hub.owner}" if hub.owner else f"the service {hub.service}"
        print(f"  behind JupyterHub as {who}: sign-in through the hub", flush=True)
    print(f"  attempts are logged to {display_location(attempts)}", flush=True)
    if args.role == "instructor":
        print(f"  exports are written to {export_dir}", flush=True)
        if hub is None:
            print("  keep the token to yourself: it opens every trainee's answers", flush=True)
    if not _loopback(args.host) and hub is None:  # behind the hub, sign-in guards it
        print(
            f"  WARNING: listening on {args.host} exposes the app to that network. Trainee "
            "identity is only what a trainee types; use a course server with sign-in for real "
            "identities.",
            flush=True,
        )
    manager = "kdsupport.server.kernels.CappedKernelManager"
    # our Voila template (no CDN, a <main> landmark, focus and reflow styles) comes first
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(TEMPLATES), os.environ.get("JUPYTER_PATH", "")) if p
    )
    voila_argv = [
        str(notebooks),
        f"--Voila.base_url={prefix}",
        "--template=kdsupport",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--no-browser",
        f"--Voila.ip={args.host}",
        f"--Voila.token={token}",
        f"--VoilaConfiguration.multi_kernel_manager_class={manager}",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--CappedKernelManager.max_kernels={args.max_kernels}",
        f"--CappedKernelManager.unconnected_grace_s={args.unconnected_seconds}",
        f"--CappedKernelManager.cull_idle_timeout={int(args.idle_minutes * 60)}",
        f"--CappedKernelManager.cull_interval={max(5, min(30, int(args.unconnected_seconds / 2)))}",
        "--CappedKernelManager.cull_connected=True",
    ]
    app_class = voila_class(guard, f"{start}.ipynb", hub)
    if hub is not None:
        # the hub stops a server with SIGINT; a process started in the background inherits
        # SIGINT ignored, and would then wait for the hub's SIGTERM seconds later
        signal.signal(signal.SIGINT, signal.default_int_handler)
    app_class.launch_instance(argv=voila_argv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
