"""A local OpenAI-compatible LLM server (llama.cpp's own server via xllamacpp) on 127.0.0.1.

The server runs in a child process so that it can always be stopped: SIGTERM, then SIGKILL
after ``stop_timeout`` (a llama.cpp server once hung >30 s when stopped mid-generation). The
child also dies with its parent. Starting has a deadline too, so nothing waits forever on a
server that cannot come up.

    with LocalServer(ensure_model("qwen2.5-coder-0.5b")) as server:
        print(server.base_url)  # http://127.0.0.1:PORT/v1

Command line (``make llm-demo``):
    python infra/llm_server.py demo [--families FILE] [--out DIR]   start, compile the example YAML, stop
    python infra/llm_server.py serve [--port N]                      start and wait for Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServerError(RuntimeError):
    """The local server could not be started (with the tail of its log)."""


class LocalServer:
    """A llama.cpp server for one GGUF model on 127.0.0.1; a context manager."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        alias: str | None = None,
        port: int = 0,
        n_ctx: int = 4096,
        threads: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 5.0,
        log_path: str | Path | None = None,
    ):
        self.model_path = Path(model_path)
        self.alias = alias or self.model_path.stem
        self.port = port
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen | None = None
        self.address = ""  # http://127.0.0.1:PORT
        self._log_file: Path | None = None
        self._tmp_log: Path | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in /v1)."""
        if not self.address:
            raise ServerError("the server is not running")
        return f"{self.address}/v1"

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        """Start the server and wait (at most ``startup_timeout`` s) until it answers /health."""
        if not self.model_path.is_file():
            raise ServerError(f"no model file at {self.model_path}")
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "_child",
            "--model",
            str(self.model_path),
            "--alias",
            self.alias,
            "--port",
            str(self.port),
            "--ctx",
            str(self.n_ctx),
            "--threads",
            str(self.threads),
            "--parent",
            str(os.getpid()),
        ]
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = self.log_path
        else:
            fd, name = tempfile.mkstemp(prefix="synth-llm-server-", suffix=".log")
            os.close(fd)
            log_file = self._tmp_log = Path(name)
        self._log_file = log_file
        ready_file = log_file.with_name(log_file.name + f".{os.getpid()}.ready")
        ready_file.unlink(missing_ok=True)
        cmd += ["--ready-file", str(ready_file)]
        with log_file.open("ab") as log:  # never a pipe: an unread pipe would block the server's logging
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + self.startup_timeout
        try:
            self.address = self._wait_ready(ready_file, deadline)
            self._wait_healthy(deadline)
        except BaseException:
            self.stop()
            raise
        finally:
            ready_file.unlink(missing_ok=True)
        return self.base_url

    def _wait_ready(self, ready_file: Path, deadline: float) -> str:
        assert self.process
        while True:
            if ready_file.is_file():
                text = ready_file.read_text()
                if text.endswith("\n"):
                    return text.strip().rstrip("/")
            if self.process.poll() is not None:
                raise ServerError(f"the server exited with code {self.process.returncode}{self._tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"the server did not start within {self.startup_timeout:g} s{self._tail()}")
            time.sleep(0.05)

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(f"{self.address}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"the server did not become healthy within {self.startup_timeout:g} s")
            time.sleep(0.2)

    def _tail(self) -> str:
        log = self._log_file
        text = log.read_bytes()[-4000:] if log and log.is_file() else b""
        lines = [ln for ln in text.decode(errors="replace").splitlines() if ln.strip()][-6:]
        return (":\n  " + "\n  ".join(lines)) if lines else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; never blocks longer than that plus 5 s."""
        p, self.process, self.address = self.process, None, ""
        if p is None:
            return
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(5)
        if self._tmp_log is not None:
            self._tmp_log.unlink(missing_ok=True)
            self._tmp_log = None


# ------------------------------------------------------------------------------- child side
def _child(args: argparse.Namespace) -> None:  # pragma: no cover - runs in the server process
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # no C++ teardown: it can hang mid-generation
    try:  # die with the parent (Linux)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    server = xllamacpp.Server(params)
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(server.listening_address + "\n")
    os.replace(tmp, args.ready_file)
    while os.getppid() == args.parent:
        time.sleep(0.5)
    os._exit(0)


# ------------------------------------------------------------------------------- command line
def _demo(args: argparse.Namespace) -> int:
    from infra.llm_model import ensure_model

    model = ensure_model(args.model)
    from synth.cli.compile import verification_episodes
    from synth.programs.compiler import CompileSettings, compile_families
    from synth.programs.llm import EndpointSettings

    print(f"llm-demo: starting a local server with {model.name}", flush=True)
    with LocalServer(model, alias=args.model, log_path=args.out / "reports" / "server.log") as server:
        print(f"llm-demo: server at {server.base_url}; compiling {args.families}", flush=True)
        settings = CompileSettings(
            endpoint=EndpointSettings(base_url=server.base_url, model=args.model), out_dir=args.out
        )
        report = compile_families(
            args.families, verification_episodes, settings, log=lambda m: print(m, file=sys.stderr)
        )
    print(report.format())
    return 0  # a demo: rejected families are an expected outcome, shown with their reasons


def _serve(args: argparse.Namespace) -> int:
    from infra.llm_model import ensure_model

    model = ensure_model(args.model)
    with LocalServer(model, alias=args.model, port=args.port) as server:
        print(json.dumps({"base_url": server.base_url, "model": args.model}), flush=True)
        print("serving; Ctrl-C to stop", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while server.process and server.process.poll() is None:
                time.sleep(0.5)
    return 0


def main(argv: list[str] | None = None) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    p = argparse.ArgumentParser(description="Local OpenAI-compatible LLM server for synth (llama.cpp via xllamacpp).")
    sub = p.add_subparsers(dest="command")
    d = sub.add_parser("demo", help="start the server, compile the example families, stop (default)")
    d.add_argument("--families", type=Path, default=ROOT / "programs" / "user_families.example.yaml")
    d.add_argument("--out", type=Path, default=ROOT / "data" / "llm-demo")
    s = sub.add_parser("serve", help="start the server and wait for Ctrl-C")
    s.add_argument("--port", type=int, default=8080)
    for q in (d, s):
        q.add_argument("--model", default="qwen2.5-coder-0.5b", help="a model of infra/llm_model.py")
    c = sub.add_parser("_child")
    c.add_argument("--model")
    c.add_argument("--alias")
    c.add_argument("--port", type=int)
    c.add_argument("--ctx", type=int)
    c.add_argument("--threads", type=int)
    c.add_argument("--parent", type=int)
    c.add_argument("--ready-file")
    args = p.parse_args(argv if argv is not None else (sys.argv[1:] or ["demo"]))
    if args.command == "_child":
        _child(args)
        return 0
    try:
        return _demo(args) if args.command == "demo" else _serve(args)
    except ServerError as e:
        print(f"llm_server: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
