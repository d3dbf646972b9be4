"""How a failed episode is told: one line naming the episode, the step and the cause
(``EpisodeFailed``), and which failures are not worth a retry (``PERMANENT``).

The run loop (``synth.flows.run.produce``) raises ``EpisodeFailed`` from the cause, so that
``synth run`` prints one line (``synth --debug`` and the Prefect run's logs keep the traceback),
and a deployment run's state message carries the same line."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

from synth.core.plugin import BackendUnavailable

EXPECTED = (RuntimeError, ValueError, OSError)
"""Failures whose message says what went wrong by itself (``BackendUnavailable`` is a
``RuntimeError``): told as is; any other exception is told with its type's name."""


class RenderOutOfMemory(RuntimeError):
    """A render worker was killed for memory (Ray's memory monitor); the message names the
    setting and the memory declared for it (``synth.flows.memory``)."""


PERMANENT = (BackendUnavailable, RenderOutOfMemory, BrokenProcessPool)
"""Render failures a retry would only repeat: a backend that cannot run here, a render killed
for memory (the same setting needs the same memory), a local worker pool that lost a process
(it runs nothing more)."""


def one_line(e: BaseException) -> str:
    """``e`` in one line: its message (newlines folded), after its type's name unless it is one
    of the ``EXPECTED`` failures."""
    text = " ".join(str(e).split())
    if isinstance(e, EXPECTED) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class EpisodeFailed(RuntimeError):
    """Step ``step`` ("render", "questions" or "write") of episode ``index`` raised ``cause``
    (chained as ``__cause__``). The message is one line, e.g. ``episode 3 (ep0000003): render
    failed: AI2-THOR could not start (...)``."""

    def __init__(self, index: int, step: str, cause: BaseException):
        from synth.flows.episode import episode_key  # numpy and the planner: only once an episode failed

        self.index, self.step, self.cause = index, step, cause
        super().__init__(f"episode {index} ({episode_key(index)}): {step} failed: {one_line(cause)}")

    def __reduce__(self):  # pickled by Prefect with a failed state; the default would call __init__(message)
        return EpisodeFailed, (self.index, self.step, self.cause)
