"""Test helper, run as a script: synth's command line with a hook on its S3 requests, to kill the
process in the middle of a push (``tests/test_s3.py``).

``python tests/push_killer.py <synth arguments>`` runs ``synth <arguments>``. Every S3 write
request the process sends (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
DeleteObject(s)) is logged to ``$PUSH_LOG`` as ``<operation> <key>``, one per line, in the order
sent. ``$PUSH_KILL=<kind>:<n>`` SIGKILLs the process at the n-th (1-based) request of a kind:
``shard`` (the data of a dataset shard: a PutObject or UploadPart of a ``*.tar`` outside
``.staging/``; half its body is sent first, so that the server holds a cut request when the
process dies) or an operation name (e.g. ``DeleteObjects``, the staging mirror's removal; killed
before it is sent). ``$PUSH_MULTIPART_BYTES`` lowers the multipart threshold and part size.
"""

from __future__ import annotations

import http.client
import os
import signal
import sys
import threading
from urllib.parse import unquote, urlsplit

import synth.storage.s3 as s3
from synth.cli.main import main

WRITES = (
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "DeleteObject",
    "DeleteObjects",
)


def send_half_and_die(request) -> None:
    """Send ``request`` (botocore's prepared request, signed) with half its body, then SIGKILL."""
    url = urlsplit(request.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    path = url.path + (f"?{url.query}" if url.query else "")
    conn.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", url.netloc)
    for name, value in request.headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    body = request.body.read() if hasattr(request.body, "read") else request.body
    conn.send(body[: len(body) // 2])
    os.kill(os.getpid(), signal.SIGKILL)


class Hook:
    """A botocore ``before-send`` handler: logs write requests, kills at the chosen one."""

    def __init__(self, log: str, kill: str):
        self.log = log
        self.kind, _, n = kill.partition(":")
        self.n = int(n or 0)
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, request, event_name: str, **kwargs) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation not in WRITES:
            return
        key = unquote(urlsplit(request.url).path).split("/", 2)[-1]  # /bucket/key
        shard = operation in ("PutObject", "UploadPart") and key.endswith(".tar") and "/.staging/" not in key
        with self.lock:
            if self.log:
                with open(self.log, "a") as f:
                    f.write(f"{operation} {key}\n")
            if self.kind in (operation, "shard" if shard else None):
                self.count += 1
                hit = self.count == self.n
            else:
                hit = False
        if hit and self.kind == "shard":
            send_half_and_die(request)
        elif hit:
            os.kill(os.getpid(), signal.SIGKILL)


def hooked_client(real, hook: Hook):
    def client():
        c = real()
        c.meta.events.register("before-send.s3", hook)
        return c

    return client


if __name__ == "__main__":
    s3.client = hooked_client(s3.client, Hook(os.environ.get("PUSH_LOG", ""), os.environ.get("PUSH_KILL", "")))
    if os.environ.get("PUSH_MULTIPART_BYTES"):
        s3.MULTIPART_THRESHOLD = s3.MULTIPART_CHUNK = int(os.environ["PUSH_MULTIPART_BYTES"])
    sys.exit(main(sys.argv[1:]))
