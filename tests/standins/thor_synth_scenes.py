"""The ai2thor renderer made to render synth scenes of any source on the AI2-THOR STAND-IN, for
the renderer conformance suite (``tests/test_backend_conformance.py``).

AI2-THOR renders its own scenes only, so ``ThorRenderer.open`` refuses a procedural scene. The
stand-in (``thor_unity.py``) also loads a house that carries a whole synth scene
(``synthScene``, its stand-in-only extension) and names its objects ``synth|<id>``: this wrapper
writes each scene as such a house file and opens it as the ai2thor scene of that file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from synth.backends.ai2thor.renderer import ThorRenderer, ThorSession
from synth.core.scene import Scene, VideoSpec


class SynthScenesOnThorStandIn:
    """A ``ThorRenderer`` running the stand-in (``tests.standins.THOR_STANDIN``) that opens any
    synth scene; every other attribute is the renderer's."""

    def __init__(self, renderer: ThorRenderer):
        self.renderer = renderer
        self.folder = Path(tempfile.mkdtemp(prefix="synth-thor-standin-"))

    def __getattr__(self, name: str):
        return getattr(self.renderer, name)

    def open(self, scene: Scene, video: VideoSpec) -> ThorSession:
        path = self.folder / f"synth-scene-{scene.seed}.json"
        path.write_text(json.dumps({"rooms": [], "objects": [], "synthScene": scene.model_dump(mode="json")}))
        as_house = scene.model_copy(
            update={
                "simulator": "ai2thor",
                "reference": str(path),
                "objects": [o.model_copy(update={"source_id": f"synth|{o.id}"}) for o in scene.objects],
            }
        )
        return self.renderer.open(as_house, video)

    def close(self) -> None:
        self.renderer.close()
        shutil.rmtree(self.folder, ignore_errors=True)
