"""Datasets on S3-compatible object storage: push with checksums and resume, read back with
``datasets``.

Endpoint, region and credentials come from the standard AWS configuration (environment
variables, profiles, ``AWS_ENDPOINT_URL``), so the same code talks to AWS S3, GCS (S3
interoperability), MinIO, Ceph or SeaweedFS. Credentials are never printed or logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from synth.core.cache import cache_root
from synth.storage.dataset import MANIFEST, RUN_FILE, STAGING, VERSIONS, DatasetError, sha256

MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024  # part size of a multipart upload
SHA_META = "sha256"  # object metadata key holding the whole file's hex SHA-256


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        if not uri.startswith("s3://"):
            raise DatasetError(f"not an s3:// URI: {uri}")
        bucket, _, prefix = uri[5:].partition("/")
        if len(bucket) < 3:
            raise DatasetError(f"invalid bucket name in {uri}")
        return cls(bucket, prefix.strip("/"))

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def is_s3(uri: str | Path) -> bool:
    return str(uri).startswith("s3://")


def client():
    """A boto3 S3 client from the standard AWS configuration, with retries and timeouts."""
    import boto3
    from botocore.config import Config

    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS", "6"))
    return boto3.session.Session().client(
        "s3",
        config=Config(
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _explain(e: Exception, uri: S3Uri) -> DatasetError:
    """One clear line for the usual failures (never echoing credentials)."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(e, NoCredentialsError):
        return DatasetError("no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)")
    if isinstance(e, EndpointConnectionError):
        return DatasetError(f"cannot reach the S3 endpoint for {uri}: {e.kwargs.get('endpoint_url', '')}")
    if isinstance(e, ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("403", "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId"):
            return DatasetError(f"access to {uri} denied ({code}): check the AWS credentials")
        if code in ("404", "NoSuchBucket"):
            return DatasetError(f"bucket {uri.bucket} does not exist")
        return DatasetError(f"S3 error on {uri}: {code}")
    return DatasetError(f"S3 transfer to {uri} failed: {type(e).__name__}")


def _head(s3, uri: S3Uri, name: str) -> dict | None:
    """The object's HEAD response, or None if it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=uri.bucket, Key=uri.key(name))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _remote_sha(s3, uri: S3Uri, name: str) -> str | None:
    head = _head(s3, uri, name)
    return None if head is None else head.get("Metadata", {}).get(SHA_META)


def _upload(s3, path: Path, uri: S3Uri, digest: str, workers: int) -> None:
    from boto3.s3.transfer import TransferConfig

    extra = {"Metadata": {SHA_META: digest}, "ChecksumAlgorithm": "SHA256"}
    size = path.stat().st_size
    if size < MULTIPART_THRESHOLD:
        # single PUT: the server verifies the whole object's SHA-256
        body = path.read_bytes()
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        s3.put_object(
            Bucket=uri.bucket, Key=uri.key(path.name), Body=body, ChecksumSHA256=checksum, Metadata=extra["Metadata"]
        )
        return
    # multipart: each part is checksummed and verified by the server
    cfg = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK, max_concurrency=workers
    )
    s3.upload_file(str(path), uri.bucket, uri.key(path.name), ExtraArgs=extra, Config=cfg)


def _abort_unfinished(s3, uri: S3Uri, names: list[str]) -> None:
    """Abort the multipart uploads of ``names`` under ``uri`` that a push killed in the middle of a
    large object left unfinished (their parts stay stored, and billed, until aborted)."""
    keys = {uri.key(name) for name in names}
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=uri.bucket, Prefix=uri.key("")):
        for upload in page.get("Uploads", []):
            if upload["Key"] in keys:
                s3.abort_multipart_upload(Bucket=uri.bucket, Key=upload["Key"], UploadId=upload["UploadId"])


def push(root: Path, dest: str, workers: int = 4, on_uploaded: Callable[[str], None] | None = None) -> dict:
    """Upload a finished local dataset to ``dest`` (s3://bucket/prefix). Shard checksums are
    checked locally first; objects already there with the same SHA-256 are skipped; the
    manifest goes last. Returns {"uploaded": [...], "skipped": [...]}.

    Resumable at any point, a SIGKILL of the process included: an object is written by one
    request that the server completes or drops whole (a large one in parts, whose unfinished
    upload the next push aborts); the dataset is unfinished (no manifest) until every other
    object is there and checked, and a run's staging mirror (``dest/.staging/``, a copy of the
    samples) is removed before the manifest lands, so that a finished dataset never holds it."""
    root, uri = Path(root), S3Uri.parse(dest)
    if not (root / MANIFEST).exists():
        raise DatasetError(f"{root} is not a finished dataset (no {MANIFEST})")
    manifest = json.loads((root / MANIFEST).read_text())
    files: dict[str, str] = {}
    for shard in manifest["shards"]:
        path = root / shard["path"]
        if not path.exists() or sha256(path) != shard["sha256"]:
            raise DatasetError(f"local shard {path} is missing or does not match its checksum; nothing uploaded")
        files[shard["path"]] = shard["sha256"]
    files["README.md"] = sha256(root / "README.md")
    manifest_sha = sha256(root / MANIFEST)

    s3 = client()
    try:
        s3.head_bucket(Bucket=uri.bucket)
        remote = {name: _remote_sha(s3, uri, name) for name in [*files, MANIFEST]}
    except Exception as e:  # noqa: BLE001 - translated into one clear error
        raise _explain(e, uri) from None
    todo = [n for n, d in files.items() if remote[n] != d]
    report = {"uploaded": [], "skipped": [n for n in files if n not in todo]}
    if todo or remote[MANIFEST] != manifest_sha:
        try:
            if remote[MANIFEST] is not None and remote[MANIFEST] != manifest_sha:
                # the remote dataset is about to change: it is unfinished until the new manifest lands
                s3.delete_object(Bucket=uri.bucket, Key=uri.key(MANIFEST))
            _abort_unfinished(s3, uri, todo)

            def one(name: str) -> str:
                _upload(s3, root / name, uri, files[name], workers)
                if on_uploaded:
                    on_uploaded(name)
                return name

            with ThreadPoolExecutor(max(1, workers)) as pool:
                report["uploaded"] = list(pool.map(one, todo))
            missing = [n for n in files if _remote_sha(s3, uri, n) != files[n]]
            if missing:
                raise DatasetError(f"after upload, {len(missing)} objects are missing or differ, e.g. {missing[0]}")
            _drop_staging(s3, uri)
            _upload(s3, root / MANIFEST, uri, manifest_sha, workers)
            report["uploaded"].append(MANIFEST)
        except DatasetError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _explain(e, uri) from None
    return report


# ------------------------------------------------------------------------------ runs in progress
# The samples a run has finished, with its run.json and versions.json, are mirrored under
# ``dest/.staging/`` as they are staged, so that a run whose machine died resumes on another one
# (``pull_staging``); the mirror goes when the finished dataset is pushed, before its manifest.
def mirror(path: Path, dest: str) -> None:
    """Upload one file of a run in progress (a staged sample, run.json, versions.json) to
    ``dest/.staging/``, checksummed like a push (``_upload``)."""
    uri = S3Uri.parse(dest)
    staging = S3Uri(uri.bucket, uri.key(STAGING))
    try:
        _upload(client(), Path(path), staging, sha256(Path(path)), workers=1)
    except Exception as e:  # noqa: BLE001 - translated into one clear error
        raise _explain(e, uri) from None


def _staged_objects(s3, uri: S3Uri) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=uri.bucket, Prefix=uri.key(f"{STAGING}/")):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def pull_staging(dest: str, root: Path) -> int:
    """Download what ``dest/.staging/`` holds and ``root`` lacks (run.json and versions.json into
    ``root``, samples into ``root/.staging``); returns the number of files fetched."""
    uri, root = S3Uri.parse(dest), Path(root)
    s3 = client()
    fetched = 0
    try:
        for key in _staged_objects(s3, uri):
            name = key.rsplit("/", 1)[-1]
            target = root / name if name in (RUN_FILE, VERSIONS) else root / STAGING / name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            part.write_bytes(s3.get_object(Bucket=uri.bucket, Key=key)["Body"].read())
            part.replace(target)
            fetched += 1
    except OSError as e:
        raise DatasetError(f"cannot write to {root}: {e.strerror or e}") from e
    except Exception as e:  # noqa: BLE001
        raise _explain(e, uri) from None
    return fetched


def _drop_staging(s3, uri: S3Uri) -> None:
    """Delete every object under ``uri``'s ``.staging/`` (1000 per request)."""
    keys = _staged_objects(s3, uri)
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        s3.delete_objects(Bucket=uri.bucket, Delete={"Objects": batch, "Quiet": True})


def drop_staging(dest: str) -> None:
    """Delete ``dest/.staging/`` (on --overwrite; ``push`` deletes it before the manifest lands)."""
    uri = S3Uri.parse(dest)
    try:
        _drop_staging(client(), uri)
    except Exception as e:  # noqa: BLE001
        raise _explain(e, uri) from None


def remote_is_finished(dest: str) -> bool:
    """Whether ``dest`` already holds a dataset's manifest."""
    uri = S3Uri.parse(dest)
    try:
        return _head(client(), uri, MANIFEST) is not None
    except Exception as e:  # noqa: BLE001 - translated into one clear error
        raise _explain(e, uri) from None


# ------------------------------------------------------------------------------ reading
def storage_options() -> dict:
    """fsspec/s3fs options equivalent to ``client()``'s configuration (a fresh dict each call:
    ``datasets.load_dataset`` mutates the one it gets)."""
    import boto3

    session = boto3.session.Session()
    creds = session.get_credentials()
    opts: dict = {"client_kwargs": {}}
    if creds is not None:
        frozen = creds.get_frozen_credentials()
        opts.update(key=frozen.access_key, secret=frozen.secret_key)
        if frozen.token:
            opts["token"] = frozen.token
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        opts["client_kwargs"]["endpoint_url"] = endpoint
    if session.region_name:
        opts["client_kwargs"]["region_name"] = session.region_name
    return opts


def _register_streaming_fix() -> None:
    """datasets 5.2 passes ``block_size`` into aiobotocore's session when streaming from S3
    (``AioSession.__init__() got an unexpected keyword argument 'block_size'``): drop it."""
    import fsspec
    import s3fs

    class S3FileSystem(s3fs.S3FileSystem):
        def __init__(self, *args, block_size=None, **kwargs):
            if block_size is not None:
                kwargs.setdefault("default_block_size", block_size)
            super().__init__(*args, **kwargs)

    fsspec.register_implementation("s3", S3FileSystem, clobber=True)


def _card_and_manifest(s3, loc: S3Uri) -> tuple[bytes, bytes]:
    try:
        card = s3.get_object(Bucket=loc.bucket, Key=loc.key("README.md"))["Body"].read()
        return card, s3.get_object(Bucket=loc.bucket, Key=loc.key(MANIFEST))["Body"].read()
    except Exception as e:  # noqa: BLE001
        raise _explain(e, loc) from None


def _download(s3, loc: S3Uri, card: bytes, manifest_bytes: bytes) -> Path:
    """The shards, card and manifest in a local cache folder addressed by the manifest's content,
    every shard's SHA-256 checked (shards already there are kept)."""
    manifest = json.loads(manifest_bytes)
    local = cache_root() / "datasets" / hashlib.sha256(manifest_bytes).hexdigest()[:16]
    local.mkdir(parents=True, exist_ok=True)
    try:
        for shard in manifest["shards"]:
            path = local / shard["path"]
            if not path.exists() or sha256(path) != shard["sha256"]:
                tmp = path.with_name(f".{path.name}.part")
                s3.download_file(loc.bucket, loc.key(shard["path"]), str(tmp))
                if sha256(tmp) != shard["sha256"]:
                    tmp.unlink()
                    raise DatasetError(f"{loc}/{shard['path']} does not match the checksum in its manifest")
                tmp.replace(path)
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001
        raise _explain(e, loc) from None
    (local / "README.md").write_bytes(card)
    (local / MANIFEST).write_bytes(manifest_bytes)
    return local


def fetch(uri: str) -> Path:
    """A local copy of the finished dataset at ``s3://bucket/prefix`` (see :func:`load`)."""
    loc = S3Uri.parse(str(uri))
    s3 = client()
    card, manifest_bytes = _card_and_manifest(s3, loc)
    return _download(s3, loc, card, manifest_bytes)


def local_dataset(source: str | Path) -> Path:
    """A local folder holding the finished dataset at ``source``: the folder itself, or for
    ``s3://bucket/prefix`` the checked local copy :func:`fetch` makes."""
    return fetch(str(source)) if is_s3(source) else Path(source)


def load(uri: str | Path, split: str = "train", streaming: bool = False, config: str = "default"):
    """``datasets.load_dataset`` for a synth dataset in a local folder or under s3://; ``config``
    names one of the card's configs.

    From S3, ``streaming=False`` downloads the shards into a local cache addressed by the
    manifest's content, checking every shard's SHA-256, and loads that folder; ``streaming=True``
    streams the shards from S3 (with the datasets 5.2 streaming fix)."""
    import datasets
    import yaml

    if not is_s3(uri):
        return datasets.load_dataset(str(uri), config, split=split, streaming=streaming)
    loc = S3Uri.parse(str(uri))
    s3 = client()
    card, manifest_bytes = _card_and_manifest(s3, loc)
    header = yaml.safe_load(card.decode().split("---")[1])
    configs = {c["config_name"]: c for c in header["configs"]}
    if config not in configs:
        raise DatasetError(f"{loc} has no config {config!r}; it has {', '.join(configs)}")
    if streaming:
        data_files = {f["split"]: f"{loc}/{f['path']}" for f in configs[config]["data_files"]}
        features = datasets.Features._from_yaml_list(header["dataset_info"]["features"])
        _register_streaming_fix()
        return datasets.load_dataset(
            "webdataset",
            data_files=data_files,
            split=split,
            streaming=True,
            features=features,
            storage_options=storage_options(),
        )
    local = _download(s3, loc, card, manifest_bytes)
    return datasets.load_dataset(str(local), config, split=split)
