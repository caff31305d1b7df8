"""Where finalized WARC files go: a local folder or S3-compatible storage, through a local spool.

Closed files (never ``.open`` ones) wait in the spool, get a CDXJ index beside them and are handed to storage by a
background uploader. When S3 is unreachable they simply stay in the spool, and the next run's uploader (or a later
successful upload in this run) sends them. Keys and local paths are ``{prefix}/{outlet}/{YYYY}/{MM}/{DD}/{file}``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from archive.writer import filename_date

logger = logging.getLogger(__name__)

MULTIPART_CHUNK = 64 * 1024 * 1024
CONTENT_TYPES = {".gz": "application/warc", ".cdxj": "application/cdxj+json", ".wacz": "application/wacz"}


def relative_key(outlet: str, filename: str) -> str:
    """``{outlet}/{YYYY}/{MM}/{DD}/{file}``, dated by the file's opening time."""
    return f"{outlet}/{filename_date(filename):%Y/%m/%d}/{filename}"


class Storage(Protocol):
    """A destination for closed files."""

    def uri_for(self, outlet: str, filename: str) -> str:
        """The final URI of ``filename`` once stored."""

    def store(self, outlet: str, path: Path) -> str:
        """Store ``path`` (idempotently, never overwriting other content) and remove the local copy."""


class LocalStorage:
    """A local folder: files are moved (atomically on one file system) into the dated layout."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def uri_for(self, outlet: str, filename: str) -> str:
        """``file://`` URI of the stored file."""
        return (self.root / relative_key(outlet, filename)).as_uri()

    def store(self, outlet: str, path: Path) -> str:
        """Move ``path`` into place; refuse to replace a different existing file."""
        target = self.root / relative_key(outlet, path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and sha256_of(target) != sha256_of(path):
            raise FileExistsError(f"{target} exists with other content; keeping {path}")
        shutil.move(path, target)
        return target.as_uri()


def sha256_of(path: Path, part_size: int | None = None) -> str:
    """Base64 SHA-256 of a file as S3 reports it: whole-object, or composite ``b64(sha256(parts))-N`` per part."""
    whole, parts = hashlib.sha256(), []
    with path.open("rb") as stream:
        while block := stream.read(part_size or MULTIPART_CHUNK):
            whole.update(block)
            parts.append(hashlib.sha256(block).digest())
    if part_size is None:
        return base64.b64encode(whole.digest()).decode()
    return base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode() + f"-{len(parts)}"


class S3Storage:
    """S3 or any S3-compatible store through boto3; uploads verified by SHA-256, existing keys never replaced."""

    def __init__(self, bucket: str, prefix: str, client: object, part_size: int = MULTIPART_CHUNK) -> None:
        from boto3.s3.transfer import TransferConfig

        self.bucket, self.prefix, self.client, self.part_size = bucket, prefix.strip("/"), client, part_size
        self.transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)

    def key_for(self, outlet: str, filename: str) -> str:
        """``{prefix}/{outlet}/{YYYY}/{MM}/{DD}/{file}``."""
        return "/".join(part for part in (self.prefix, relative_key(outlet, filename)) if part)

    def uri_for(self, outlet: str, filename: str) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key_for(outlet, filename)}"

    def store(self, outlet: str, path: Path) -> str:
        """Upload ``path`` to its dated key (see :meth:`store_at`)."""
        return self.store_at(path, self.key_for(outlet, path.name), CONTENT_TYPES.get(path.suffix))

    def store_at(self, path: Path, key: str, content_type: str | None = None, *, replace: bool = False) -> str:
        """Upload ``path`` to ``key`` unless the same content is already there, verify the checksum, delete the local
        copy. Another content under ``key`` is an error, unless ``replace`` (a run manifest rewritten as it ends)."""
        multipart = path.stat().st_size >= self.part_size
        expected = sha256_of(path, self.part_size if multipart else None)
        existing = self._checksum(key)
        if existing is None or (replace and existing.split("-")[0] != expected.split("-")[0]):
            self._upload(path, key, multipart, content_type or "application/octet-stream", replace)
            existing = self._checksum(key)
        if existing is None or existing.split("-")[0] != expected.split("-")[0]:  # moto omits the "-{parts}" suffix
            raise OSError(f"s3://{self.bucket}/{key}: checksum {existing} differs from local {expected}")
        path.unlink()
        return f"s3://{self.bucket}/{key}"

    def _upload(self, path: Path, key: str, multipart: bool, content_type: str, replace: bool) -> None:
        if multipart:  # s3transfer cannot send If-None-Match; the head_object check above guards the key
            extra = {"ChecksumAlgorithm": "SHA256", "ContentType": content_type}
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self.transfer)
            return
        from botocore.exceptions import ClientError

        guard = {} if replace else {"IfNoneMatch": "*"}
        with path.open("rb") as body:
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumAlgorithm="SHA256",
                    **guard,
                )
            except ClientError as error:  # another uploader created the key since our check: compare checksums
                if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise

    def _checksum(self, key: str) -> str | None:
        """The stored SHA-256 checksum of ``key``, or None when the key does not exist."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head.get("ChecksumSHA256", "missing")


def s3_client(settings: Mapping[str, object], max_attempts: int = 8) -> object:
    """A boto3 S3 client from Scrapy-style AWS settings; unset values fall back to the standard AWS environment."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": max_attempts}, connect_timeout=10, read_timeout=120)
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.get("AWS_ENDPOINT_URL") or None,
        aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=settings.get("AWS_SESSION_TOKEN") or None,
        region_name=settings.get("AWS_REGION_NAME") or None,
        config=config,
    )


