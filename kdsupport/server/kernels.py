"""Kernels for the apps: a cap on how many live at once, and a culler for idle ones.

Each page a browser opens starts a Python kernel of 60-140 MB. Without limits, anyone who can
send GET requests could start kernels until the machine runs out of memory. This manager:

* refuses to start a kernel beyond :attr:`CappedKernelManager.max_kernels` live ones (the page
  gets "503: the course server is busy; try again in a minute"), after first shutting down the
  oldest kernel that no browser ever connected to within ``unconnected_grace_s``;
* culls kernels that no browser is connected to once they have been idle for
  ``unconnected_grace_s`` (a page load whose browser went away, or a closed tab);
* culls every kernel idle for longer than ``cull_idle_timeout`` (set by :mod:`kdsupport.app`),
  even with a browser connected.

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from jupyter_client.connect import ConnectionFileMixin
from jupyter_client.manager import AsyncKernelManager
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from tornado import web
from traitlets import Float, Integer, TraitError, default, validate

__all__ = ["CappedKernelManager", "IPCKernelManager", "IPCServerKernelManager"]

#: The one-line reason a page gets with its 503 when the kernel cap is reached.
BUSY_REASON = "The course server is busy (too many open pages); try again in a minute"

if TYPE_CHECKING:
    # The mixin is only ever combined with an AsyncKernelManager; typing it as one lets mypy
    # check its calls to and overrides of that class (at run time its base is the mixin).
    _IPCFilesBase = AsyncKernelManager
else:
    _IPCFilesBase = ConnectionFileMixin


class _PrivateIPCFiles(_IPCFilesBase):
    """A kernel whose connection file and IPC sockets live in a private temporary folder.

    jupyter_client names IPC sockets after the connection file, and without one it uses the
    *relative* path ``kernel-ipc-N`` in the kernel's working folder, choosing N by looking for
    a free name first. Two kernels started at once in the same folder (parallel
    ``kdsupport conference`` runs) then pick the same N and replace each other's sockets, and
    the socket files land in the source tree. Here every kernel gets its own folder made by
    :func:`tempfile.mkdtemp` (mode 0700), so kernels never share a socket name; the folder is
    removed when the kernel's resources are cleaned up.
    """

    _private_dir: str | None = None

    def _make_private_file(self, name: str) -> str:
        if self._private_dir is None:
            self._private_dir = tempfile.mkdtemp(prefix="kdsupport-kernel-")
        return os.path.join(self._private_dir, name)

    @default("connection_file")
    def _default_private_connection_file(self) -> str:
        return self._make_private_file("kernel.json")

    @validate("connection_file")
    def _absolute_connection_file(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value and not os.path.isabs(value):  # a relative name would share the cwd
            return self._make_private_file(os.path.basename(value))
        return value

    def _remove_private_dir(self) -> None:
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_private_dir()

    cleanup_resources = _async_cleanup_resources


class IPCKernelManager(_PrivateIPCFiles, AsyncKernelManager):
    """A kernel reached over local (IPC) sockets instead of TCP ports (papermill runs).

    No port is opened on the machine, and the kernel does not warn on every start that its
    TCP traffic is unencrypted. Its sockets live in a private temporary folder (see
    :class:`_PrivateIPCFiles`), so parallel runs never collide.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


class IPCServerKernelManager(_PrivateIPCFiles, ServerKernelManager):
    """The apps' per-kernel manager, over IPC sockets (see :class:`IPCKernelManager`).

    The app's mapping manager names each connection file after the kernel id in Voilà's own
    temporary folder (an absolute path), so server kernels already have distinct socket
    names; a relative name is moved into a private folder all the same.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _trait(kernel: Any, name: str) -> Any:
    """A kernel's attribute, or None while it cannot be read (a kernel that is starting)."""
    try:
        return getattr(kernel, name, None)
    except (TraitError, AttributeError, KeyError):
        return None


class CappedKernelManager(AsyncMappingKernelManager):
    """A mapping kernel manager with a cap on live kernels and a culler for unconnected ones."""

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> str:
        return "kdsupport.server.kernels.IPCServerKernelManager"

    max_kernels = Integer(
        8, config=True, help="Most kernels alive at once; a page beyond the cap gets 503."
    )
    unconnected_grace_s = Float(
        60.0,
        config=True,
        help="Seconds a kernel may live with no browser connected before it is shut down.",
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._starting = 0
        self._evicting: set[str] = set()

    def live_kernels(self) -> int:
        """Kernels running or starting."""
        return len(self.list_kernel_ids()) + self._starting

    def _unconnected_for(self, kernel_id: str) -> float | None:
        """Seconds since a never-connected, idle kernel was last active; None otherwise.

        A kernel that is still starting may not have its activity traits yet (reading them
        raises :class:`~traitlets.TraitError`); it counts as just started (0 s), so it is
        never evicted and never makes a page fail.
        """
        if self._kernel_connections.get(kernel_id, 0) or kernel_id in self._evicting:
            return None
        kernel = self._kernels.get(kernel_id)
        if kernel is None or _trait(kernel, "execution_state") == "busy":
            return None
        last = _trait(kernel, "last_activity")
        if not isinstance(last, dt.datetime):
            return 0.0
        return (_now() - last).total_seconds()

    async def _evict_one_unconnected(self) -> bool:
        candidates = []
        for kernel_id in self.list_kernel_ids():
            idle = self._unconnected_for(kernel_id)
            if idle is not None and idle > self.unconnected_grace_s:
                candidates.append((idle, kernel_id))
        if not candidates:
            return False
        _, oldest = max(candidates)
        self.log.warning("Kernel cap reached: shutting down unconnected kernel %s", oldest)
        self._evicting.add(oldest)  # a concurrent page load must not pick the same kernel
        try:
            await self.shutdown_kernel(oldest)
        except Exception as exc:  # noqa: BLE001 - already gone, or stuck: no room was made
            self.log.warning("Could not shut down kernel %s: %s", oldest, exc)
            return False
        finally:
            self._evicting.discard(oldest)
        return True

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]  # async, as in the base class; jupyter_client types the sync one
        """Start a kernel unless the cap is reached (then 503, after trying to make room)."""
        while self.live_kernels() >= self.max_kernels:
            try:
                made_room = await self._evict_one_unconnected()
            except Exception as exc:  # noqa: BLE001 - never a 500 at the cap
                self.log.warning("Kernel cap: could not make room (%s)", exc)
                made_room = False
            if not made_room:
                self.log.warning(
                    "Kernel cap of %d reached: refusing a new kernel", self.max_kernels
                )
                raise web.HTTPError(503, reason=BUSY_REASON)
        self._starting += 1
        try:
            return str(await super().start_kernel(*args, **kwargs))
        finally:
            self._starting -= 1

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull an unconnected kernel after the grace time; otherwise the usual idle rule."""
        idle = self._unconnected_for(kernel_id)
        if idle is not None and idle > self.unconnected_grace_s:
            self.log.info("Culling kernel %s: no browser connected for %.0f s", kernel_id, idle)
            await self.shutdown_kernel(kernel_id)
            return
        kernel = self._kernels.get(kernel_id)
        if kernel is None or not isinstance(_trait(kernel, "last_activity"), dt.datetime):
            return  # gone meanwhile, or still starting: nothing to cull yet
        await super().cull_kernel_if_idle(kernel_id)
