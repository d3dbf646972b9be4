"""One episode, stage by stage: sample -> plan -> render (worker process) -> questions -> sample."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.backends.registry import scene_source
from synth.core.evidence import remeasured, with_evidence
from synth.core.meshes import MeshCache
from synth.core.plugin import Renderer, RenderSession
from synth.core.records import PAIR, SampleMeta
from synth.core.scene import Episode, Frame
from synth.flows.config import RunConfig
from synth.flows.progress import Reporter
from synth.flows.version import code_version
from synth.planning.planner import NoCameraPath
from synth.planning.shoot import shoot
from synth.programs.family_io import load_user_families
from synth.programs.generate import GenerationReport, generate_questions, pair_items, reanswer, settle_items
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import VIEWS_FILE, Sample, build_sample
from synth.storage.media import NO_VIEWS, decode_gt, decode_views, encode_gt, encode_mp4, encode_views

MAX_SCENE_ATTEMPTS = 8
log = logging.getLogger("synth.episode")


@dataclass
class Variant:
    """A degraded rendition of an episode: its own video, GT, visibility and parameter record."""

    name: str  # e.g. "fog-2" (the sample key's suffix)
    episode_json: str
    media: dict[str, bytes]
    record: dict


@dataclass
class Views:
    """Candidate views after the video (``--settle-views``): the object the video never shows, the
    views' frames (JSON list of ``Frame``) and their RGB and passes (``views.npz``)."""

    target: int
    frames_json: str
    npz: bytes


@dataclass
class Rendered:
    """What a render worker sends back: the episode, its encoded media and its degraded variants."""

    index: int
    seed: int
    episode_json: str
    media: dict[str, bytes]
    timings: dict[str, float]
    variants: list[Variant] = field(default_factory=list)
    contact_sheet: bytes | None = None  # JPEG, types x severities of the first episode (run preview)
    pair: Variant | None = None  # --minimal-pairs: the episode with one object moved (record: the move)
    views: Views | None = None  # --settle-views: candidate views after the video
    worker_rss_mb: float = 0.0  # resident memory of the render worker once it was done, MiB


def episode_key(index: int) -> str:
    return f"ep{index:07d}"


def sample_keys(cfg: RunConfig, index: int) -> list[str]:
    """The clean sample's key, then one per degradation variant."""
    key = episode_key(index)
    return [key, *(f"{key}-{kind}-{severity}" for kind, severity in cfg.variants())]


def pair_key(index: int) -> str:
    """The key of episode ``index``'s minimal pair sample (``--minimal-pairs``; only where one was
    made: an object could be moved and some answer flips)."""
    return f"{episode_key(index)}-{PAIR}"


def episode_seed(run_seed: int, index: int, attempt: int = 0) -> int:
    """Per-episode seed derived from the run seed: same run, same data however scheduled."""
    return int(np.random.SeedSequence([run_seed, index, attempt]).generate_state(1, np.uint32)[0])


def shoot_episode(
    cfg: RunConfig, index: int, renderer: Renderer, timings: dict[str, float], report: Reporter | None = None
):
    """Seed, episode and rendered buffers of episode ``index``. A scene that leaves no feasible
    camera path is replaced by the next attempt's, deterministically."""
    for attempt in range(MAX_SCENE_ATTEMPTS):
        if report:
            report.stage("scene")
        seed = episode_seed(cfg.seed, index, attempt)
        t = time.perf_counter()
        scene = scene_source(cfg.source, renderer)(seed)
        timings["scene"] = time.perf_counter() - t
        rng = np.random.default_rng([seed, 1])
        try:
            episode, buffers = shoot(
                renderer,
                scene,
                cfg.video,
                cfg.visibility,
                rng,
                dynamic=bool(rng.random() < cfg.dynamic_share),
                targets=cfg.targets,
                candidates=cfg.plan_candidates,
                trajectory=cfg.trajectory,
                timings=timings,
                on_stage=report.stage if report else None,
                on_frame=report.frame if report else None,
            )
        except NoCameraPath as e:  # no path in this scene, or the simulator refused one (ThorActionFailed)
            log.warning("episode %d attempt %d re-planned: %s", index, attempt, e)
            continue
        return seed, episode, buffers
    raise RuntimeError(f"episode {index}: no scene with a feasible camera path in {MAX_SCENE_ATTEMPTS} attempts")


