"""Compile natural-language question families into verified programs with any OpenAI-compatible model.

A user family (YAML, read by ``synth.programs.family_io.load_family_specs``: question text with
``{slot}`` placeholders, answer type, options, unit, tolerance) goes through

    prompt -> reply -> parse -> restricted compile -> sandbox on sample episodes -> verify -> accept | reject

This module is the loop and its reports; the steps live in ``synth.programs.prompting`` (API reference
and prompts), ``synth.programs.parsing`` (programs and paraphrases out of replies),
``synth.programs.verification`` (sample episodes and the checks), ``synth.programs.reply_cache`` and
``synth.programs.family_io`` (the family files). A program is accepted only if, on every sample
binding, it runs, returns the right type (or None), is deterministic, answers often enough, does
not always give the same answer, and

- agrees with a reference (a library family, or an oracle passed in) where one exists for the
  family (confidence ``reference``), otherwise
- agrees with another independently sampled compilation (confidence ``consensus``, the weaker
  level; the provenance records it, and whether the agreeing programs were textually identical).

A failed attempt is retried with the reason fed back, up to a limit. Replies are cached on disk
by (prompt hash, model, API version); accepted families land in a directory in the same format
as the library (``<id>.py`` + ``<id>.family.yaml`` with the provenance), beside a per-family
verification report. ``synth.programs.family_io.load_user_families`` reads that directory back.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from synth.core.scene import Episode
from synth.programs.family import Family, FamilySpec, FamilySpecError
from synth.programs.family_io import load_family_specs, write_family
from synth.programs.llm import ChatClient, EndpointSettings, LLMError
from synth.programs.parsing import ParseError, extract_program, keep_paraphrases
from synth.programs.prompting import COMPILER_VERSION, api_version, build_messages, paraphrase_prompt
from synth.programs.reply_cache import ReplyCache, default_cache_dir, prompt_hash
from synth.programs.sandbox import SandboxPool
from synth.programs.verification import (
    Check,
    Reference,
    Sample,
    agree,
    draw_samples,
    reference_values,
    verify_program,
)


class CompileSettings(BaseModel):
    """The options of ``compile_families`` (``synth compile``'s flags)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: EndpointSettings = Field(default_factory=EndpointSettings, description="the model to ask")
    out_dir: Path = Field(Path("data") / "families", description="library the accepted families are written to")
    cache_dir: Path | None = Field(None, description="reply cache (None: ~/.cache/synth/compile)")
    use_cache: bool = Field(True, description="reuse cached replies (False: always ask the model)")
    max_attempts: int = Field(3, ge=1, description="attempts per family")
    consensus: int = Field(
        2, ge=2, description="agreeing independent samples a family without a reference needs (one verifies nothing)"
    )
    consensus_temperature: float = Field(0.7, ge=0, description="sampling temperature of the independent samples")
    episodes: int = Field(6, ge=1, description="sample episodes to verify on (when they are made for the run)")
    seed: int = Field(0, description="seed of the sample episodes and of the slot bindings drawn on them")
    max_tokens: int = Field(256, ge=1, description="reply length limit, tokens")
    paraphrase: bool = Field(True, description="ask for the paraphrases the YAML asks for")


# ------------------------------------------------------------------------------------------------
# the compile loop


@dataclass
class Attempt:
    """One request to the model and what became of its reply."""

    n: int
    prompt_hash: str
    temperature: float
    seed: int | None
    cached: bool
    seconds: float
    finish_reason: str
    feedback: str  # the rejection reason this prompt carried back to the model ("" for a fresh prompt)
    program: str
    passed: bool
    reason: str


@dataclass
class FamilyReport:
    """The verification report of one family."""

    id: str
    status: str  # accepted | rejected | error
    reason: str = ""
    confidence: str = ""  # reference | consensus
    reference: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)
    program: str = ""
    path: str = ""
    templates: list[str] = field(default_factory=list)
    paraphrases_dropped: list[str] = field(default_factory=list)
    requests: int = 0  # requests that reached the endpoint (cache hits send none)
    seconds: float = 0.0

    def line(self) -> str:
        n = len(self.attempts)
        timing = (
            f"{n} attempt{'s' * (n != 1)}, {self.requests} request{'s' * (self.requests != 1)}, {self.seconds:.1f} s"
        )
        if self.status == "accepted":
            v = self.verification
            how = (
                f"agrees with {self.reference} on {v.get('agreed')}/{v.get('bindings')} bindings"
                if self.confidence == "reference"
                else f"{v.get('samples_agreeing')} independent samples agree on {v.get('bindings')} bindings"
            )
            return f"ACCEPTED  {self.id}: confidence {self.confidence}; {how}; {timing} -> {self.path}"
        return f"{self.status.upper():9s} {self.id}: {self.reason} ({timing})"


