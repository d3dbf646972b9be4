"""Blender (``bpy``) renderer backend: RGB, planar depth and instance ids per frame.

One Blender per process: ``bpy`` holds a single global scene, so callers render in worker
processes (see ``synth.flows.executor`` and ``synth.flows.worker``), never in threads.

Two quality levels, chosen by measurement on 2 CPU cores at 320x240 (bench/render.py):
- ``photoreal``: Cycles, few samples + fast OpenImageDenoise, object-index pass for ids.
  Measured for issue 31 (bench/render.py, Infinigen furniture at 448x336, 2 cores): render data
  persists between an episode's frames (``use_persistent_data``: after the first frame only the
  camera and moving objects are synced; the scene, BVH, textures and the ~0.65 s sky and light
  importance map are kept; pixels identical) and OIDN denoises with its fast prefilter on the
  albedo and normal passes, so 2 samples give better frames than 4 did without it (worst-frame
  PSNR against 64 samples 27.4 vs 26.2 dB, mean 29.3 vs 29.2) at 0.46x of the old s/frame;
  the light tree, path guiding, adaptive sampling and the higher denoiser qualities cost more
  than they gain at these sample counts (docs/benchmarks.md).
- ``draft``: Workbench (~12x faster measured, 0.07 vs 0.87 s/frame); ids come from a second flat-shaded pass with
  anti-aliasing off in which each object's colour encodes its id.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Callable

import numpy as np

from synth.backends.blender.settings import BlenderSettings
from synth.core.camera import camera_center, intrinsics
from synth.core.meshes import DOOR_FINISH, Mesh, MeshCache, asset_path, merge, part_mesh, room_meshes
from synth.core.plugin import BackendUnavailable, scene_geometry
from synth.core.render_types import FrameBuffers, linear_to_srgb8
from synth.core.scene import ROOM_ID, Frame, Light, Material, MeshAsset, Room, Scene, SceneObject, VideoSpec
from synth.core.zbuffer import SceneMeshes, measure_visibility

BACKGROUND_DEPTH = 1e9  # Blender writes 1e10 where no surface is hit
SKY_STRENGTH = 0.15  # Nishita's sky is physically bright: scaled to the room lights' exposure
PLAN_SCALE = 4  # the planner's visibility estimates are drawn at 1/4 of the video's width and height


def _import_bpy():
    try:
        import bpy
    except ImportError as e:  # pragma: no cover - depends on the install
        raise BackendUnavailable(
            "the Blender backend needs the 'bpy' wheel (pip install 'bpy==4.5.*') and the "
            "system libraries libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libgl1 libegl1"
        ) from e
    return bpy


@contextlib.contextmanager
def _quiet_output():
    """Blender prints progress lines and harmless EGL warnings from C code: silence file
    descriptors 1 and 2 while it renders (failures still surface as Python exceptions)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


