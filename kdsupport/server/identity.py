"""Who the trainee is: one function decides it for every page.

* Under JupyterHub (``make course``), each trainee's server runs with ``JUPYTERHUB_USER`` set
  by the hub's spawner to the signed-in user's name, and the pages' kernels inherit it. That
  name is the trainee id: there is no id box, and a ``?trainee=`` parameter in the URL is
  ignored, so nobody answers in another trainee's name or reads another trainee's progress.
* Without a hub (``make app``, JupyterLab, papermill), the id is what the page was given: the
  ``?trainee=`` parameter or the notebook's ``trainee_id`` parameter, or what the trainee types.

The instructor service (a hub *service*, not a user's server) has no ``JUPYTERHUB_USER``: it
reads every trainee's attempts, and only the hub group ``instructors`` can reach it.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import os

__all__ = ["hub_user", "trainee_id", "HUB_USER_VARIABLE"]

#: The variable JupyterHub's spawner sets to the name of the user whose server this is.
HUB_USER_VARIABLE = "JUPYTERHUB_USER"


def hub_user() -> str | None:
    """The hub user this server belongs to; None when not running under JupyterHub."""
    name = os.environ.get(HUB_USER_VARIABLE, "").strip()
    return name or None


def trainee_id(requested: str | None = "") -> str:
    """The trainee id of this page: the hub user under the hub, else ``requested`` (stripped).

    Every page that records or reads a trainee's attempts asks this function, so that under
    the hub nothing a browser sends (a URL parameter, a typed id) can change whose record it is.
    """
    user = hub_user()
    if user is not None:
        return user
    return (requested or "").strip()
