"""Which storage targets keep copies, and each target's view of the settings.

:func:`resolve_targets` turns the configuration into the list of targets (see
archive_ingest/target_config.py for the three ways to configure them). Everything that talks to
one target (:func:`~archive_ingest.storage.s3.make_client`, the embedded server, deposit, audit)
takes a :class:`~archive_ingest.settings.Settings`; :func:`target_settings` gives the settings
*as seen by one target* (its endpoint, bucket, prefix, region, lock, credentials and, for an
embedded server, its folder and ports), so that code stays the same for one copy or three.

:func:`check_targets` is the start-up validation: every problem of every target, one line each
(and of a configured ``receipt_signing_key_file``: a regular file only its owner can read).
"""

from __future__ import annotations

import os
import stat

from archive_ingest.errors import ConfigError
from archive_ingest.settings import Settings
from archive_ingest.storage.signing import signing_key_problems
from archive_ingest.target_config import StorageTarget

#: an embedded server of slot ``n`` uses ``storage_s3_port + n * EMBEDDED_PORT_STRIDE`` ..+3
EMBEDDED_PORT_STRIDE = 10


def resolve_targets(settings: Settings) -> list[StorageTarget]:
    """The configured targets, in order (the first is where readers look first)."""
    if settings.storage_targets:
        return list(settings.storage_targets)
    if settings.s3_endpoint_url is not None:
        return [
            StorageTarget(
                name="primary",
                endpoint_url=settings.s3_endpoint_url,
                bucket=settings.s3_bucket,
                prefix=settings.s3_prefix,
                region=settings.s3_region,
                object_lock_mode=settings.s3_object_lock_mode,
                object_lock_days=settings.s3_object_lock_days,
            )
        ]
    return [
        StorageTarget(
            name=f"local-{slot + 1}",
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            region=settings.s3_region,
            object_lock_mode=settings.s3_object_lock_mode,
            object_lock_days=settings.s3_object_lock_days,
            embedded_slot=slot,
        )
        for slot in range(settings.embedded_copies)
    ]


def copies_required(settings: Settings) -> int:
    """Verified copies that make an item ``deposited`` (default: one per target)."""
    count = len(resolve_targets(settings))
    return count if settings.copies_required is None else settings.copies_required


def embedded_port(settings: Settings, slot: int) -> int:
    return settings.storage_s3_port + slot * EMBEDDED_PORT_STRIDE


def target_settings(settings: Settings, target: StorageTarget) -> Settings:
    """``settings`` as one target sees them (a copy; ``settings`` is unchanged)."""
    update: dict[str, object] = {
        "storage_target_name": target.name,
        "s3_endpoint_url": target.endpoint_url,
        "s3_bucket": target.bucket,
        "s3_prefix": target.prefix,
        "s3_region": target.region,
        "s3_object_lock_mode": target.object_lock_mode,
        "s3_object_lock_days": target.object_lock_days,
        "s3_credentials_file": target.credentials_file,
        "s3_access_key_env": target.access_key_env,
        "s3_secret_key_env": target.secret_key_env,
        "storage_slot": target.embedded_slot if target.embedded else 0,
    }
    if target.embedded:
        update["storage_s3_port"] = embedded_port(settings, target.embedded_slot)
    return settings.model_copy(update=update)


def target_views(settings: Settings) -> list[Settings]:
    """One settings view per configured target, in order."""
    return [target_settings(settings, target) for target in resolve_targets(settings)]


def find_target(settings: Settings, name: str) -> StorageTarget:
    for target in resolve_targets(settings):
        if target.name == name:
            return target
    known = ", ".join(t.name for t in resolve_targets(settings))
    raise ConfigError(f"no storage target named {name!r} (configured: {known})")


def _target_problems(settings: Settings, target: StorageTarget) -> list[str]:
    problems: list[str] = []
    if target.credentials_file is not None:
        path = target.credentials_file
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            problems.append(f"credentials_file {path}: {exc.strerror or exc}")
        else:
            if not stat.S_ISREG(mode):
                problems.append(f"credentials_file {path} is not a regular file")
            elif mode & 0o077:
                problems.append(
                    f"credentials_file {path} is readable by others (mode "
                    f"{stat.S_IMODE(mode):04o}); chmod 600 it"
                )
    if target.access_key_env is not None and target.secret_key_env is not None:
        missing = [
            name
            for name in (target.access_key_env, target.secret_key_env)
            if not os.environ.get(name)
        ]
        if missing:
            problems.append(f"environment variable(s) {', '.join(missing)} unset or empty")
    if target.embedded:
        top = embedded_port(settings, target.embedded_slot) + 3 + 10000
        if top > 65535:
            problems.append(
                f"storage_s3_port {settings.storage_s3_port} leaves no room for embedded server "
                f"{target.embedded_slot + 1} (it would need ports up to {top})"
            )
    return problems


def check_targets(settings: Settings) -> list[StorageTarget]:
    """The targets, or one :class:`ConfigError` listing every problem of every target."""
    targets = resolve_targets(settings)
    problems: list[str] = []
    names = [t.name for t in targets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"storage target names used twice: {', '.join(duplicates)}")
    places = [(t.endpoint_url, t.bucket, t.prefix, t.embedded_slot) for t in targets]
    if len(set(places)) != len(places):
        problems.append("two storage targets name the same endpoint, bucket and prefix")
    slots = [t.embedded_slot for t in targets if t.embedded]
    if len(set(slots)) != len(slots):
        problems.append("two embedded storage targets share one embedded_slot")
    required = copies_required(settings)
    if required > len(targets):
        problems.append(
            f"copies_required is {required} but only {len(targets)} storage target(s) exist"
        )
    for target in targets:
        problems += [
            f"storage target {target.name}: {p}" for p in _target_problems(settings, target)
        ]
    problems += signing_key_problems(settings)
    if problems:
        raise ConfigError("bad storage configuration: " + "; ".join(problems))
    return targets
