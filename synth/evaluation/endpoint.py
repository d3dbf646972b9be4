"""Asking an OpenAI-compatible vision endpoint (vLLM, SGLang, llama.cpp server, hosted APIs) a
dataset's questions, for ``synth eval DIR --base-url URL --model NAME``.

Each question goes out as one chat completion: a system line, then a user message holding
``frames`` frames sampled evenly from the sample's video (JPEG data URLs, the longer side scaled
to ``size`` pixels, as ``image_url`` content parts), then the question with its options
(``synth.evaluation.prompt.prompt``). A question about one frame is sent with that frame among
them (in place of the nearest) and names it by its place among those sent (:func:`shown`). A
streaming question (``QA.query_frame``, asked with ``synth eval --streaming``) is sent only frames
up to and including its query frame, spread evenly over them: never one not yet seen at the query.
A "which view would settle it" question (``QA.settles``) is sent the candidate views too, after
the frames (the sample's ``views.npz``). Requests run ``concurrency`` at a time; timeouts, 429
and 5xx are retried with backoff (``synth.programs.llm.ChatClient``). Every reply is appended
whole (reasoning included, as the endpoint sent it; ``synth.evaluation.answers`` reads its final
answer) to the predictions file (JSONL ``{"id", "answer", "finish_reason"}``) as soon as it
arrives, so a rerun asks only what is missing. ``max_tokens`` bounds a reply; its default leaves
reasoning models room to finish (a reply cut off at the limit has ``finish_reason`` "length" and
is counted).
``AskSettings`` holds these options and the endpoint's (``synth.programs.llm.EndpointSettings``).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from synth.evaluation.items import Item
from synth.evaluation.prompt import name_frame, prompt
from synth.evaluation.scorer import read_predictions
from synth.programs.llm import ChatClient, EndpointSettings, LLMError
from synth.storage.dataset import VIEWS_FILE
from synth.storage.media import decode_mp4, decode_views, frame_indices, jpeg

SYSTEM = (
    "You answer questions about a video of an indoor scene. The images are frames of the video, in order. "
    "Answer briefly, as the question asks."
)


class AskSettings(BaseModel):
    """How ``synth eval --base-url`` asks an endpoint a dataset's questions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: EndpointSettings = Field(
        default_factory=lambda: EndpointSettings(timeout=120.0), description="the endpoint to ask"
    )
    frames: int = Field(8, ge=1, description="frames sent per question, spread evenly over the video")
    size: int = Field(448, ge=16, description="longer side of each frame, px")
    concurrency: int = Field(4, ge=1, description="requests in flight")
    max_tokens: int = Field(4096, ge=1, description="reply length limit, tokens (room for reasoning models)")


@dataclass(frozen=True)
class AskReport:
    asked: int  # requests answered this time
    skipped: int  # items the predictions file already answered
    failed: dict[str, str]  # item id -> error, after retries
    cut_off: int  # replies this time that stopped at max_tokens (finish_reason "length")


def frame_url(frame: np.ndarray, size: int) -> str:
    """A (H, W, 3) uint8 frame, longer side ``size`` px, as a JPEG data URL."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg(frame, quality=90, max_side=size)).decode()


def shown(item: Item, total: int, frames: int) -> tuple[list[int], Item]:
    """The frames sent with ``item`` (``frames`` spread evenly over the video, or for a streaming
    question over its frames up to its ``query_frame``; for a question about one frame, that frame
    in place of the nearest of them) and the item with its question naming that frame by its
    place among those sent ("frame 3")."""
    if item.qa.query_frame is not None:
        total = min(total, item.qa.query_frame + 1)
    indices = frame_indices(total, frames)
    if "frame" not in item.qa.slots:
        return indices, item
    k = int(item.qa.slots["frame"])
    if k not in indices:
        indices[min(range(len(indices)), key=lambda i: abs(indices[i] - k))] = k
        indices.sort()
    return indices, replace(item, qa=name_frame(item.qa, f"frame {indices.index(k) + 1}"))


def messages(item: Item, urls: list[str], views: list[str] = ()) -> list[dict]:
    """The chat of one question: the frames, then (a "which view would settle it" item) the
    candidate views, named "view 1" ..., then the question."""
    content: list[dict] = [{"type": "text", "text": f"{len(urls)} frames of the video, in order:"}]
    content += [{"type": "image_url", "image_url": {"url": u}} for u in urls]
    if views:
        content.append(
            {"type": "text", "text": f"Then {len(views)} views after the video, view 1 to view {len(views)}:"}
        )
        content += [{"type": "image_url", "image_url": {"url": u}} for u in views]
    content.append({"type": "text", "text": prompt(item.qa)})
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]


def ask_endpoint(
    samples: Iterable[tuple[dict[str, bytes], list[Item]]],
    settings: AskSettings,
    predictions: Path,
    log: Callable[[str], None] | None = None,
) -> AskReport:
    """Ask the endpoint of ``settings`` every item not yet in ``predictions``, appending replies as
    they come. ``samples`` yields each sample's files (``mp4``; ``views.npz`` where it has candidate
    views) with its items (e.g. ``synth.evaluation.items.iter_metas``)."""
    client = ChatClient.from_settings(settings.endpoint)
    frames, size, max_tokens = settings.frames, settings.size, settings.max_tokens
    predictions = Path(predictions)
    done = read_predictions(predictions) if predictions.exists() else {}
    predictions.parent.mkdir(parents=True, exist_ok=True)
    lock, failed, asked, skipped, cut_off = threading.Lock(), {}, 0, 0, 0

    with open(predictions, "a", encoding="utf-8") as out, ThreadPoolExecutor(settings.concurrency) as pool:

        def ask(item: Item, urls: list[str], views: list[str]) -> None:
            nonlocal asked, cut_off
            try:
                reply = client.chat(messages(item, urls, views), temperature=0.0, max_tokens=max_tokens)
            except LLMError as e:
                with lock:
                    failed[item.id] = str(e)
                return
            row = {"id": item.id, "answer": reply.text, "finish_reason": reply.finish_reason}
            with lock:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
                asked += 1
                cut_off += reply.finish_reason == "length"

        for n, (files, items) in enumerate(samples, 1):
            todo = [i for i in items if i.id not in done]
            skipped += len(items) - len(todo)
            if not todo:
                continue
            video = decode_mp4(files["mp4"])
            asks = [shown(i, len(video), frames) for i in todo]
            urls = {k: frame_url(video[k], size) for k in sorted({k for indices, _ in asks for k in indices})}
            views = []
            if any(i.qa.settles is not None for i in todo):
                views = [frame_url(v, size) for v in decode_views(files[VIEWS_FILE])[0]]

            def one(a, urls=urls, views=views) -> None:
                ask(a[1], [urls[k] for k in a[0]], views if a[1].qa.settles is not None else [])

            list(pool.map(one, asks))
            if log:
                log(f"{n} samples: {asked} replies, {skipped} already there, {len(failed)} failed")
    return AskReport(asked=asked, skipped=skipped, failed=failed, cut_off=cut_off)
