"""Preservation storage: the embedded SeaweedFS, the S3 client, verified deposit, fixity audit.

One module per job:

- :mod:`.s3` builds the one S3 client configuration and turns botocore errors into
  :class:`~archive_ingest.errors.StorageError` without secrets;
- :mod:`.local` starts, stops and describes the embedded SeaweedFS server;
- :mod:`.layout` names keys (pure);
- :mod:`.receipt` holds the deposit receipt model (pure);
- :mod:`.verify` compares stored objects with what we expect (HEAD and read-back);
- :mod:`.deposit` uploads a bag (write-once, resumable) and writes the receipt last;
- :mod:`.audit` re-checks stored AIPs and produces PREMIS fixity events;
- :mod:`.cli` the ``storage`` and ``audit`` commands for the lead's CLI.
"""

from __future__ import annotations

from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy, StoredObject

__all__ = ["RECEIPT_NAME", "AipLayout", "DepositReceipt", "LockPolicy", "StoredObject"]