def render_episode(cfg: RunConfig, index: int, renderer: Renderer, report: Reporter | None = None) -> Rendered:
    """The worker-process half: scene, plan, render, encode (progress events to ``report``)."""
    timings: dict[str, float] = {}
    seed, episode, buffers = shoot_episode(cfg, index, renderer, timings, report)
    if report:
        report.stage("evidence")
    t = time.perf_counter()
    with ThreadPoolExecutor(1, thread_name_prefix="encode") as pool:  # the encoders release the GIL
        mp4 = pool.submit(encode_mp4, buffers.rgb, cfg.video.fps)
        gt = pool.submit(encode_gt, buffers.depth, buffers.instance)
        episode = with_evidence(episode, buffers.depth, buffers.instance, renderer.meshes)
        timings["evidence"] = time.perf_counter() - t
        t = time.perf_counter()
        media = {"mp4": mp4.result(), "gt.npz": gt.result()}
    timings["encode"] = time.perf_counter() - t  # what encoding took beyond the evidence
    t = time.perf_counter()
    if report and cfg.variants():
        report.stage("degradations")
    variants, sheet = degraded_variants(cfg, episode, buffers, seed, with_sheet=index == 0, meshes=renderer.meshes)
    timings["degrade"] = time.perf_counter() - t
    pair = views = None
    if cfg.minimal_pairs or cfg.settle_views:  # more renders of the same scene: one session
        if report:
            report.stage("more views")
        t = time.perf_counter()
        session = renderer.open(episode.scene, cfg.video)
        try:
            pair = pair_variant(cfg, episode, session, renderer.meshes) if cfg.minimal_pairs else None
            views = extra_views(cfg, episode, session, seed) if cfg.settle_views else None
        finally:
            session.close()
        timings["more views"] = time.perf_counter() - t
    return Rendered(index, seed, episode.model_dump_json(), media, timings, variants, sheet, pair=pair, views=views)


def pair_variant(
    cfg: RunConfig, episode: Episode, session: RenderSession, meshes: MeshCache | None = None
) -> Variant | None:
    """The episode rendered once more, in ``session`` (its scene open), with one object moved
    (``synth.planning.pairs``): the first candidate move (objects the video shows most first) after
    which the object is still seen by the visibility rule (each frame places every object at its
    pose: one scene serves both); None where no move keeps it seen."""
    from synth.planning.pairs import moved, moves

    rule = cfg.visibility
    for move in moves(episode):
        paired = moved(episode, move)
        counts = session.measure_visibility(paired.frames).get(move.object_id, [])
        if sum(c >= rule.min_pixels for c in counts) < rule.min_frames:
            continue
        buffers = session.render(paired.frames)
        paired = remeasured(paired, buffers.depth, buffers.instance, meshes)
        media = {"mp4": encode_mp4(buffers.rgb, cfg.video.fps), "gt.npz": encode_gt(buffers.depth, buffers.instance)}
        return Variant(PAIR, paired.model_dump_json(), media, move.record())
    return None


def extra_views(cfg: RunConfig, episode: Episode, session: RenderSession, seed: int) -> Views | None:
    """The candidate views of ``synth.planning.views`` rendered in ``session``; None where the
    episode has none."""
    from synth.planning.views import candidate_views

    found = candidate_views(episode, cfg.visibility, session.measure_visibility, np.random.default_rng([seed, 34, 4]))
    if found is None:
        return None
    buffers = session.render(found.frames)
    frames = json.dumps([f.model_dump(mode="json") for f in found.frames])
    return Views(found.target, frames, encode_views(buffers.rgb, buffers.depth, buffers.instance))


def degraded_variants(
    cfg: RunConfig, episode: Episode, buffers, seed: int, with_sheet: bool = False, meshes: MeshCache | None = None
) -> tuple[list[Variant], bytes | None]:
    """Every configured degradation of the episode, from one shared Gaussian model (and, if
    asked, a contact sheet of the configured types at every severity); ``meshes``: the objects'
    meshes where kept (``Renderer.meshes``), for the variants' evidence."""
    if not cfg.variants():
        return [], None
    from synth.degradations import build_splats, contact_sheet, degrade

    splats = build_splats(episode, buffers)
    out = []
    for kind, severity in cfg.variants():
        d = degrade(episode, buffers, kind, severity, seed, splats=splats)
        frames = episode.frames
        if d.camera_K is not None:
            frames = [
                f.model_copy(
                    update={
                        "camera": f.camera.model_copy(
                            update={"K": tuple(tuple(r) for r in K), "distortion": d.distortion}
                        )
                    }
                )
                for f, K in zip(frames, d.camera_K)
            ]
        depth = buffers.depth if d.depth is None else d.depth
        instance = buffers.instance if d.instance is None else d.instance
        variant = with_evidence(
            episode.model_copy(
                update={
                    "frames": frames,
                    "visibility": d.visibility,
                    "renderer": {**episode.renderer, "degradation": f"{kind}:{severity}"},
                }
            ),
            depth,
            instance,
            meshes,
        )
        media = {"mp4": d.mp4, "gt.npz": encode_gt(depth, instance)}  # the video its visibility was judged on
        out.append(Variant(f"{kind}-{severity}", variant.model_dump_json(), media, d.record))
    sheet = None
    if with_sheet:
        import io

        from PIL import Image

        kinds = list(dict.fromkeys(k for k, _ in cfg.variants()))
        buf = io.BytesIO()
        Image.fromarray(contact_sheet(episode, buffers, kinds=kinds, seed=seed, cell_width=120, splats=splats)).save(
            buf, format="JPEG", quality=75
        )
        sheet = buf.getvalue()
    return out, sheet


