"""Start or stop the local authenticated S3 server (SeaweedFS) used by `make demo`.

    python infra/s3_local.py start [--dir data/s3] [--bucket synth-demo]   # writes DIR/env
    python infra/s3_local.py stop [--dir data/s3]

`DIR/env` holds the standard AWS variables (endpoint, key, secret, region) for this server;
source it (`set -a; . data/s3/env; set +a`) to point synth at it. The same helper backs the
tests' fixture (synth.storage.seaweed.LocalS3).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.storage.seaweed import LocalS3  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("start", "stop"))
    ap.add_argument("--dir", type=Path, default=Path("data/s3"))
    ap.add_argument("--bucket", default="synth-demo")
    args = ap.parse_args()
    server = LocalS3.from_dir(args.dir)
    if args.action == "stop":
        server.stop_detached()
        print(f"local S3 in {args.dir} stopped")
        return 0
    server.stop_detached()
    server.start()
    pid = server.detach()
    try:
        server.create_bucket(args.bucket)
    except Exception as e:  # noqa: BLE001 - it exists from an earlier demo
        if "BucketAlreadyOwnedByYou" not in repr(e) and "BucketAlreadyExists" not in repr(e):
            raise
    env = args.dir / "env"
    env.write_text("".join(f"{k}={v}\n" for k, v in server.env().items()))
    env.chmod(0o600)
    print(f"local S3 at {server.endpoint} (pid {pid}, bucket {args.bucket}); credentials in {env}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
