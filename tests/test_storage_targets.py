"""Storage targets as configuration: resolution, per-target views, start-up validation, and
each target's client reaching its own real SeaweedFS server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from archive_ingest.errors import ConfigError
from archive_ingest.settings import Settings, check_settings, reset_settings_cache
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.targets import (
    check_targets,
    copies_required,
    resolve_targets,
    target_settings,
    target_views,
)
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv


def test_default_is_two_embedded_servers_in_their_own_folders_and_ports(settings: Settings) -> None:
    targets = resolve_targets(settings)
    assert [t.name for t in targets] == ["local-1", "local-2"]
    assert copies_required(settings) == 2
    views = target_views(settings)
    assert views[0].storage_dir == settings.home / "storage"
    assert views[1].storage_dir == settings.home / "storage-2"
    assert views[0].storage_s3_port != views[1].storage_s3_port
    assert settings.storage_dir == settings.home / "storage"  # the settings themselves unchanged


def test_single_endpoint_settings_are_one_target(home: Path) -> None:
    settings = Settings(s3_endpoint_url="http://127.0.0.1:9", s3_bucket="b-one", s3_prefix="p")
    [target] = resolve_targets(settings)
    assert (target.name, target.endpoint_url, target.bucket) == (
        "primary",
        "http://127.0.0.1:9",
        "b-one",
    )
    assert target_settings(settings, target).s3_bucket == "b-one"


def test_every_bad_target_is_named_in_one_error(home: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose.json"
    loose.write_text('{"aws_access_key_id": "a", "aws_secret_access_key": "b"}')
    loose.chmod(0o644)
    settings = Settings(
        storage_targets=[
            {"name": "a", "endpoint_url": "http://127.0.0.1:9", "credentials_file": str(loose)},
            {
                "name": "b",
                "endpoint_url": "http://127.0.0.1:9",
                "credentials_file": str(tmp_path / "none"),
            },
            {
                "name": "c",
                "endpoint_url": "http://127.0.0.1:10",
                "access_key_env": "AI_TEST_UNSET_A",
                "secret_key_env": "AI_TEST_UNSET_B",
            },
        ],
        copies_required=4,
    )
    with pytest.raises(ConfigError) as caught:
        check_targets(settings)
    message = str(caught.value)
    for expected in (
        "target a",
        "readable by others",
        "target b",
        "target c",
        "AI_TEST_UNSET_A",
        "copies_required is 4",
    ):
        assert expected in message


def test_a_malformed_target_is_a_settings_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_INGEST_STORAGE_TARGETS", json.dumps([{"name": "Bad Name!"}]))
    reset_settings_cache()
    with pytest.raises(ConfigError, match="storage_targets"):
        check_settings()


def test_each_target_client_reaches_its_own_server(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv
) -> None:
    settings = targets_env(seaweed_trio, copies_required=2)
    assert copies_required(settings) == 2
    check_targets(settings)
    for view, server in zip(target_views(settings), seaweed_trio, strict=True):
        assert view.s3_endpoint_url == server.endpoint
        client = make_client(view)
        client.put_object(
            Bucket=view.s3_bucket,
            Key=f"{view.s3_prefix}/probe",
            Body=view.storage_target_name.encode(),
        )
        body = client.get_object(Bucket=view.s3_bucket, Key=f"{view.s3_prefix}/probe")[
            "Body"
        ].read()
        assert body == view.storage_target_name.encode()
    assert "AWS_ACCESS_KEY_ID" not in os.environ
