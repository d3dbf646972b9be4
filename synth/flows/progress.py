"""Live progress of a run: frames rendered across all episodes, and the stage each episode is in
(scene, planning, rendering, evidence, degradations, questions, writing, done).

Render workers put ``(episode index, stage, frames rendered)`` events on the run's queue
(``Reporter``, ``synth.flows.executor.Executor.events``); the run loop (``synth.flows.run.produce``)
applies them to a ``Board`` one by one, so the terminal bar and the Prefect progress artifact move
with every rendered frame. Ray workers report when an episode is back (their events would need a
queue actor)."""

from __future__ import annotations

import queue as queue_module
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Event = tuple[int, str, int]  # (episode index, stage, frames rendered with this event)


class Reporter:
    """A worker's view of the queue for one episode."""

    def __init__(self, events: Any, index: int):
        self.events, self.index = events, index

    def stage(self, name: str) -> None:
        self.events.put((self.index, name, 0))

    def frame(self) -> None:
        self.events.put((self.index, "rendering", 1))


@dataclass
class Board:
    episodes: int
    frames_per_episode: int
    stage: dict[int, str] = field(default_factory=dict)
    frames: Counter = field(default_factory=Counter)

    @property
    def frames_total(self) -> int:
        return self.episodes * self.frames_per_episode

    @property
    def frames_done(self) -> int:
        return sum(min(n, self.frames_per_episode) for n in self.frames.values())

    @property
    def episodes_done(self) -> int:
        return sum(s == "done" for s in self.stage.values())

    def apply(self, event: Event) -> None:
        index, stage, frames = event
        if self.stage.get(index) != "done":
            self.stage[index] = stage
            self.frames[index] += frames

    def finish(self, index: int) -> None:
        self.stage[index] = "done"
        self.frames[index] = self.frames_per_episode

    def summary(self) -> str:
        """E.g. ``episodes 3/8 | rendering 2, questions 1``."""
        busy = Counter(s for s in self.stage.values() if s != "done")
        stages = ", ".join(f"{s} {n}" for s, n in sorted(busy.items()))
        return f"episodes {self.episodes_done}/{self.episodes}" + (f" | {stages}" if stages else "")

    def drain(self, events: Any, each=None) -> None:
        """Apply every queued event, calling ``each(self)`` after each one."""
        while True:
            try:
                event = events.get_nowait()
            except (queue_module.Empty, OSError, EOFError):
                return
            self.apply(event)
            if each:
                each(self)
