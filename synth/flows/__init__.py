"""Orchestration: the Prefect flow ``synth``, the ``synth`` command line, the run configuration.

Importing the package sets the embedded Prefect server's defaults before Prefect reads its
settings (``flows.embedded``)."""

from .embedded import configure

configure()
