"""The embedded Prefect server ``synth run`` uses when no ``PREFECT_API_URL`` is set.

Prefect starts a temporary API server for such a run and gives it 20 s by default; a busy
machine (load ~6 on 2 cores, measured) needs longer, and the run then failed with "Timed out
while attempting to connect to ephemeral Prefect API server". ``configure`` (called when the
``flows`` package is imported, before Prefect reads its settings) sets a generous start-up budget
unless the user set one; ``call_embedded`` retries a call once when the server did not start, and
then says which setting to raise, in one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
STARTUP_SECONDS = 300  # Prefect's default is 20
_NOT_STARTED = "ephemeral Prefect API server"

T = TypeVar("T")


def configure() -> None:
    """Defaults for the embedded server (each only where the environment sets nothing)."""
    os.environ.setdefault(STARTUP_SETTING, str(STARTUP_SECONDS))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def call_embedded(fn: Callable[[], T], log: Callable[[str], None] = lambda _: None) -> T:
    """``fn()``, tried a second time if Prefect's embedded server did not start; a rerun resumes
    the run, so nothing is done twice. ``RuntimeError`` naming the setting if it fails again."""
    for attempt in (1, 2):
        try:
            return fn()
        except RuntimeError as e:
            if _NOT_STARTED not in str(e):
                raise
            _stop_unstarted_servers()
            if attempt == 1:
                log("the embedded Prefect server did not start in time; trying once more")
                continue
            seconds = os.environ.get(STARTUP_SETTING, "20")
            raise RuntimeError(
                f"the embedded Prefect server did not start within {seconds} s twice (a busy machine?); "
                f"set {STARTUP_SETTING} to more seconds, or PREFECT_API_URL to a running server"
            ) from None
    raise AssertionError("unreachable")


def _stop_unstarted_servers() -> None:
    """Prefect leaves the server process it gave up waiting for running (it would keep the port,
    and the pipes of whoever started synth, open): stop it."""
    from prefect.server.api.server import SubprocessASGIServer

    for server in list(SubprocessASGIServer._instances.values()):
        if not server.running and server.server_process is not None and server.server_process.poll() is None:
            server.stop()
