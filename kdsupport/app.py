"""The trainee app: Voila serving the course notebooks, code hidden, opening at 00_start_here.

``python -m kdsupport.app [--port N] [--host H] [--attempts PATH]`` (what ``make app`` runs)
starts Voila on the ``notebooks`` directory with the root URL redirected to the course home.
Attempts are logged to ``--attempts`` (default ``var/attempts.sqlite`` next to the notebooks).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main", "START_PAGE"]

START_PAGE = "00_start_here.ipynb"


def _voila_class():  # type: ignore[no-untyped-def]
    from jupyter_server.utils import url_path_join
    from tornado.web import RedirectHandler
    from voila.app import Voila

    class CourseVoila(Voila):
        """Voila whose root URL opens the course home instead of a file listing."""

        def init_handlers(self):  # type: ignore[no-untyped-def]
            handlers = super().init_handlers()
            home = url_path_join(self.server_url, "/voila/render/", START_PAGE)
            return [
                (
                    url_path_join(self.server_url, "/?"),
                    RedirectHandler,
                    {"url": home, "permanent": False},
                ),
                *handlers,
            ]

    return CourseVoila


def main(argv: list[str] | None = None) -> int:
    """Start the trainee app (blocks until stopped with Ctrl-C)."""
    root = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(prog="python -m kdsupport.app", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument(
        "--notebooks", default=str(root / "notebooks"), help="the course notebooks directory"
    )
    p.add_argument(
        "--attempts", default=None, help="attempt log (default var/attempts.sqlite in the checkout)"
    )
    args = p.parse_args(argv)
    attempts = (
        args.attempts
        or os.environ.get("KDSUPPORT_ATTEMPTS")
        or str(root / "var" / "attempts.sqlite")
    )
    Path(attempts).parent.mkdir(parents=True, exist_ok=True)
    os.environ["KDSUPPORT_ATTEMPTS"] = attempts
    print(
        (
            f"kdsupport trainee app: http://{args.host}:{args.port}/  (attempts are logged to "
            f"{attempts})"
        ),
        flush=True,
    )
    app = _voila_class()
    app.launch_instance(
        argv=[args.notebooks, f"--port={args.port}", "--no-browser", f"--Voila.ip={args.host}"]
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
