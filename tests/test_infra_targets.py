"""infra/: the example configuration keeps every AIP on three targets, and compose.yaml runs
three independent SeaweedFS servers for them (own data volume, identities and JWT keys)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.targets import check_targets, copies_required

INFRA = Path(__file__).resolve().parents[1] / "infra"


def test_example_config_names_three_targets_that_pass_start_up_validation(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_INGEST_CONFIG", str(INFRA / "archive-ingest.toml"))
    for slot in ("1", "2", "3"):
        monkeypatch.setenv(f"TARGET_{slot}_ACCESS_KEY_ID", f"key-{slot}")
        monkeypatch.setenv(f"TARGET_{slot}_SECRET_ACCESS_KEY", f"secret-{slot}")
    reset_settings_cache()
    settings = Settings()
    targets = check_targets(settings)
    assert [t.name for t in targets] == ["seaweedfs-1", "seaweedfs-2", "seaweedfs-3"]
    assert copies_required(settings) == 2
    assert len({t.access_key_env for t in targets}) == 3  # a key pair of its own each
    assert all(not t.embedded and t.object_lock_mode != "NONE" for t in targets)

    # compose.yaml: a server of its own per target (YAML read as text: no YAML library here)
    compose = (INFRA / "compose.yaml").read_text()
    for target in targets:
        assert target.endpoint_url is not None
        service = urlsplit(target.endpoint_url).hostname
        n = target.name.rsplit("-", 1)[1]
        for needed in (
            f"\n  {service}:\n    <<: *seaweedfs\n",
            f"- seaweed-{n}:/data",
            f"{{ source: seaweedfs-{n}-s3, target: s3-identities }}",
            f"WEED_JWT_SIGNING_KEY: ${{SEAWEEDFS_{n}_JWT_SIGNING_KEY:?set it}}",
            f"{target.access_key_env}: ${{{target.access_key_env}:?set it}}",
            f"{target.secret_key_env}: ${{{target.secret_key_env}:?set it}}",
        ):
            assert needed in compose, needed
    assert "-s3.config=/run/secrets/s3-identities" in compose
    assert "ARCHIVE_INGEST_S3_ENDPOINT_URL" not in compose