def families(cfg: RunConfig) -> dict:
    """The library families plus the run's compiled ones, those ``cfg.streaming`` names marked
    streaming; ValueError naming an id that is neither."""
    found = {**FAMILIES, **load_user_families(Path(cfg.families))} if cfg.families else dict(FAMILIES)
    for fid in filter(None, (f.strip() for f in cfg.streaming.split(","))):
        if fid not in found:
            raise ValueError(f"--streaming names {fid!r}, which is not a family (library: {', '.join(FAMILIES)})")
        found[fid] = found[fid].model_copy(update={"streaming": True})
    return found


def ask(cfg: RunConfig, rendered: Rendered, pool: SandboxPool) -> list[Sample]:
    """The main-process half: verified questions in the sandbox, then the samples (the clean one
    and one per variant, asking the same questions; a variant's answers are recomputed on its own
    visibility and evidence, and questions it no longer supports become abstentions). The clean
    sample carries the generation report (candidates, dropped, rejected, asked per family)."""
    report = GenerationReport()
    episode = Episode.model_validate_json(rendered.episode_json)
    asked = families(cfg)
    questions = generate_questions(
        episode,
        np.random.default_rng([rendered.seed, 2]),
        pool,
        per_family=cfg.questions_per_family,
        abstention_share=cfg.abstention_share,
        report=report,
        families=asked,
        adaptation=cfg.adaptation,
        balance_perspective=cfg.balance_perspective,
    )
    key = episode_key(rendered.index)
    common = {"index": rendered.index, "seed": rendered.seed, "config": cfg.sample_settings()}
    common["code_version"] = code_version()
    pair, paired = minimal_pair(cfg, rendered, episode, pool, asked, common) if rendered.pair else (None, [])
    settled, views = settle_views(rendered, episode, pool, asked) if rendered.views else ([], [])
    meta = SampleMeta(
        key=key,
        variant="clean",
        episode=episode,
        questions=[*questions, *paired, *settled],
        generation=report.as_dict(),
        views=views if settled else None,
        **common,
    )
    media = {**rendered.media, VIEWS_FILE: rendered.views.npz} if settled else rendered.media
    # the pair first: a rerun that finds the clean sample staged has the pair too
    samples = [*([pair] if pair else []), build_sample(meta, media)]
    for v in rendered.variants:
        degraded = Episode.model_validate_json(v.episode_json)
        items = reanswer(degraded, questions, pool, asked, severity=int(v.name.rsplit("-", 1)[1]))
        meta = SampleMeta(
            key=f"{key}-{v.name}", variant=v.name, episode=degraded, questions=items, degradation=v.record, **common
        )
        samples.append(build_sample(meta, v.media))
    if cfg.settle_views:  # every sample of the run has the file (WebDataset readers need the same files)
        none = encode_views(*NO_VIEWS)
        for s in samples:
            s.files.setdefault(VIEWS_FILE, none)
    return samples


def settle_views(rendered: Rendered, episode: Episode, pool: SandboxPool, asked: dict) -> tuple[list, list[Frame]]:
    """The "which view would settle it" items of an episode (``generate.settle_items``) on the
    candidate views the worker rendered, and those views' frames."""
    frames = [Frame.model_validate(f) for f in json.loads(rendered.views.frames_json)]
    _, depth, instance = decode_views(rendered.views.npz)
    items = settle_items(
        episode, decode_gt(rendered.media["gt.npz"]), frames, (depth, instance), rendered.views.target, pool, asked,
        seed=rendered.seed,
    )  # fmt: skip
    return items, frames


def minimal_pair(
    cfg: RunConfig, rendered: Rendered, episode: Episode, pool: SandboxPool, asked: dict, common: dict
) -> tuple[Sample | None, list]:
    """The minimal pair's sample of an episode (``--minimal-pairs``): the items whose answer flips
    with the object the worker moved (``generate.pair_items``), as asked of the moved episode, each
    linked to the clean sample (``QA.pair``); and the same items as asked of the clean episode,
    linked to it, for the clean sample. (None, []) where no answer flips."""
    paired = Episode.model_validate_json(rendered.pair.episode_json)
    key = episode_key(rendered.index)
    mine, theirs = pair_items(
        episode, paired, rendered.pair.record["moved"], pool, asked, per_family=cfg.questions_per_family,
        seed=rendered.seed,
    )  # fmt: skip
    if not mine:
        return None, []
    linked = [q.model_copy(update={"pair": key}) for q in theirs]
    meta = SampleMeta(
        key=pair_key(rendered.index), variant=PAIR, episode=paired, questions=linked, change=rendered.pair.record,
        **common,
    )  # fmt: skip
    return build_sample(meta, rendered.pair.media), [
        q.model_copy(update={"pair": pair_key(rendered.index)}) for q in mine
    ]
