"""Degradations: physics checks on a real Blender-rendered episode and on synthetic scenes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import open_renderer, renderer_settings
from synth.core.scene import VideoSpec, VisibilityRule
from synth.degradations import DEGRADATIONS, build_splats, degrade, parse_spec
from synth.degradations import raster as R
from synth.degradations.base import Source, fill_holes
from synth.degradations.blur import exposure_times, image_motion, integrate_exposure
from synth.degradations.gaussians import KAPPA, Gaussians, frame_surfels, linear_to_srgb, psnr, srgb_to_linear
from synth.degradations.lens import fit_intrinsics, sample, source_pixels
from synth.degradations.sensor import FULL_SCALE_E, READ_NOISE_E, sensor
from synth.degradations.sheet import LABEL_H, LABEL_W, contact_sheet
from synth.planning.shoot import shoot
from tests.splats import random_gaussians

W, H, FPS, N_FRAMES, SEED = 320, 240, 8.0, 8, 1


def draft_episode(seed: int, n_frames: int, width: int, height: int, fps: float):
    """A small real episode (draft Blender, dynamic) and its rendered buffers."""
    renderer = open_renderer(renderer_settings("blender", quality="draft"))
    try:
        video = VideoSpec(frames=n_frames, width=width, height=height, fps=fps)
        return shoot(renderer, sample_scene(seed), video, VisibilityRule(), np.random.default_rng(seed), dynamic=True)
    finally:
        renderer.close()


@pytest.fixture(scope="module")
def episode():
    """A small real episode (draft Blender, dynamic) and its Gaussians."""
    ep, buf = draft_episode(SEED, N_FRAMES, W, H, FPS)
    return ep, buf, build_splats(ep, buf)


def moving_frame(episode) -> int:
    """The inner frame whose image moves the most around its time (its blur is the largest)."""
    ep, buf, splats = episode
    src = Source(ep, buf, [], splats)
    motion = [image_motion(src, i, ep.frames[i].time - 0.05, ep.frames[i].time + 0.05) for i in range(1, N_FRAMES - 1)]
    return 1 + int(np.argmax(motion))


# -- Gaussians and renderer --------------------------------------------------------------------
def test_clean_rerender_psnr_and_coverage(episode):
    ep, buf, splats = episode
    held_out = [i for i in range(N_FRAMES) if i not in splats.keyframes]
    assert held_out, "every frame became a keyframe: the coverage check would be empty"
    for i in range(N_FRAMES):
        t, K = ep.frames[i].time, ep.frames[i].camera.K
        img = R.render(splats.at(t, splats.anchored(i)), splats.camera(t), K, W, H)
        value = psnr(linear_to_srgb(fill_holes(img.color, img.alpha)), buf.rgb[i])
        assert value >= 28.0, f"frame {i}: clean re-render PSNR {value:.1f} dB"
        assert (img.ids == buf.instance[i]).mean() > 0.95
        if i in held_out:  # the fused keyframes alone must cover the frames between them
            fused = R.render(splats.at(t), splats.camera(t), K, W, H)
            holes = (fused.alpha < 0.5).mean()
            assert holes < 0.02, f"frame {i}: {holes:.2%} holes"


def test_surfels_reproject_onto_their_pixels(episode):
    """A frame's surfels land on their own pixels with the pixel footprint's covariance."""
    ep, buf, _ = episode
    cam = ep.frames[0].camera
    g = frame_surfels(buf.depth[0], buf.rgb[0], buf.instance[0], cam.K, cam.world_to_camera)
    p = R.project(g.means, g.quats, g.scales, np.asarray(cam.world_to_camera), np.asarray(cam.K), W, H, eps2d=0.0)
    ys, xs = np.nonzero(np.isfinite(buf.depth[0]))
    np.testing.assert_allclose(p.means2d, np.stack([xs, ys], 1), atol=1e-2)
    np.testing.assert_allclose(p.depths, buf.depth[0][ys, xs], rtol=1e-5)
    a, b, c = p.conics.T.astype(float)
    det = a * c - b * b
    cov = np.stack([c / det, -b / det, a / det], 1)  # (xx, xy, yy) in px^2
    np.testing.assert_allclose(np.median(cov, axis=0), [KAPPA**2, 0.0, KAPPA**2], atol=0.01)
    assert (np.abs(cov - [KAPPA**2, 0, KAPPA**2]).max(1) < 0.05).mean() > 0.8
    np.testing.assert_array_equal(g.ids, buf.instance[0][ys, xs])


def _naive_composite(means2d, conics, depths, radii, opacities, colors, width, height):
    """gsplat's per-pixel rule written out plainly (pixel centres at j + 0.5)."""
    order = [k for k in np.argsort(depths, kind="stable") if radii[k].any()]
    out = np.zeros((height, width, colors.shape[1]))
    alpha_out = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            T = 1.0
            for k in order:
                dx, dy = means2d[k, 0] - (x + 0.5), means2d[k, 1] - (y + 0.5)
                a, b, c = conics[k]
                sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
                alpha = min(0.999, opacities[k] * math.exp(-sigma))
                if sigma < 0 or alpha < 1 / 255:
                    continue
                if T * (1 - alpha) <= 1e-4:
                    break
                out[y, x] += colors[k] * alpha * T
                T *= 1 - alpha
            alpha_out[y, x] = 1 - T
    return out, alpha_out


