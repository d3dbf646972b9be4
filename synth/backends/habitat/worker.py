"""The habitat-sim worker: run as a script by the interpreter that has habitat-sim (conda), it
answers ``synth.backends.habitat.protocol`` requests on stdin/stdout.

    $SYNTH_HABITAT_PYTHON synth/backends/habitat/worker.py

It renders with habitat-sim's real API: ``habitat_sim.Simulator`` on the scene
instance of a scene dataset, ``CameraSensorSpec`` COLOR / DEPTH / SEMANTIC pinhole sensors at
the agent (position and orientation 0), one ``AgentState`` per frame, objects moved as
``MotionType.KINEMATIC`` rigid objects (found by the ``synth_id`` their scene instance records),
SEMANTIC = the object configs' ``semantic_id`` = synth ids. ``gpu_device_id`` -1 renders on the
CPU (EGL, llvmpipe).

``main`` takes the engine to serve with: synth's tests, where habitat-sim cannot be installed,
give the worker an interpreter that runs it with a STAND-IN engine
(``tests/standins/habitat_blender.py``); it proves the protocol, not habitat-sim.

Only the standard library and numpy are imported at the top: habitat-sim's interpreter has no
synth dependencies.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np
import protocol  # this script's folder is on sys.path when run as a script


class HabitatSimEngine:
    name = "habitat-sim"

    def __init__(self):
        try:
            import habitat_sim
        except ImportError as e:
            raise RuntimeError(
                f"{protocol.NOT_IMPORTABLE}; install it with conda: {protocol.CONDA_INSTALL} ({e})"
            ) from None
        self.hs = habitat_sim
        self.sim = None
        self.objects = {}

    def open(self, req: dict) -> None:
        hs = self.hs
        self.close()
        self.request = dict(req)
        sim_cfg = hs.SimulatorConfiguration()
        sim_cfg.scene_dataset_config_file = req["dataset"]
        sim_cfg.scene_id = req["scene"]
        sim_cfg.enable_physics = False
        sim_cfg.gpu_device_id = int(req.get("gpu_device_id", -1))
        specs = []
        for uuid, kind in (
            ("rgb", hs.SensorType.COLOR),
            ("depth", hs.SensorType.DEPTH),
            ("semantic", hs.SensorType.SEMANTIC),
        ):
            spec = hs.CameraSensorSpec()
            spec.uuid, spec.sensor_type = uuid, kind
            spec.sensor_subtype = hs.SensorSubType.PINHOLE
            spec.resolution = [int(req["height"]), int(req["width"])]
            spec.hfov = float(req["hfov_deg"])
            spec.position = [0.0, 0.0, 0.0]
            spec.orientation = [0.0, 0.0, 0.0]
            specs.append(spec)
        agent = hs.agent.AgentConfiguration()
        agent.sensor_specifications = specs
        self.sim = hs.Simulator(hs.Configuration(sim_cfg, [agent]))
        self.objects = {}
        manager = self.sim.get_rigid_object_manager()
        for obj in manager.get_objects_by_handle_substring("").values():
            synth_id = obj.user_attributes.get("synth_id") if obj.user_attributes.has_value("synth_id") else None
            self.objects[int(synth_id if synth_id is not None else obj.semantic_id)] = obj

    def render(self, frames: list[dict]) -> dict[str, np.ndarray]:
        import magnum as mn
        import quaternion as qt  # numpy-quaternion: AgentState reads a plain list as [x, y, z, w]

        hs, out = self.hs, {"rgb": [], "depth": [], "instance": []}
        for f in frames:
            if abs(float(f.get("hfov_deg", self.request["hfov_deg"])) - float(self.request["hfov_deg"])) > 1e-6:
                self.open({**self.request, "hfov_deg": f["hfov_deg"]})  # sensors take their fov when made
            for pose in f.get("objects", []):
                obj = self.objects.get(int(pose["synth_id"]))
                if obj is None:
                    continue
                obj.motion_type = hs.physics.MotionType.KINEMATIC  # STATIC objects ignore new poses
                obj.translation = mn.Vector3(*pose["translation"])
                w, x, y, z = pose["rotation"]
                obj.rotation = mn.Quaternion(mn.Vector3(x, y, z), w)
            state = hs.AgentState()
            state.position = np.asarray(f["agent_state"]["position"], dtype=np.float32)
            state.rotation = qt.quaternion(*f["agent_state"]["rotation"])
            self.sim.get_agent(0).set_state(state)
            obs = self.sim.get_sensor_observations()
            depth = np.asarray(obs["depth"], dtype=np.float32)
            out["rgb"].append(np.asarray(obs["rgb"])[..., :3])
            out["depth"].append(np.where(depth > 0, depth, np.inf).astype(np.float32))
            out["instance"].append(np.asarray(obs["semantic"]).astype(np.uint16))
        return {k: np.stack(v) for k, v in out.items()}

    def close(self) -> None:
        if self.sim is not None:
            self.sim.close()
            self.sim = None


def serve(engine_class: type, stdin, stdout) -> None:
    """Answer requests from ``stdin`` on ``stdout`` with an ``engine_class()`` made at the first one."""
    engine = None
    while True:
        try:
            req, _ = protocol.receive(stdin)
        except protocol.ProtocolError:
            return  # synth went away
        try:
            if engine is None:
                engine = engine_class()
            op = req.get("op")
            if op == "hello":
                protocol.send(stdout, {"ok": True, "engine": engine.name, "version": "1"})
            elif op == "open":
                engine.open(req)
                protocol.send(stdout, {"ok": True})
            elif op == "render":
                protocol.send(stdout, {"ok": True}, engine.render(req["frames"]))
            elif op == "close":
                engine.close()
                protocol.send(stdout, {"ok": True})
                return
            else:
                protocol.send(stdout, {"ok": False, "error": f"unknown op {op!r}"})
        except Exception as e:  # noqa: BLE001 - every failure becomes one reply line
            traceback.print_exc(file=sys.stderr)
            protocol.send(stdout, {"ok": False, "error": f"{type(e).__name__}: {e}".splitlines()[0]})


def main(engine_class: type = HabitatSimEngine) -> None:
    """Serve synth on this process's stdin / stdout with ``engine_class`` (default habitat-sim's)."""
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol stream
    serve(engine_class, sys.stdin.buffer, stdout)


if __name__ == "__main__":
    main()
