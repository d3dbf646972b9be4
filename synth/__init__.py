"""synth: verifiable spatial-reasoning video QA datasets from simulators.

The names a Python user needs, re-exported from where they live (imported on first use, so
``import synth`` stays cheap)::

    import synth

    scene = synth.scene_source("procedural")(42)
    renderer = synth.open_renderer(synth.renderer_settings("blender", quality="draft"))

- a whole run: ``RunConfig`` (``synth.flows.config``), ``run`` (``synth.flows.run``: the run
  loop without Prefect; ``synth run`` on the command line runs the Prefect flow ``synth``);
- scenes and renderers (``synth.backends.registry``): ``scene_source``, ``open_renderer``,
  ``renderer_settings``;
- the model (``synth.core``): ``Scene``, ``Episode``, ``VideoSpec``, ``VisibilityRule``,
  ``with_evidence`` (what the rendered passes show);
- ``shoot`` (``synth.planning``: plan a camera path, render it);
- questions (``synth.programs``): ``generate_questions``, ``SandboxPool``;
- datasets (``synth.storage``, ``synth.evaluation``): ``save_episode``, ``load``, ``verify_dataset``;
- reinforcement learning (``synth.evaluation.reward``): ``reward`` (one reply's reward), ``Rewards``
  (a dataset's items as TRL's GRPO reward function); ``Oracle`` (``synth.evaluation.oracle``:
  proposed questions answered and verified, or refused with the reason).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RunConfig": "synth.flows.config",
    "run": "synth.flows.run",
    "scene_source": "synth.backends.registry",
    "open_renderer": "synth.backends.registry",
    "renderer_settings": "synth.backends.registry",
    "Scene": "synth.core.scene",
    "Episode": "synth.core.scene",
    "VideoSpec": "synth.core.scene",
    "VisibilityRule": "synth.core.scene",
    "with_evidence": "synth.core.evidence",
    "shoot": "synth.planning.shoot",
    "generate_questions": "synth.programs.generate",
    "SandboxPool": "synth.programs.sandbox",
    "save_episode": "synth.storage.dataset",
    "load": "synth.storage.s3",
    "verify_dataset": "synth.evaluation.verify",
    "reward": "synth.evaluation.reward",
    "Rewards": "synth.evaluation.reward",
    "Oracle": "synth.evaluation.oracle",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'synth' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