class BlenderRenderer:
    """Builds a Blender scene from a ``Scene`` and renders ``Frame``s of it (any K: the camera's
    focal length and principal point follow each frame's intrinsics). One handler per kind of
    geometry (``synth.core.plugin.scene_geometry``): rooms (``_room_object``), the stage
    (``_stage_object``), objects of primitive parts (``_parts_object``) and glTF mesh assets
    (``_asset_object``).
    ``threads``: render threads of this process (0 = all cores)."""

    name = "blender"

    def __init__(self, settings: BlenderSettings | None = None, threads: int = 0):
        self.settings = settings or BlenderSettings()
        self.threads = threads
        self.bpy = _import_bpy()
        self._tmp = tempfile.mkdtemp(prefix="synth-blender-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self._objects: dict[int, object] = {}
        self._gpu_kind: str | None = None  # None: not probed yet; "": no GPU
        self.meshes = MeshCache()  # the planner's z-buffer meshes, kept from scene to scene
        self.device = "cpu"  # where the last scene renders (Cycles: cpu or gpu)

    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        return intrinsics(video.width, video.height, math.radians(self.settings.hfov_deg))

    def describe(self) -> dict[str, str | int | float]:
        """The settings, with ``device`` as it resolved for the last scene (Cycles)."""
        described = self.settings.describe()
        if self.settings.quality == "photoreal":
            described["device"] = self.device
        return described

    def open(self, scene: Scene, video: VideoSpec) -> BlenderSession:
        """Load ``scene`` (``bpy`` holds one scene: opening another replaces it)."""
        self.load(scene, video.width, video.height)
        return BlenderSession(self, scene, video)

    # -- scene construction -------------------------------------------------------------
    def _material(self, name: str, m: Material | tuple[float, float, float], rough=0.5, metal=0.0):
        bpy = self.bpy
        rgb = m.rgb if isinstance(m, Material) else m
        if isinstance(m, Material):
            rough, metal = m.roughness, m.metallic
        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Roughness"].default_value = rough
        bsdf.inputs["Metallic"].default_value = metal
        mat.diffuse_color = (*rgb, 1.0)  # what Workbench shows
        return mat

    def _finish(self, mat, m: Material):
        """Blender's procedural textures for a room surface, by its material's name: boards for
        parquet and wood (1.2 m x 14 cm planks with grain), a tile grid with grout (brick
        texture, 40 cm tiles), carpet pile and plaster or paint unevenness (noise as colour
        variation and bump), in daylit rooms (``--assets infinigen``; they add ~25% to a Cycles
        frame). The colour stays ``m.rgb`` on average; shading only (Workbench, depth and ids are
        unchanged)."""
        if not self._daylit:  # synth's plain rooms keep their flat colours (and their cost per frame)
            return mat
        name = m.material_name
        nodes, links = mat.node_tree.nodes, mat.node_tree.links
        bsdf = nodes["Principled BSDF"]
        coords = nodes.new("ShaderNodeTexCoord").outputs["Object"]  # room meshes are in world metres
        rgb = np.asarray(m.rgb)
        if "parquet" in name or "wood" in name:
            planks = nodes.new("ShaderNodeTexBrick")  # 1.2 m x 14 cm boards, every other row shifted
            planks.offset, planks.offset_frequency = 0.5, 2
            planks.inputs["Scale"].default_value = 1.0
            planks.inputs["Brick Width"].default_value = 1.2
            planks.inputs["Row Height"].default_value = 0.14
            planks.inputs["Mortar Size"].default_value = 0.002
            planks.inputs["Color1"].default_value = (*(rgb * 0.75), 1.0)  # board to board variation
            planks.inputs["Color2"].default_value = (*np.minimum(rgb * 1.2, 1.0), 1.0)
            planks.inputs["Mortar"].default_value = (*(rgb * 0.4), 1.0)
            grain = nodes.new("ShaderNodeTexWave")  # grain along the boards
            grain.bands_direction, grain.wave_profile = "Y", "SIN"
            grain.inputs["Scale"].default_value = 25.0
            grain.inputs["Distortion"].default_value = 4.0
            grain.inputs["Detail"].default_value = 3.0
            mix = nodes.new("ShaderNodeMix")
            mix.data_type, mix.blend_type = "RGBA", "MULTIPLY"
            mix.inputs["Factor"].default_value = 0.25
            links.new(coords, planks.inputs["Vector"])
            links.new(coords, grain.inputs["Vector"])
            links.new(planks.outputs["Color"], mix.inputs["A"])
            links.new(grain.outputs["Color"], mix.inputs["B"])
            links.new(mix.outputs["Result"], bsdf.inputs["Base Color"])
            return mat
        elif "tiles" in name:
            tex = nodes.new("ShaderNodeTexBrick")
            tex.offset = 0.0
            tex.inputs["Scale"].default_value = 2.5  # 0.4 m tiles
            tex.inputs["Mortar Size"].default_value = 0.012
            tex.inputs["Brick Width"].default_value = 1.0
            tex.inputs["Row Height"].default_value = 1.0
            tex.inputs["Color1"].default_value = tex.inputs["Color2"].default_value = (*rgb, 1.0)
            tex.inputs["Mortar"].default_value = (*(rgb * 0.55), 1.0)
            links.new(coords, tex.inputs["Vector"])
            links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
            return mat
        else:  # carpet, plaster, paint
            tex = nodes.new("ShaderNodeTexNoise")
            tex.inputs["Scale"].default_value = 60.0 if "carpet" in name else 8.0
            tex.inputs["Detail"].default_value = 8.0
            spread = 0.12 if "carpet" in name else 0.04
            low, high = rgb * (1 - spread), np.minimum(rgb * (1 + spread), 1.0)
            factor = tex.outputs["Fac"]
            bump = nodes.new("ShaderNodeBump")
            bump.inputs["Strength"].default_value = 0.3 if "carpet" in name else 0.05
            links.new(factor, bump.inputs["Height"])
            links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
        links.new(coords, tex.inputs["Vector"])
        ramp = nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*low, 1.0)
        ramp.color_ramp.elements[1].color = (*high, 1.0)
        links.new(factor, ramp.inputs["Fac"])
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        return mat

    def _mesh_object(self, name: str, meshes: list[tuple[Mesh, int]], materials: list, pass_index: int):
        bpy = self.bpy
        merged = merge([m for m, _ in meshes])
        data = bpy.data.meshes.new(name)
        data.from_pydata(merged.vertices.tolist(), [], merged.faces.tolist())
        slots = np.concatenate([np.full(len(m.faces), k, dtype=np.int32) for m, k in meshes])
        data.polygons.foreach_set("material_index", slots)
        smooth = np.concatenate([np.full(len(m.faces), len(m.faces) > 12) for m, _ in meshes])
        data.polygons.foreach_set("use_smooth", smooth)
        data.update()
        for mat in materials:
            data.materials.append(mat)
        ob = bpy.data.objects.new(name, data)
        ob.pass_index = pass_index
        self.bpy.context.scene.collection.objects.link(ob)
        return ob

    def load(self, scene: Scene, width: int, height: int) -> None:
        """Replace whatever Blender holds with ``scene``."""
        bpy = self.bpy
        bpy.ops.wm.read_factory_settings(use_empty=True)
        self._objects = {}
        self._valid_ids = np.array([ROOM_ID, *(o.id for o in scene.objects)], dtype=np.uint16)
        self._daylit = any(light.kind == "sun" for light in scene.lights)
        bs = bpy.context.scene
        bs.render.resolution_x, bs.render.resolution_y = width, height
        bs.render.resolution_percentage = 100
        bs.render.image_settings.file_format = "OPEN_EXR_MULTILAYER"
        bs.render.image_settings.color_depth = "32"
        bs.render.image_settings.exr_codec = "NONE"
        bs.view_settings.view_transform = "Standard"
        bs.render.threads_mode = "FIXED" if self.threads else "AUTO"
        if self.threads:
            bs.render.threads = self.threads
        bs.world = self._world(next((light for light in scene.lights if light.kind == "sun"), None))
        vl = bs.view_layers[0]
        vl.use_pass_z = True
        vl.use_pass_object_index = True

        handlers = {
            "room": self._room_object,
            "stage": self._stage_object,
            "parts": self._parts_object,
            "mesh": self._asset_object,
        }
        for kind, k, piece in scene_geometry(scene):
            made = handlers[kind](piece, k, scene.asset_root)
            if isinstance(piece, SceneObject):  # posed per frame (``_set_frame``)
                self._objects[piece.id] = made
        for k, light in enumerate(scene.lights):
            data = bpy.data.lights.new(f"light{k}", type=light.kind.upper())
            data.energy = light.energy
            data.color = light.color
            if light.kind == "area":
                data.size = light.size
            ob = bpy.data.objects.new(f"light{k}", data)
            ob.location = light.position
            if light.kind == "sun":  # a sun shines along its local -Z
                from mathutils import Vector

                ob.rotation_euler = (-Vector(light.direction)).to_track_quat("Z", "Y").to_euler()
                data.angle = math.radians(0.53)  # the sun's apparent diameter: soft shadow edges
            bs.collection.objects.link(ob)
        cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
        bs.collection.objects.link(cam)
        bs.camera = cam
        cam.data.sensor_fit = "HORIZONTAL"
        cam.data.sensor_width = 36.0
        cam.data.clip_start, cam.data.clip_end = 0.05, 100.0
        self._configure_engine()

    def _world(self, sun: Light | None):
        """A dark grey background; with a sun, a physical sky (Nishita) lit from the sun's
        direction, seen through the windows and lighting the room through them."""
        world = self.bpy.data.worlds.new("world")
        world.use_nodes = True
        background = world.node_tree.nodes["Background"]
        if sun is None:
            background.inputs["Color"].default_value = (0.05, 0.05, 0.05, 1.0)
            return world
        sky = world.node_tree.nodes.new("ShaderNodeTexSky")
        sky.sky_type = "NISHITA"
        sky.sun_disc = False  # the sun lamp is the sun; the sky only adds its blue light
        d = np.asarray(sun.direction, dtype=float)
        sky.sun_elevation = math.asin(max(0.0, -d[2] / np.linalg.norm(d)))
        sky.sun_rotation = math.atan2(-d[1], -d[0]) - math.pi / 2
        world.node_tree.links.new(sky.outputs["Color"], background.inputs["Color"])
        background.inputs["Strength"].default_value = SKY_STRENGTH
        return world

    def _room_object(self, room: Room, k: int, asset_root: str):
        """Room ``k``'s floor, walls and ceiling: one mesh drawn as the room (id 0), a finished
        material per surface."""
        rm = room_meshes(room)
        surfaces = [("floor", room.floor), ("wall", room.wall), ("ceiling", room.ceiling)]
        if "doors" in rm:  # casings and door leaves
            surfaces.append(("door", DOOR_FINISH))
        meshes = {"wall": "walls", "door": "doors"}
        return self._mesh_object(
            "room" if k == 0 else f"room.{k}",
            [(rm[meshes.get(name, name)], j) for j, (name, _) in enumerate(surfaces)],
            [self._finish(self._material(f"{name}.{k}", finish), finish) for name, finish in surfaces],
            ROOM_ID,
        )

    def _stage_object(self, stage: MeshAsset, k: int, asset_root: str):
        """The static background in world coordinates, drawn as the room (id 0)."""
        return self._import_asset("stage", stage, ROOM_ID, asset_root)

    def _parts_object(self, obj: SceneObject, k: int, asset_root: str):
        """An object built from its primitive parts: its material, and one per part colour override."""
        overrides = sorted({p.color for p in obj.parts if p.color is not None})
        mats = [self._material(f"{obj.name}.0", obj.material)]
        mats += [self._material(f"{obj.name}.{j + 1}", c, rough=0.6) for j, c in enumerate(overrides)]
        parts = [(part_mesh(p), 0 if p.color is None else overrides.index(p.color) + 1) for p in obj.parts]
        return self._mesh_object(obj.name, parts, mats, obj.id)

    def _asset_object(self, obj: SceneObject, k: int, asset_root: str):
        """An object's glTF (or ``blend``) mesh asset."""
        return self._import_asset(obj.name, obj.mesh, obj.id, asset_root)

    def _import_asset(self, name: str, asset: MeshAsset, pass_index: int, asset_root: str):
        """Import a glTF asset (with its materials), or its ``blend`` file, under an empty that
        carries the object's pose; the asset's transform into the local frame sits between them."""
        from mathutils import Matrix

        bpy = self.bpy
        before = set(bpy.data.objects)
        if asset.blend:  # the same mesh with materials glTF cannot hold (MeshAsset.blend)
            path = str(asset_path(asset.model_copy(update={"uri": asset.blend}), asset_root))
            with bpy.data.libraries.load(path, link=False) as (source, loaded):
                loaded.objects = list(source.objects)
            for ob in loaded.objects:
                self.bpy.context.scene.collection.objects.link(ob)
        else:
            with _quiet_output():
                bpy.ops.import_scene.gltf(filepath=str(asset_path(asset, asset_root)))
        imported = [o for o in bpy.data.objects if o not in before]
        holder = bpy.data.objects.new(name, None)
        self.bpy.context.scene.collection.objects.link(holder)
        inner = bpy.data.objects.new(f"{name}.asset", None)
        self.bpy.context.scene.collection.objects.link(inner)
        inner.parent = holder
        # glTF importers convert +Y up to Blender's +Z up ((x, y, z) -> (x, -z, y)); undo that with
        # its inverse so that the declared transform (file coordinates -> local frame) applies as is
        undo = Matrix(((1, 0, 0, 0), (0, 0, 1, 0), (0, -1, 0, 0), (0, 0, 0, 1)))
        inner.matrix_parent_inverse = Matrix(np.asarray(asset.transform).tolist()) @ undo
        for ob in imported:
            if ob.parent is None:
                ob.parent = inner
            if ob.type == "MESH":
                ob.pass_index = pass_index
        holder["synth_meshes"] = [ob.name for ob in imported if ob.type == "MESH"]
        return holder

    def _gpu(self) -> str | None:
        """Enable the GPUs of the first Cycles backend Blender finds devices for (OptiX, then
        CUDA) and return its name; None when it sees no GPU. Preferences are reset with every
        scene (``read_factory_settings``), so this runs per scene; the probe result is kept."""
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        kinds = ("OPTIX", "CUDA") if self._gpu_kind is None else (self._gpu_kind,) if self._gpu_kind else ()
        for kind in kinds:
            try:
                prefs.compute_device_type = kind
            except TypeError:  # a Blender built without this backend
                continue
            prefs.get_devices()
            if any(d.type == kind for d in prefs.devices):
                for d in prefs.devices:
                    d.use = d.type == kind
                self._gpu_kind = kind
                return kind
        self._gpu_kind = ""
        return None

    def _cycles_device(self) -> str:
        """``"GPU"`` or ``"CPU"`` for the ``device`` setting; ``BackendUnavailable`` when a GPU is
        asked for and Blender sees none."""
        if self.settings.device == "cpu":
            return "CPU"
        if self._gpu():
            return "GPU"
        if self.settings.device == "gpu":
            raise BackendUnavailable(
                "device gpu: Blender sees no CUDA or OptiX device (no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides "
                "it); use --device cpu, or auto to take a GPU only where there is one"
            )
        return "CPU"

    def _configure_engine(self) -> None:
        bs = self.bpy.context.scene
        if self.settings.quality == "photoreal":
            bs.render.engine = "CYCLES"
            c = bs.cycles
            c.device = self._cycles_device()
            self.device = c.device.lower()
            c.samples = self.settings.samples
            c.use_adaptive_sampling = False
            c.use_denoising = True
            c.denoiser = "OPENIMAGEDENOISE"
            c.denoising_prefilter = "FAST"  # albedo and normal cleaned: 2 samples beat 4 unfiltered (module doc)
            c.denoising_quality = "FAST"
            c.use_light_tree = False
            c.max_bounces = c.diffuse_bounces = c.glossy_bounces = self.settings.max_bounces
            c.transmission_bounces = c.transparent_max_bounces = self.settings.max_bounces
            c.seed = 0
            # keep the synced scene, BVH, textures and the sky's importance map between frames: only
            # what moved (camera, objects) is synced again; the same pixels (module doc)
            bs.render.use_persistent_data = True
        else:
            bs.render.engine = "BLENDER_WORKBENCH"
            bs.display.shading.light = "STUDIO"
            bs.display.shading.color_type = "MATERIAL"
            bs.display.render_aa = "8"

    # -- per frame ----------------------------------------------------------------------
    def _set_frame(self, frame: Frame, K: np.ndarray) -> None:
        from mathutils import Matrix

        bs = self.bpy.context.scene
        cam = bs.camera
        w = bs.render.resolution_x
        cam.data.lens = K[0, 0] * cam.data.sensor_width / w
        h = bs.render.resolution_y
        cam.data.shift_x = -(K[0, 2] + 0.5 - w / 2) / w
        cam.data.shift_y = (K[1, 2] + 0.5 - h / 2) / w
        T = np.asarray(frame.camera.world_to_camera)
        rot_bl = (np.diag([1.0, -1.0, -1.0]) @ T[:3, :3]).T
        M = np.eye(4)
        M[:3, :3] = rot_bl
        M[:3, 3] = camera_center(T)
        cam.matrix_world = Matrix(M.tolist())
        for pose in frame.object_poses:
            ob = self._objects[pose.id]
            ob.location = pose.position
            if pose.upright:  # Euler about Z: the renders of upright objects stay bit-identical to earlier data
                ob.rotation_mode, ob.rotation_euler = "XYZ", (0.0, 0.0, pose.yaw)
            else:
                ob.rotation_mode, ob.rotation_quaternion = "QUATERNION", pose.rotation

    def _render_exr(self) -> dict[str, np.ndarray]:
        import OpenEXR

        bs = self.bpy.context.scene
        path = os.path.join(self._tmp, "frame.exr")
        bs.render.filepath = path
        with _quiet_output():
            self.bpy.ops.render.render(write_still=True)
        channels: dict[str, np.ndarray] = {}
        with OpenEXR.File(path, separate_channels=True) as f:
            for part in f.parts:
                for name, ch in part.channels.items():
                    channels[name] = np.asarray(ch.pixels)
        os.remove(path)
        return channels

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        """Render every frame of the open scene (``on_frame()`` after each)."""
        bs = self.bpy.context.scene
        h, w = bs.render.resolution_y, bs.render.resolution_x
        n = len(frames)
        linear = np.empty((n, h, w, 3), np.float32)
        depth = np.empty((n, h, w), np.float32)
        inst = np.empty((n, h, w), np.uint16)
        for i, frame in enumerate(frames):
            self._set_frame(frame, np.asarray(frame.camera.K))
            ch = self._render_exr()
            linear[i] = np.stack(
                [ch["ViewLayer.Combined.R"], ch["ViewLayer.Combined.G"], ch["ViewLayer.Combined.B"]], axis=-1
            )
            z = ch["ViewLayer.Depth.Z"]
            depth[i] = np.where(z > BACKGROUND_DEPTH, np.inf, z)
            ids = (
                np.round(ch["ViewLayer.IndexOB.X"]).astype(np.uint16)
                if self.settings.quality == "photoreal"
                else self._workbench_ids()
            )
            inst[i] = np.where(np.isin(ids, self._valid_ids), ids, ROOM_ID)  # background/unknown -> 0
            if on_frame:
                on_frame()
        if self._daylit and self.settings.quality == "photoreal":
            linear *= auto_exposure(linear)
        return FrameBuffers(rgb=linear_to_srgb8(linear), depth=depth, instance=inst)

    def _workbench_ids(self) -> np.ndarray:
        """Second Workbench pass: flat, unfiltered colours that encode object ids."""
        bs = self.bpy.context.scene
        shading = bs.display.shading
        saved = (shading.light, shading.color_type, bs.display.render_aa)
        shading.light, shading.color_type, bs.display.render_aa = "FLAT", "OBJECT", "OFF"
        for ob in bs.objects:
            if ob.type == "MESH":
                i = ob.pass_index  # asset meshes carry their object's id too
                ob.color = ((i & 255) / 255.0, (i >> 8) / 255.0, 0.0, 1.0)
        ch = self._render_exr()
        shading.light, shading.color_type, bs.display.render_aa = saved
        r = np.round(ch["ViewLayer.Combined.R"] * 255.0).astype(np.uint16)
        g = np.round(ch["ViewLayer.Combined.G"] * 255.0).astype(np.uint16)
        return r + (g << 8)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self._tmp, ignore_errors=True)


