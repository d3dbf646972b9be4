"""Orchestration: the Prefect flow ``synth``, the ``synth`` command line, the run configuration.

Importing the package sets the embedded Prefect server's defaults before Prefect reads its
settings (``synth.flows.embedded``)."""

from synth.flows.embedded import configure

configure()
