"""STAND-INS for simulators that cannot run on the machines synth's tests run on. No synth flag
selects them: tests give them to synth through the settings users have for another build or
interpreter, and synth runs them as it would the real thing.

- ``THOR_STANDIN``: AI2-THOR's Unity side (``thor_unity.py``), given as ai2thor's local
  executable (``local_executable_path``: the launcher ``thor-unity``; ``x_display`` because
  ai2thor sets ``DISPLAY`` for every local build, though the stand-in draws no window).
- ``HABITAT_STANDIN``: the habitat worker's interpreter (``habitat_python``: the launcher
  ``habitat-python``), which runs synth's worker script with the Blender engine of
  ``habitat_blender.py`` instead of habitat-sim.

Both launchers run synth's interpreter: ``$SYNTH_STANDIN_PYTHON`` (``tests/conftest.py`` sets
it to the one running the tests), else the repository's ``.venv``. Use them as
``renderer_settings("ai2thor", **THOR_STANDIN)`` or on the command line
(``--local-executable-path tests/standins/thor-unity --x-display :0``,
``--habitat-python tests/standins/habitat-python``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
THOR_STANDIN = {"local_executable_path": str(HERE / "thor-unity"), "x_display": ":0"}
HABITAT_STANDIN = {"habitat_python": str(HERE / "habitat-python")}
