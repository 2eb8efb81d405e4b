"""Downloads from a Hugging Face hub served on loopback: a real small GGUF, the hub's own headers.

The hub (tests/support/fake_hub.py) answers as huggingface.co does: a 302 from `resolve/` to a
CDN URL with `X-Linked-Etag`/`X-Linked-Size`, and byte ranges from the CDN. Faults are served for
real: a body cut off mid-file, corrupted bytes, a file that changed on the hub, a gated repo. A
disk that fills up is a real ENOSPC from the kernel: the part file is a link to /dev/full, whose
writes always fail that way (the one device every Linux has that behaves like a full disk).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models.catalog import KNOWN_MODELS, KnownModel, is_checked, pull
from agent.models.hardware import read_gguf
from agent.models.hub import Hub, partial_path
from agent.models.known import HubFile
from tests.models.conftest import write_tiny_gguf
from tests.support.fake_hub import FakeHub
from tests.support.http_servers import serve_app

REPO, PATH, REVISION = "someone/Tiny-GGUF", "Tiny-Q4_K_M.gguf", "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real GGUF of about 2.6 MB: big enough to arrive in several chunks."""
    path = write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", blocks=10, width=256)
    return path.read_bytes()


@pytest.fixture
def fake_hub() -> Iterator[tuple[FakeHub, Hub]]:
    hub = FakeHub()
    with serve_app(hub.app()) as url:
        yield hub, Hub(endpoint=url, retries=3, retry_wait_s=0.0)


def tiny_model(data: bytes, **changes: object) -> KnownModel:
    model = KnownModel(
        name="tiny-hub",
        filename="tiny-hub-q4_k_m.gguf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        parts=(),
        description="a tiny model on a loopback hub",
        hub=HubFile(REPO, PATH, REVISION),
    )
    return replace(model, **changes)  # type: ignore[arg-type]


def catalog_of(model: KnownModel) -> dict[str, KnownModel]:
    return {model.name: model}


def test_a_known_hub_model_downloads_with_a_progress_bar_and_lands_verified(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION)
    model = tiny_model(gguf_bytes)
    path = pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=access)
    assert path == tmp_path / "tiny-hub-q4_k_m.gguf" and path.read_bytes() == gguf_bytes
    assert read_gguf(path).block_count == 10
    assert is_checked(path, model)  # a .verified record: the next pull does not hash it again
    assert not partial_path(path).exists()
    err = capfd.readouterr().err
    assert "tiny-hub" in err and "100%" in err and f"{len(gguf_bytes) / 1e6:.2f}M" in err  # the bar
    resolve, cdn = f"/{REPO}/resolve/{REVISION}/{PATH}", f"/cdn/{REPO}/{REVISION}/{PATH}"
    assert [s.path for s in hub.seen] == [resolve, cdn]


def test_a_download_cut_off_midway_resumes_from_where_it_stopped(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION, cut_off=1)
    path = pull("tiny-hub", tmp_path, catalog=catalog_of(tiny_model(gguf_bytes)), hub=access, progress=False)
    assert path.read_bytes() == gguf_bytes
    first, second = hub.ranges()
    assert first is None and second is not None
    resumed_at = int(second.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(gguf_bytes)  # only the missing bytes were asked for


def test_a_part_file_left_by_an_interrupted_run_is_completed_not_downloaded_again(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION)
    model = tiny_model(gguf_bytes)
    partial_path(tmp_path / model.filename).write_bytes(gguf_bytes[:1_000_000])  # a killed earlier run
    path = pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=access, progress=False)
    assert path.read_bytes() == gguf_bytes
    assert hub.ranges() == ["bytes=1000000-"]


def test_a_connection_that_keeps_dropping_gives_up_and_keeps_what_arrived_for_next_time(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    file = hub.add(REPO, PATH, gguf_bytes, REVISION, cut_off=-1)
    model = tiny_model(gguf_bytes)
    with pytest.raises(ModelNotFoundError, match="arrived and is kept: run the same command again to resume"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=replace(access, retries=1), progress=False)
    kept = partial_path(tmp_path / model.filename).stat().st_size
    assert 0 < kept < len(gguf_bytes) and not (tmp_path / model.filename).exists()
    file.cut_off = 0  # the network is back
    assert pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=access, progress=False).read_bytes() == (
        gguf_bytes
    )
    assert hub.ranges()[-1] == f"bytes={kept}-"