@dataclass
class CompileReport:
    """What ``compile_families`` did: a report per family, plus where things went."""

    model: str
    endpoint: str
    api_version: str
    out_dir: str
    families: list[FamilyReport]
    seconds: float
    report_path: str = ""

    @property
    def ok(self) -> bool:
        """True when every family was accepted (the CLI exits 0 exactly then)."""
        return all(f.status == "accepted" for f in self.families)

    @property
    def accepted(self) -> list[str]:
        return [f.id for f in self.families if f.status == "accepted"]

    @property
    def rejected(self) -> list[str]:
        return [f.id for f in self.families if f.status != "accepted"]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def format(self) -> str:
        lines = [f.line() for f in self.families]
        lines.append(
            f"{len(self.accepted)} of {len(self.families)} families accepted with {self.model} "
            f"in {self.seconds:.1f} s; report: {self.report_path}"
        )
        return "\n".join(lines)


def _public_endpoint(url: str) -> str:
    """The endpoint without credentials or query string (for reports)."""
    import urllib.parse

    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc.rpartition("@")[2], p.path, "", ""))


@dataclass
class _Compiler:
    client: ChatClient
    cache: ReplyCache | None
    pool: SandboxPool
    episodes: Sequence[Episode]
    references: Mapping[str, Reference]
    settings: CompileSettings
    log: Callable[[str], None]

    def ask(
        self, messages: list[dict[str, str]], temperature: float, seed: int | None, max_tokens: int
    ) -> tuple[dict, bool, str]:
        """(reply entry, came from the cache, prompt hash)."""
        h = prompt_hash(messages, temperature, max_tokens, seed)
        if self.cache and (hit := self.cache.get(h)) is not None:
            return hit, True, h
        r = self.client.chat(messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
        entry = {
            "text": self.client.redact(r.text),
            "finish_reason": r.finish_reason,
            "model": self.client.model,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(r.seconds, 3),
        }
        if self.cache:
            self.cache.put(h, entry)
        return entry, False, h

    def compile(self, spec: FamilySpec) -> FamilyReport:
        start, requests_before = time.monotonic(), self.client.requests
        ref_id = spec.reference or (spec.id if spec.id in self.references else "")
        report = FamilyReport(spec.id, "rejected", reference=ref_id)
        samples = draw_samples(spec, self.episodes, self.settings.seed)
        try:
            if not samples:
                report.reason = "no sample episode offers a binding for its slots"
            else:
                self._loop(spec, samples, report, self.references.get(ref_id) if ref_id else None)
        except LLMError as e:
            report.status, report.reason = "error", f"endpoint error: {self.client.redact(str(e))}"
        report.requests = self.client.requests - requests_before
        report.seconds = round(time.monotonic() - start, 2)
        return report

    def _attempt(self, spec, samples, n, retry, temperature, seed, expected) -> tuple[Attempt, Check, str]:
        messages = build_messages(spec, retry)
        t0 = time.monotonic()
        entry, cached, h = self.ask(messages, temperature, seed, self.settings.max_tokens)
        text = entry["text"]
        try:
            program = extract_program(text)
            check = verify_program(spec, program, samples, self.pool, expected)
        except ParseError as e:
            program, check = "", Check(False, str(e))
        if not check.ok and entry.get("finish_reason") == "length" and not program:
            check.reason += " (the reply was cut off at the token limit)"
        attempt = Attempt(
            n=n,
            prompt_hash=h,
            temperature=temperature,
            seed=seed,
            cached=cached,
            seconds=round(time.monotonic() - t0, 2),
            finish_reason=str(entry.get("finish_reason", "")),
            feedback=retry[1] if retry else "",
            program=program,
            passed=check.ok,
            reason=check.reason,
        )
        verdict = "passed" if check.ok else f"rejected: {check.reason}"
        self.log(f"  {spec.id} attempt {n}{' (cached)' if cached else ''}: {verdict}")
        return attempt, check, text

    def _loop(self, spec: FamilySpec, samples: list[Sample], report: FamilyReport, reference: Reference | None):
        if reference is not None:
            expected = reference_values(reference, samples, self.pool)
            retry, asked = None, set()
            for n in range(1, self.settings.max_attempts + 1):
                temperature, seed = 0.0, None
                if prompt_hash(build_messages(spec, retry), 0.0, self.settings.max_tokens, None) in asked:
                    temperature, seed = self.settings.consensus_temperature, n  # the same prompt again: sample instead
                attempt, check, text = self._attempt(spec, samples, n, retry, temperature, seed, expected)
                asked.add(attempt.prompt_hash)
                report.attempts.append(attempt)
                if check.ok:
                    report.status, report.confidence, report.program = "accepted", "reference", attempt.program
                    report.verification = check.summary
                    return
                retry = (text, check.reason)
            report.reason = (
                f"no verified program after {self.settings.max_attempts} attempts; last: {report.attempts[-1].reason}"
            )
            return
        # no reference: independently sampled compilations must agree
        passing: list[tuple[Attempt, Check]] = []
        retry = None
        budget = self.settings.max_attempts + self.settings.consensus - 1
        for n in range(1, budget + 1):
            temperature = 0.0 if n == 1 else self.settings.consensus_temperature
            attempt, check, text = self._attempt(spec, samples, n, retry, temperature, n, None)
            report.attempts.append(attempt)
            if not check.ok:
                retry = (text, check.reason)
                continue
            retry = None
            number = spec.answer_type == "number"
            agreeing = [(a, c) for a, c in passing if all(agree(x, y, number) for x, y in zip(c.values, check.values))]
            passing.append((attempt, check))
            if len(agreeing) + 1 >= self.settings.consensus:
                first = agreeing[0][0]
                report.status, report.confidence, report.program = "accepted", "consensus", first.program
                report.verification = {
                    **agreeing[0][1].summary,
                    "samples_agreeing": len(agreeing) + 1,
                    "identical_programs": all(a.program == attempt.program for a, _ in agreeing),
                    "agreeing_attempts": [a.n for a, _ in agreeing] + [attempt.n],
                }
                return
        if len(passing) >= 2:
            (a1, c1), (a2, c2) = passing[:2]
            k = next(
                i for i, (x, y) in enumerate(zip(c1.values, c2.values)) if not agree(x, y, spec.answer_type == "number")
            )
            report.reason = (
                f"no independent agreement: attempts {a1.n} and {a2.n} both pass the checks but differ "
                f"(binding {k}: {c1.values[k]!r} vs {c2.values[k]!r})"
            )
        elif passing:
            report.reason = (
                f"no independent agreement: only attempt {passing[0][0].n} of {budget} passed the checks "
                f"(no reference program exists for this family; {self.settings.consensus} agreeing samples are needed)"
            )
        else:
            report.reason = f"no verified program after {budget} attempts; last: {report.attempts[-1].reason}"


# ------------------------------------------------------------------------------------------------
# paraphrases, provenance, references


def _paraphrase(compiler: _Compiler, spec: FamilySpec) -> tuple[list[str], list[str]]:
    prompt = paraphrase_prompt(spec)
    entry, _, _ = compiler.ask([{"role": "user", "content": prompt}], 0.0, None, 40 * spec.paraphrases + 40)
    return keep_paraphrases(spec, entry["text"], spec.paraphrases)


def _verification_line(report: FamilyReport) -> str:
    v = report.verification
    text = (
        f"{v.get('episodes')} episodes, {v.get('bindings')} bindings, {v.get('answered')} answered, "
        f"{v.get('distinct_answers')} distinct answers, deterministic"
    )
    if report.confidence == "reference":
        return text + f", {v.get('agreed')} agree with {report.reference}, {v.get('disagreed')} disagree"
    same = "identical" if v.get("identical_programs") else "different"
    return text + f", {v.get('samples_agreeing')} independently sampled programs ({same} code) agree on all"


def _check_reference(spec: FamilySpec, references: Mapping[str, Reference]) -> None:
    ref_id = spec.reference or (spec.id if spec.id in references else "")
    if not ref_id:
        return
    if ref_id not in references:
        raise FamilySpecError(f"family {spec.id}: reference {ref_id!r} is not a library family or a known oracle")
    ref = references[ref_id]
    if isinstance(ref, Family):
        if ref.slots != spec.slots:
            raise FamilySpecError(
                f"family {spec.id}: its slots {spec.slots} must match those of its reference {ref_id} {ref.slots}"
            )
        if ref.answer_type != spec.answer_type or (ref.options and set(ref.options) != set(spec.options)):
            raise FamilySpecError(
                f"family {spec.id}: answer type/options must match its reference {ref_id} "
                f"({ref.answer_type}{', options ' + str(list(ref.options)) if ref.options else ''})"
            )


# ------------------------------------------------------------------------------------------------
# entry point


def compile_families(
    yaml_path: str | Path,
    episodes: Sequence[Episode] | Callable[[int, int], Sequence[Episode]],
    settings: CompileSettings | None = None,
    *,
    references: Mapping[str, Reference] | None = None,
    client: ChatClient | None = None,
    pool: SandboxPool | None = None,
    log: Callable[[str], None] | None = None,
) -> CompileReport:
    """Compile and verify every family of a YAML file on sample episodes; accepted ones land in
    ``settings.out_dir``.

    ``episodes``: the sample episodes, or a function ``(n, seed) -> episodes`` (e.g. a
    ``synth.programs.verification.sample_episodes`` with its scene source and renderer bound), called
    with ``settings.episodes`` and ``settings.seed`` once the YAML and the endpoint are checked.

    ``client`` (default: one for ``settings.endpoint``, whose endpoint/model/key default to
    ``OPENAI_BASE_URL``/``OPENAI_MODEL``/``OPENAI_API_KEY``) asks the model; ``pool`` (default: two
    sandbox workers, closed at the end) runs the programs. ``references`` adds (or overrides)
    references to the library families, e.g. test oracles.
    Invalid YAML or a missing endpoint/model raise (FamilySpecError, LLMError) before any
    request; per-family failures, endpoint errors included, are recorded in the report and the
    other families go on. Writes ``reports/<id>.json`` per family and ``reports/compile.json``.
    """
    from synth.programs.library import FAMILIES

    settings = settings or CompileSettings()
    t0 = time.monotonic()
    log = log or (lambda _msg: None)
    specs = load_family_specs(yaml_path)
    refs: dict[str, Reference] = {**FAMILIES, **(references or {})}
    for spec in specs:
        _check_reference(spec, refs)
    client = client or ChatClient.from_settings(settings.endpoint)
    out = settings.out_dir
    api = api_version()
    cache = ReplyCache(settings.cache_dir or default_cache_dir(), client.model, api) if settings.use_cache else None
    eps = list(episodes(settings.episodes, settings.seed) if callable(episodes) else episodes)
    own_pool = pool is None
    pool = pool or SandboxPool(workers=2)
    endpoint = _public_endpoint(client.base_url)
    reports = []
    try:
        compiler = _Compiler(client, cache, pool, eps, refs, settings, log)
        for spec in specs:
            ref = spec.reference or (spec.id if spec.id in refs else "")
            log(f"compiling {spec.id} ({'reference ' + ref if ref else 'no reference: needs consensus'})")
            report = compiler.compile(spec)
            if report.status == "accepted":
                report.templates = list(spec.templates)
                if settings.paraphrase and spec.paraphrases:
                    before, started = client.requests, time.monotonic()
                    try:
                        kept, dropped = _paraphrase(compiler, spec)
                        report.templates += kept
                        report.paraphrases_dropped = dropped
                    except LLMError as e:
                        report.paraphrases_dropped = [f"paraphrasing failed: {client.redact(str(e))}"]
                    report.requests += client.requests - before
                    report.seconds = round(report.seconds + time.monotonic() - started, 2)
                accepted = next(a for a in report.attempts if a.program == report.program)
                provenance = {
                    "origin": "compiled",
                    "model": client.model,
                    "endpoint": endpoint,
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "prompt_hash": accepted.prompt_hash,
                    "api_version": api,
                    "compiler_version": COMPILER_VERSION,
                    "confidence": report.confidence + (f" ({report.reference})" if report.reference else ""),
                    "verification": _verification_line(report),
                    "attempts": str(len(report.attempts)),
                }
                family = spec.family(report.program, templates=report.templates, provenance=provenance)
                report.path = str(write_family(out, family, seal=True))
            log(report.line())
            reports.append(report)
    finally:
        if own_pool:
            pool.close()
    result = CompileReport(client.model, endpoint, api, str(out), reports, round(time.monotonic() - t0, 2))
    rdir = out / "reports"
    rdir.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (rdir / f"{r.id}.json").write_text(json.dumps(dataclasses.asdict(r), indent=1) + "\n")
    result.report_path = str(rdir / "compile.json")
    Path(result.report_path).write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    return result
