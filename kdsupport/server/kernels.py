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
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from tornado import web
from traitlets import Float, Integer, default

__all__ = ["CappedKernelManager", "IPCKernelManager", "IPCServerKernelManager"]


class IPCKernelManager(AsyncKernelManager):
    """A kernel reached over local (IPC) sockets instead of TCP ports (papermill runs).

    No port is opened on the machine, and the kernel does not warn on every start that its
    TCP traffic is unencrypted.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


class IPCServerKernelManager(ServerKernelManager):
    """The apps' per-kernel manager, over IPC sockets (see :class:`IPCKernelManager`)."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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

    def live_kernels(self) -> int:
        """Kernels running or starting."""
        return len(self.list_kernel_ids()) + self._starting

    def _unconnected_for(self, kernel_id: str) -> float | None:
        """Seconds since a never-connected, idle kernel was last active; None otherwise."""
        if self._kernel_connections.get(kernel_id, 0):
            return None
        kernel = self._kernels.get(kernel_id)
        if kernel is None or getattr(kernel, "execution_state", None) == "busy":
            return None
        last = getattr(kernel, "last_activity", None)
        return None if last is None else (_now() - last).total_seconds()

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
        await self.shutdown_kernel(oldest)
        return True

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        """Start a kernel unless the cap is reached (then 503, after trying to make room)."""
        while self.live_kernels() >= self.max_kernels:
            if not await self._evict_one_unconnected():
                self.log.warning(
                    "Kernel cap of %d reached: refusing a new kernel", self.max_kernels
                )
                raise web.HTTPError(
                    503,
                    reason="The course server is busy (too many open pages); try again in a minute",
                )
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
        await super().cull_kernel_if_idle(kernel_id)
