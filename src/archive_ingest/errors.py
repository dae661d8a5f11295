"""Exceptions. Each carries a message a person understands; none carries a secret."""

from __future__ import annotations


class ArchiveIngestError(Exception):
    """Base class: the item ends ``failed`` (or ``rejected``) with ``str(exc)`` as its reason."""

    #: the catalogue state an item ends in when this error stops it
    final_state = "failed"
    #: whether retrying the same request later could help (network trouble, 5xx)
    transient = False


class RefError(ArchiveIngestError, ValueError):
    """An item reference (REF) that cannot be understood."""


class ConfigError(ArchiveIngestError):
    """Settings that cannot work (e.g. a source host that is not allowed)."""


class SourceError(ArchiveIngestError):
    """The publisher's metadata is missing, malformed or unusable."""


class FetchError(ArchiveIngestError):
    """A download failed; ``transient`` says whether a retry may help, ``retry_after`` is the
    server's Retry-After header when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after: str | None = None,
    ):
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.retry_after = retry_after


class ContentError(ArchiveIngestError):
    """The bytes are not what they claim to be (e.g. HTML served as a PDF)."""


class PdfError(ArchiveIngestError):
    """A PDF that cannot be read: encrypted, truncated, corrupt."""


class OcrError(ArchiveIngestError):
    """OCR failed or timed out."""


class LicenceError(ArchiveIngestError):
    """A licence that is not acceptable."""

    final_state = "rejected"


class PackageError(ArchiveIngestError):
    """A record or bag that does not validate."""


class StorageError(ArchiveIngestError):
    """S3 deposit, verification or audit trouble."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class CopyDamagedError(StorageError):
    """A copy already stored on a target is not the AIP: an object does not verify, other
    content is there, or its receipt is not ours (edited, unsigned where a signature is
    required, another target's). Never a reason to write over it: repair's work."""


class StorageUnreachableError(StorageError):
    """The S3 endpoint does not answer at all (refused, timed out): transient, but not worth
    an immediate retry within the run; the item is resumed by the next run."""

    def __init__(self, message: str):
        super().__init__(message, transient=True)