def auto_exposure(linear: np.ndarray, mid: float = 0.18, high: float = 0.9, limits=(0.3, 4.0)) -> float:
    """One exposure gain for a whole episode (frames (F, H, W, 3) scene-linear RGB; one gain, so
    the video does not flicker): the median luminance (Rec. 709 weights) to ``mid`` grey unless
    that would push the 97th percentile above ``high`` (sunlit patches), within ``limits``.
    Daylit rooms range from dim corners to sun on the floor; a fixed exposure leaves some
    episodes dark and others blown out."""
    luminance = linear[..., :3] @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    median, p97 = np.percentile(luminance, [50, 97])
    gain = min(mid / max(float(median), 1e-6), high / max(float(p97), 1e-6))
    return float(np.clip(gain, *limits))


class BlenderSession:
    """The scene open in a ``BlenderRenderer``."""

    def __init__(self, renderer: BlenderRenderer, scene: Scene, video: VideoSpec):
        self.renderer, self.scene, self.video = renderer, scene, video
        self._meshes: SceneMeshes | None = None

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        return self.renderer.render(frames, on_frame)

    def measure_visibility(self, frames: list[Frame]) -> dict[int, list[int]]:
        """Visible pixels per object per frame, for the planner: synth's z-buffer draws the same
        triangles Blender renders (``meshes``; ids and depth agree with Blender's passes, see
        tests/test_backend_conformance.py) at 1/``PLAN_SCALE`` resolution, counts scaled back to
        full-resolution pixels. It replaced a quarter-resolution Workbench id render: same
        estimates, ~10x less time (docs/benchmarks.md)."""
        if self._meshes is None:
            self._meshes = SceneMeshes(self.scene, self.renderer.meshes)
        w, h = self.video.width, self.video.height
        return measure_visibility(self.scene, frames, w, h, self._meshes, scale=PLAN_SCALE)

    def close(self) -> None:
        """Nothing to free: the next ``open`` replaces the scene."""
