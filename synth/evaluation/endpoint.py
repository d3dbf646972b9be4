"""Asking an OpenAI-compatible vision endpoint (vLLM, SGLang, llama.cpp server, hosted APIs) a
dataset's questions, for ``synth eval DIR --base-url URL --model NAME``.

Each question goes out as one chat completion: a system line, then a user message holding
``frames`` frames sampled evenly from the sample's video (JPEG data URLs, the longer side scaled
to ``size`` pixels, as ``image_url`` content parts), then the question with its options
(``synth.evaluation.prompt.prompt``). Requests run ``concurrency`` at a time; timeouts, 429 and 5xx are
retried with backoff (``synth.programs.llm.ChatClient``). Every reply is appended to the predictions
file (JSONL ``{"id", "answer"}``) as soon as it arrives, so a rerun asks only what is missing.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from synth.evaluation.items import Item
from synth.evaluation.prompt import prompt
from synth.evaluation.scorer import read_predictions
from synth.programs.llm import ChatClient, LLMError
from synth.storage.media import jpeg, sample_frames

SYSTEM = (
    "You answer questions about a video of an indoor scene. The images are frames of the video, in order. "
    "Answer briefly, as the question asks."
)


@dataclass(frozen=True)
class AskReport:
    asked: int  # requests answered this time
    skipped: int  # items the predictions file already answered
    failed: dict[str, str]  # item id -> error, after retries


def frame_urls(mp4: bytes, frames: int, size: int) -> list[str]:
    """``frames`` frames spread evenly over the video, longer side ``size`` px, as JPEG data URLs."""
    return [
        "data:image/jpeg;base64," + base64.b64encode(jpeg(f, quality=90, max_side=size)).decode()
        for f in sample_frames(mp4, frames)
    ]


def messages(item: Item, urls: list[str]) -> list[dict]:
    content: list[dict] = [{"type": "text", "text": f"{len(urls)} frames of the video, in order:"}]
    content += [{"type": "image_url", "image_url": {"url": u}} for u in urls]
    content.append({"type": "text", "text": prompt(item.qa)})
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]


def ask_endpoint(
    samples: Iterable[tuple[bytes, list[Item]]],
    client: ChatClient,
    predictions: Path,
    frames: int = 8,
    size: int = 448,
    concurrency: int = 4,
    max_tokens: int = 64,
    log: Callable[[str], None] | None = None,
) -> AskReport:
    """Ask ``client`` every item not yet in ``predictions``, appending replies as they come.
    ``samples`` yields each sample's mp4 bytes with its items (e.g. ``synth.evaluation.items.iter_metas``)."""
    if frames < 1 or size < 16 or concurrency < 1:
        raise ValueError("frames must be >= 1, size >= 16 px and concurrency >= 1")
    predictions = Path(predictions)
    done = read_predictions(predictions) if predictions.exists() else {}
    predictions.parent.mkdir(parents=True, exist_ok=True)
    lock, failed, asked, skipped = threading.Lock(), {}, 0, 0

    with open(predictions, "a", encoding="utf-8") as out, ThreadPoolExecutor(concurrency) as pool:

        def ask(item: Item, urls: list[str]) -> None:
            nonlocal asked
            try:
                reply = client.chat(messages(item, urls), temperature=0.0, max_tokens=max_tokens).text
            except LLMError as e:
                with lock:
                    failed[item.id] = str(e)
                return
            with lock:
                out.write(json.dumps({"id": item.id, "answer": reply}, ensure_ascii=False) + "\n")
                out.flush()
                asked += 1

        for n, (mp4, items) in enumerate(samples, 1):
            todo = [i for i in items if i.id not in done]
            skipped += len(items) - len(todo)
            if not todo:
                continue
            urls = frame_urls(mp4, frames, size)
            list(pool.map(lambda it, urls=urls: ask(it, urls), todo))
            if log:
                log(f"{n} samples: {asked} replies, {skipped} already there, {len(failed)} failed")
    return AskReport(asked=asked, skipped=skipped, failed=failed)
