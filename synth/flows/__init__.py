"""Orchestration only: the run configuration (``config``), a run and its one loop (``run``), the
executor of its renders and questions (``executor``, ``worker``; the memory a render declares to Ray:
``memory``), how a failed episode is told (``failures``), the Prefect flow ``synth`` (``flow``).

Importing the package sets the embedded Prefect server's defaults before Prefect reads its
settings (``synth.flows.embedded``)."""

from synth.flows.embedded import configure

configure()