def local_path(uri: str) -> Path | None:
    """The file-system path of a local URI (a plain path or ``file://...``); None for a remote one (``s3://``)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(parsed.path)
    return None if "://" in uri else Path(uri)


def s3_location(uri: str) -> tuple[str, str]:
    """(bucket, path) of ``s3://bucket/prefix``, the path with its leading ``/``; ValueError when it names no bucket."""
    parsed = urlparse(uri)
    if not parsed.netloc:
        raise ValueError("s3:// names no bucket: s3://bucket or s3://bucket/prefix")
    return parsed.netloc, parsed.path


def open_storage(uri: str, settings: Mapping[str, object], max_attempts: int = 8) -> Storage:
    """``s3://bucket/prefix`` → :class:`S3Storage`; a plain path or ``file://`` → a local folder."""
    path = local_path(uri)
    if path is not None:
        return LocalStorage(path)
    parsed = urlparse(uri)
    if parsed.scheme != "s3":
        # the scheme only: the URI may hold a password, and this error is printed before the log masks secrets
        raise ValueError(
            f"unsupported archive URI {parsed.scheme}://...: a local folder, file://... or s3://bucket/prefix"
        )
    bucket, prefix = s3_location(uri)
    return S3Storage(bucket, prefix, s3_client(settings, max_attempts))


class Uploader:
    """Moves closed files from the spool into storage on a background thread; failures leave them spooled."""

    def __init__(self, storage: Storage, spool: Path, outlet: str) -> None:
        self.storage, self.spool, self.outlet = storage, Path(spool), outlet
        self.spool.mkdir(parents=True, exist_ok=True)
        self.stored: list[str] = []
        self.failures = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-upload")

    def pending(self) -> list[Path]:
        """Closed files waiting in the spool (WARCs, their indexes, WACZs), oldest name first."""
        return sorted(p for p in self.spool.iterdir() if p.suffix in CONTENT_TYPES and p.is_file())

    def submit(self) -> Future[None]:
        """Store every pending file in the background (call after a file is closed, and at start)."""
        return self._executor.submit(self._store_pending)

    def close(self) -> int:
        """Wait for uploads; return how many files remain spooled (logged loudly when any)."""
        self._executor.shutdown(wait=True)
        left = self.pending()
        if left:
            logger.error(
                "archive: %d file(s) kept in spool %s because storage was unreachable; the next run uploads them",
                len(left),
                self.spool,
            )
        return len(left)

    def _store_pending(self) -> None:
        for path in self.pending():
            try:
                self.stored.append(self.storage.store(self.outlet, path))
            except Exception as error:
                if isinstance(error, FileNotFoundError) and not path.exists():
                    # workers sharing a spool (distributed crawls): another uploader stored it first
                    logger.debug("archive: %s left the spool while being stored: another uploader took it", path.name)
                    continue
                self.failures += 1  # a missing destination or a permission error lands here, source still present
                logger.warning("archive: could not store %s (%s); it stays in the spool", path.name, error)
                return