def test_cpu_rasteriser_agrees_with_gsplat_reference():
    torch = pytest.importorskip("torch")
    ref = pytest.importorskip("gsplat.cuda._torch_impl")
    rng = np.random.default_rng(0)
    g = random_gaussians(rng, 150)
    width, height = 40, 30
    K = np.array([[38.0, 0, 19.5], [0, 38.0, 14.5], [0, 0, 1]])
    angle = 0.2
    view = np.eye(4)
    view[:3, :3] = [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
    view[:3, 3] = [0.1, -0.05, 0.3]

    t = lambda a: torch.as_tensor(np.asarray(a, np.float64))  # noqa: E731
    covars, _ = ref._quat_scale_to_covar_preci(t(g.quats), t(g.scales), compute_preci=False)
    np.testing.assert_allclose(R.covariances(g.quats.astype(float), g.scales.astype(float)), covars.numpy(), atol=1e-6)
    radii, means2d, depths, conics, comp = ref._fully_fused_projection(
        t(g.means), covars, t(view)[None], t(R.gsplat_K(K))[None], width, height, calc_compensations=True
    )
    radii, means2d, depths, conics, comp = (x[0].numpy() for x in (radii, means2d, depths, conics, comp))
    p = R.project(g.means, g.quats, g.scales, view, K, width, height)
    np.testing.assert_array_equal(p.radii, radii)
    vis = radii.any(axis=1)
    assert 40 < vis.sum() < 140, "the scene should be partly culled"
    np.testing.assert_allclose(p.means2d[vis] + 0.5, means2d[vis], atol=1e-3)  # gsplat's K is shifted by 0.5 px
    np.testing.assert_allclose(p.depths, depths, rtol=1e-5)
    np.testing.assert_allclose(p.conics[vis], conics[vis], rtol=2e-3, atol=1e-5)
    np.testing.assert_allclose(p.compensations[vis], comp[vis], rtol=1e-3)

    expected, expected_alpha = _naive_composite(means2d, conics, depths, radii, g.opacities, g.colors, width, height)
    assert expected_alpha.max() > 0.999 and expected_alpha.min() < 0.5  # early stops and thin pixels
    for backend in ("numba", "numpy"):
        if backend == "numba" and R.numba is None:
            continue
        img = R.rasterize(p, g.opacities, g.colors, g.ids, width, height, backend=backend)
        np.testing.assert_allclose(img.color, expected, atol=2e-3, err_msg=backend)
        np.testing.assert_allclose(img.alpha, expected_alpha, atol=2e-3, err_msg=backend)


def test_rasteriser_choice(monkeypatch):
    g, K = _dot_scene(), np.array([[100.0, 0, 32], [0, 100.0, 24], [0, 0, 1]])
    monkeypatch.setenv("SYNTH_RASTERISER", "numpy")
    assert R.resolve() == "numpy" and R.backend_name() == "numpy"
    via_env = R.render(g, np.eye(4), K, 64, 48)
    assert via_env.alpha.max() > 0.5
    np.testing.assert_array_equal(via_env.color, R.render(g, np.eye(4), K, 64, 48, backend="numpy").color)
    assert R.resolve("numba") == ("numba" if R.numba else "numpy")  # an explicit choice wins over the variable
    monkeypatch.setenv("SYNTH_RASTERISER", "opengl")
    with pytest.raises(ValueError, match="SYNTH_RASTERISER='opengl'"):
        R.render(g, np.eye(4), K, 64, 48)
    monkeypatch.delenv("SYNTH_RASTERISER")
    if not R.cuda_available():
        assert R.resolve() in ("numba", "numpy")
        with pytest.raises(RuntimeError, match="needs a CUDA device"):
            R.render(g, np.eye(4), K, 64, 48, backend="cuda")


@pytest.mark.skipif(R.cuda_available(), reason="checks the message a machine without CUDA gets")
def test_gsplat_benchmark_says_it_needs_cuda(tmp_path):
    bench = Path(__file__).resolve().parents[1] / "bench" / "gsplat_cuda.py"
    run = subprocess.run([sys.executable, str(bench), "--load", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode != 0 and "needs a CUDA device" in run.stderr


# -- physics of the types ----------------------------------------------------------------------
def _dot_scene() -> Gaussians:
    """One small bright Gaussian 2 m in front of the origin."""
    return Gaussians(
        means=np.array([[0.0, 0.0, 2.0]], np.float32),
        quats=np.array([[1.0, 0, 0, 0]], np.float32),
        scales=np.full((1, 3), 0.004, np.float32),
        opacities=np.ones(1, np.float32),
        colors=np.ones((1, 3), np.float32),
        ids=np.ones(1, np.int32),
    )


def test_blur_length_grows_with_camera_speed_and_exposure():
    """A dot seen by a camera sliding sideways smears into a segment of length v e f / z."""
    g, f, z = _dot_scene(), 200.0, 2.0
    K = np.array([[f, 0, 99.5], [0, f, 19.5], [0, 0, 1]])

    def blur_length(speed: float, exposure: float) -> float:
        def render_at(t: float) -> R.Image:
            view = np.eye(4)
            view[0, 3] = -speed * t  # camera centre at (speed t, 0, 0)
            return R.render(g, view, K, 200, 40)

        img = integrate_exposure(render_at, exposure_times(0.0, exposure, 48))
        row = img.color[..., 0].sum(0)
        x = np.arange(200)
        var = (row * (x - (row * x).sum() / row.sum()) ** 2).sum() / row.sum()
        static = render_at(0.0).color[..., 0].sum(0)
        var0 = (static * (x - (static * x).sum() / static.sum()) ** 2).sum() / static.sum()
        return math.sqrt(12 * max(var - var0, 0.0))  # a uniform segment of length L has variance L^2 / 12

    lengths = {(v, e): blur_length(v, e) for v in (0.5, 1.0) for e in (1 / 30, 1 / 15)}
    for (v, e), length in lengths.items():
        assert length == pytest.approx(v * e * f / z, rel=0.1), (v, e)
    assert lengths[(1.0, 1 / 30)] > 1.8 * lengths[(0.5, 1 / 30)]
    assert lengths[(0.5, 1 / 15)] > 1.8 * lengths[(0.5, 1 / 30)]


def test_motion_blur_follows_the_real_camera_path(episode):
    ep, buf, splats = episode
    i = moving_frame(episode)
    records = [degrade(ep, buf, "motion_blur", s, 0, frames=[i], splats=splats).record["params"] for s in (1, 3, 5)]
    blur = [r["blur_px"][0] for r in records]
    exposure = [r["exposure_s"] for r in records]
    assert blur[0] < blur[1] < blur[2] and blur[2] > 4.0
    # the image motion over the exposure is the path's: proportional to the exposure here
    assert blur[2] / blur[1] == pytest.approx(exposure[2] / exposure[1], rel=0.25)


def test_fog_attenuation_follows_depth(episode):
    ep, buf, splats = episode
    i = N_FRAMES // 2
    d = degrade(ep, buf, "fog", 3, 0, frames=[i], splats=splats)
    p = d.record["params"]
    beta, airlight = p["extinction_per_m"], p["airlight"]
    K = np.asarray(ep.frames[i].camera.K)
    ys, xs = np.mgrid[0:H, 0:W]
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T
    dist = buf.depth[i] * np.linalg.norm(rays, axis=-1)  # along the ray, not planar depth
    clean, fogged = srgb_to_linear(buf.rgb[i]).mean(-1), srgb_to_linear(d.rgb[0]).mean(-1)
    contrast = clean - airlight
    ok = np.abs(contrast) > 0.05  # pixels that differ from the airlight enough to measure
    ratio = (fogged - airlight) / np.where(ok, contrast, 1.0)
    near, far = ok & (dist < np.percentile(dist, 25)), ok & (dist > np.percentile(dist, 75))
    assert near.sum() > 500 and far.sum() > 500
    r_near, r_far = np.median(ratio[near]), np.median(ratio[far])
    assert r_far < r_near - 0.1, "far pixels must be closer to the airlight"
    assert r_near == pytest.approx(math.exp(-beta * np.median(dist[near])), abs=0.08)
    assert r_far == pytest.approx(math.exp(-beta * np.median(dist[far])), abs=0.08)


def test_dense_fog_hides_far_objects_only(episode):
    ep, buf, splats = episode
    d = degrade(ep, buf, "fog", 5, 0, splats=splats)
    mor = d.record["params"]["mor_m"]
    after = {v.id: v.pixels for v in d.visibility}
    far = near = 0
    for i, frame in enumerate(ep.frames):
        K = np.asarray(frame.camera.K)
        ys, xs = np.mgrid[0:H, 0:W]
        dist = buf.depth[i] * np.linalg.norm(np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T, axis=-1)
        for obj in ep.scene.objects:
            mask = buf.instance[i] == obj.id
            if mask.sum() < 50:
                continue
            r = np.median(dist[mask])
            if r > 1.1 * mor and mask.sum() >= ep.visibility_rule.min_pixels:
                # contrast below the 5% threshold: not visible (a faint glimpse at most, fewer than min_pixels)
                assert after[obj.id][i] < ep.visibility_rule.min_pixels, f"frame {i}: object {obj.id} at {r:.1f} m"
                far += 1
            elif r < 0.6 * mor:
                assert after[obj.id][i] >= 0.5 * mask.sum(), f"frame {i}: object {obj.id} at {r:.1f} m lost"
                near += 1
    assert far and near, ("the episode needs objects both near and beyond the visual range", far, near)


def test_low_light_noise_variance_grows_with_gain():
    rng = np.random.default_rng(0)
    x, light = np.full((200, 200, 3), 0.2), 0.1  # 20 electrons: far from clipping at 0 and 1
    variances = []
    for gain in (1.0, 2.0, 4.0, 8.0):
        out = sensor(x, light, gain, rng)
        variances.append(out.var())
        electrons = x[0, 0, 0] * light * FULL_SCALE_E
        expected = gain**2 * (electrons + READ_NOISE_E**2) / FULL_SCALE_E**2  # shot + read noise, gained
        assert out.var() == pytest.approx(expected, rel=0.1)
    assert all(b / a == pytest.approx(4.0, rel=0.15) for a, b in zip(variances, variances[1:]))


def _brown_conrady(xn: np.ndarray, k1, k2, p1, p2, k3) -> np.ndarray:
    """OpenCV's distortion model, written out independently of the package."""
    x, y = xn[:, 0], xn[:, 1]
    r2 = x**2 + y**2
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x**2)
    yd = y * radial + p1 * (r2 + 2 * y**2) + 2 * p2 * x * y
    return np.stack([xd, yd], 1)


def test_lens_distortion_moves_points_as_brown_conrady_predicts():
    K = np.array([[228.5, 0, 159.5], [0, 228.5, 119.5], [0, 0, 1]])
    coeffs = (-0.25, 0.03, 0.002, -0.001, 0.0)
    K_new = fit_intrinsics(K, coeffs, W, H)
    assert K_new[0, 0] > K[0, 0], "barrel distortion needs a zoom to keep every pixel inside the frame"
    # bright dots at known clean pixels; find them again in the distorted image
    dots = np.array([[40.0, 30.0], [280.0, 40.0], [160.0, 120.0], [60.0, 200.0], [270.0, 210.0], [200.0, 90.0]])
    ys, xs = np.mgrid[0:H, 0:W]
    img = sum(np.exp(-((xs - u) ** 2 + (ys - v) ** 2) / (2 * 1.5**2)) for u, v in dots)
    out = sample(img, source_pixels(K, K_new, coeffs, W, H))
    xn = (dots - K[:2, 2]) / [K[0, 0], K[1, 1]]
    predicted = _brown_conrady(xn, *coeffs) * [K_new[0, 0], K_new[1, 1]] + K_new[:2, 2]
    for u, v in predicted:
        win = (np.abs(xs - u) < 6) & (np.abs(ys - v) < 6)
        found = np.array([(out * xs)[win].sum(), (out * ys)[win].sum()]) / out[win].sum()
        assert np.linalg.norm(found - [u, v]) < 0.5, (found, (u, v))
    moved = np.linalg.norm(predicted - dots, axis=1)
    assert moved.max() > 8 and moved[2] < 1.0, "corners move, the centre stays"


def test_shipped_intrinsics_reproject_world_points(episode):
    ep, buf, splats = episode
    i = N_FRAMES // 2
    d = degrade(ep, buf, "lens_distortion", 4, 0, frames=[i], splats=splats)
    K_new, coeffs = np.asarray(d.camera_K[0]), d.distortion
    assert d.record["params"]["distortion"] == list(coeffs)
    K, T = np.asarray(ep.frames[i].camera.K), np.asarray(ep.frames[i].camera.world_to_camera)
    # world points on objects (back-projected clean pixels), reprojected with the shipped camera
    ys, xs = np.mgrid[0:H:3, 0:W:3]
    ids = buf.instance[i][ys, xs]
    keep = ids > 0
    z = buf.depth[i][ys, xs][keep]
    cam = np.stack([(xs[keep] - K[0, 2]) / K[0, 0] * z, (ys[keep] - K[1, 2]) / K[1, 1] * z, z], 1)
    world = (cam - T[:3, 3]) @ T[:3, :3]
    pc = world @ T[:3, :3].T + T[:3, 3]
    uv = _brown_conrady(pc[:, :2] / pc[:, 2:3], *coeffs) * [K_new[0, 0], K_new[1, 1]] + K_new[:2, 2]
    px = np.round(uv).astype(int)
    inside = (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
    assert inside.mean() > 0.5
    hit = d.instance[0][px[inside, 1], px[inside, 0]] == ids[keep][inside]
    assert hit.mean() > 0.95
    assert np.isfinite(d.depth).all()


# -- the public contract -----------------------------------------------------------------------
def test_severities_are_monotonic_and_records_complete(episode):
    ep, buf, splats = episode
    i = moving_frame(episode)
    clean = srgb_to_linear(buf.rgb[i])
    for kind, spec in DEGRADATIONS.items():
        errors, visible = [], []
        for s in (1, 2, 3, 4, 5):
            d = degrade(ep, buf, kind, s, 0, frames=[i], splats=splats)
            assert d.rgb.shape == (1, H, W, 3) and d.rgb.dtype == np.uint8
            rec = json.loads(json.dumps(d.record))
            assert rec["type"] == kind and rec["severity"] == s and rec["seed"] == 0 and rec["method"] == spec.method
            assert set(spec.params) <= set(rec["params"]), (kind, set(spec.params) - set(rec["params"]))
            errors.append(float(np.abs(srgb_to_linear(d.rgb[0]) - clean).mean()))
            visible.append(sum(v.pixels[0] for v in d.visibility))
        assert all(a < b for a, b in zip(errors, errors[1:])), (kind, errors)
        assert visible[-1] <= visible[0], (kind, visible)
        assert visible[0] <= sum(ep.visible_pixels(o.id)[i] for o in ep.scene.objects)


@pytest.mark.parametrize("kind", ["rain", "low_light", "snow"])
def test_same_seed_same_output(episode, kind):
    ep, buf, splats = episode
    a = degrade(ep, buf, kind, 3, 7, frames=[2, 3], splats=splats)
    b = degrade(ep, buf, kind, 3, 7, frames=[2, 3], splats=splats)
    c = degrade(ep, buf, kind, 3, 8, frames=[2, 3], splats=splats)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert a.record == b.record and a.visibility == b.visibility
    assert not np.array_equal(a.rgb, c.rgb)
    alone = degrade(ep, buf, kind, 3, 7, frames=[3], splats=splats)  # a frame does not depend on the others
    np.testing.assert_array_equal(alone.rgb[0], a.rgb[1])


def test_contact_sheet(episode, tmp_path):
    ep, buf, splats = episode
    path = tmp_path / "sheet.png"
    img = contact_sheet(ep, buf, frame=2, kinds=["fog", "low_light"], severities=(1, 5), splats=splats, path=path)
    cell_h = 160 * H // W
    assert img.shape == (LABEL_H + 2 * cell_h, LABEL_W + 3 * 160, 3)
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), img)
    fog_1, fog_5 = (img[LABEL_H : LABEL_H + cell_h, LABEL_W + k * 160 : LABEL_W + (k + 1) * 160] for k in (1, 2))
    assert fog_5.std() < fog_1.std(), "dense fog flattens the image"


def test_parse_spec():
    assert parse_spec("motion_blur:3, fog:2") == [("motion_blur", 3), ("fog", 2)]
    for bad, message in [
        ("smoke:2", "unknown degradation 'smoke'"),
        ("fog:6", "severity must be 1-5"),
        ("fog:x", "must be an integer"),
        ("fog", "give a severity"),
        ("", "empty"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_spec(bad)


def test_in_view_keeps_every_gaussian_the_projection_keeps():
    """The cull before projecting particle clouds drops only Gaussians the projection culls."""
    rng = np.random.default_rng(3)
    g = random_gaussians(rng, 4000)
    g = g.with_(
        means=(g.means * 6.0).astype(np.float32), scales=(g.scales * rng.uniform(0.2, 8, (4000, 1))).astype(np.float32)
    )
    K = np.array([[300.0, 0, 159.5], [0, 300.0, 119.5], [0, 0, 1]])
    for angle in (0.0, 0.7, 2.0):
        view = np.eye(4)
        view[:3, :3] = [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
        kept = set(R.in_view(g.means, g.scales, view, K, W, H).tolist())
        projected = set(np.nonzero(R.project(g.means, g.quats, g.scales, view, K, W, H).radii[:, 0] > 0)[0].tolist())
        assert projected and projected <= kept and len(kept) < len(g), angle


def test_variants_sharing_one_model_match_variants_made_alone(episode):
    """What an episode's variants share (anchored Gaussians, clean re-renders, object rings) is
    kept on the one model and changes nothing: each variant equals the same variant made from a
    model of its own; the kept values stay under the model's memory bound."""
    ep, buf, _ = episode
    shared = build_splats(ep, buf)
    for kind in ("motion_blur", "fog", "rain", "low_light"):
        together = degrade(ep, buf, kind, 3, 0, splats=shared)
        alone = degrade(ep, buf, kind, 3, 0, splats=build_splats(ep, buf))
        assert np.array_equal(together.rgb, alone.rgb), kind
        assert [v.pixels for v in together.visibility] == [v.pixels for v in alone.visibility], kind
    kinds = {key[0] for key in shared.kept}
    assert {"anchored", "clean", "reference", "surround"} <= kinds
    from synth.degradations.gaussians import MEMO_BYTES, _nbytes

    assert sum(_nbytes(v) for v in shared.kept.values()) == shared.kept_bytes <= MEMO_BYTES


def test_dominant_id_over_sub_frames():
    """The id with the largest mean weight over the renders, the smaller id of a tie, none where
    no render puts weight on the pixel."""
    from synth.degradations.base import dominant

    ids = [np.array([[3, 1, -1, 2]]), np.array([[1, 3, -1, 5]]), np.array([[1, 2, -1, 2]])]
    w = [np.array([[0.9, 0.5, 0.0, 0.2]]), np.array([[0.5, 0.5, 0.0, 0.9]]), np.array([[0.5, 1.0, 0.0, 0.3]])]
    best, weight = dominant(ids, w)
    assert best.tolist() == [[1, 2, -1, 5]]  # 1: 1.0 vs 0.9; 2: 1.0 beats 3's 0.5; 5: 0.9 beats 2's 0.5
    np.testing.assert_allclose(weight, [[1.0 / 3, 1.0 / 3, 0.0, 0.3]])
    tie, _ = dominant([np.array([[4]]), np.array([[2]])], [np.array([[0.5]]), np.array([[0.5]])])
    assert tie.tolist() == [[2]]


@pytest.mark.skipif(R.numba is None, reason="numba is not installed")
def test_the_row_cull_changes_no_pixel():
    """The compositor skips, per row of a tile, the Gaussians whose falloff cannot reach it: with
    the cull off (an infinite margin) every output is the same, bit for bit, for elongated,
    rotated, faint and opaque Gaussians over one another."""
    rng = np.random.default_rng(3)
    n = 3000
    means = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n), rng.uniform(1, 6, n)])
    scales = rng.uniform(0.002, 0.2, (n, 3)) * rng.choice([1.0, 0.05], (n, 3))  # needles and discs
    g = Gaussians(
        means=means.astype(np.float32),
        quats=rng.normal(size=(n, 4)).astype(np.float32),
        scales=scales.astype(np.float32),
        opacities=rng.uniform(0.01, 1.0, n).astype(np.float32),
        colors=rng.random((n, 3)).astype(np.float32),
        ids=rng.integers(0, 20, n).astype(np.int32),
    )
    K = np.array([[60.0, 0, 40], [0, 60.0, 30], [0, 0, 1]])
    p = R.project(g.means, g.quats, g.scales, np.eye(4), K, 81, 61)
    ranges = R._pixel_ranges(p, g.opacities, 81, 61)
    culled = R._rasterize_numba(*ranges, p, g.opacities, g.colors, g.ids, 81, 61)
    every = R._rasterize_numba(*ranges, p, g.opacities, g.colors, g.ids, 81, 61, margin=np.inf)
    assert every.alpha.max() > 0.99 and (every.alpha < 0.5).any()
    for field in ("color", "alpha", "depth", "ids", "id_weight"):
        np.testing.assert_array_equal(getattr(culled, field), getattr(every, field), err_msg=field)