def test_a_download_whose_sha256_is_wrong_is_refused_and_not_kept(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION, corrupt=True)  # right headers, one flipped byte
    model = tiny_model(gguf_bytes)
    with pytest.raises(ModelLoadError, match=r"expected \d+ bytes with sha256 .* corrupt file was deleted"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=access, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_hub_file_that_is_not_the_pinned_one_is_refused_before_any_byte_is_fetched(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION, advertised_sha256="ab" * 32)  # re-uploaded upstream
    with pytest.raises(ModelLoadError, match=r"not the pinned file .*sha256 abab"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(tiny_model(gguf_bytes)), hub=access, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_file_larger_than_the_free_disk_space_is_refused_before_downloading(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION)
    huge = tiny_model(gguf_bytes, size=2**60)  # an exbibyte: more than any disk has free
    with pytest.raises(ModelLoadError, match=r"not enough disk space for tiny-hub: .* GiB more is needed in"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(huge), hub=access, progress=False)
    assert hub.seen == [] and list(tmp_path.iterdir()) == []


def test_an_hf_source_larger_than_the_free_disk_space_is_refused_when_the_hub_says_its_size(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, advertised_size=2**60)
    with pytest.raises(ModelLoadError, match="not enough disk space"):
        pull(f"hf:{REPO}/{PATH}", tmp_path, hub=access, progress=False)
    assert hub.ranges() == [None] and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_disk_that_fills_up_during_the_download_is_reported_with_what_to_do(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION)
    model = tiny_model(gguf_bytes)
    partial_path(tmp_path / model.filename).symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(ModelLoadError, match=r"disk filled up while downloading tiny-hub .* free some space"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(model), hub=access, progress=False)
    assert not (tmp_path / model.filename).exists()


def test_a_gated_repository_says_how_to_get_access(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION, gated=True)
    with pytest.raises(ModelNotFoundError, match=rf"refused tiny-hub \(401\).*{REPO} and log in"):
        pull("tiny-hub", tmp_path, catalog=catalog_of(tiny_model(gguf_bytes)), hub=access, progress=False)
    token = replace(access, token="hf_test_token")
    assert pull("tiny-hub", tmp_path, catalog=catalog_of(tiny_model(gguf_bytes)), hub=token, progress=False)
    assert hub.seen[-2].authorization == "Bearer hf_test_token"


def test_a_file_the_hub_does_not_have_is_model_not_found(
    fake_hub: tuple[FakeHub, Hub], tmp_path: Path
) -> None:
    _, access = fake_hub
    with pytest.raises(ModelNotFoundError, match=r"not on the hub .*check the repository and file name"):
        pull(f"hf:{REPO}/missing.gguf", tmp_path, hub=access, progress=False)


def test_an_hf_source_is_checked_against_the_sha256_the_hub_reports(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path
) -> None:
    hub, access = fake_hub
    hub.add(REPO, f"sub/{PATH}", gguf_bytes)
    path = pull(f"hf:{REPO}/sub/{PATH}", tmp_path, hub=access, progress=False)
    assert path == tmp_path / "sub" / PATH and path.read_bytes() == gguf_bytes
    hub.add(REPO, "bad.gguf", gguf_bytes, corrupt=True)
    with pytest.raises(ModelLoadError, match="corrupt file was deleted"):
        pull(f"hf:{REPO}/bad.gguf", tmp_path, hub=access, progress=False)
    assert not (tmp_path / "bad.gguf").exists()


def test_models_pull_reads_the_hub_address_from_hf_endpoint(
    fake_hub: tuple[FakeHub, Hub], gguf_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, access = fake_hub
    hub.add(REPO, PATH, gguf_bytes, REVISION)
    monkeypatch.setitem(KNOWN_MODELS, "tiny-hub", tiny_model(gguf_bytes))
    result = CliRunner().invoke(
        main,
        ["models", "pull", "tiny-hub", "--models-dir", str(tmp_path)],
        env={"HF_ENDPOINT": access.endpoint, "HF_TOKEN": ""},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "tiny-hub: " in result.output and (tmp_path / "tiny-hub-q4_k_m.gguf").read_bytes() == gguf_bytes
