"""scripts/train_tone.py never trains on less than its sources silently: a missing file is
named, with where to get it and its sha256, and the script exits 2 (issue 12)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).parents[2] / "scripts" / "train_tone.py"


def _trainer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_tone", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_tone", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_missing_source_is_named_with_its_url_and_sha256(tmp_path: Path) -> None:
    trainer = _trainer()
    shared, extra = tmp_path / "shared", tmp_path / "extra"
    shared.mkdir()
    extra.mkdir()
    run = subprocess.run([sys.executable, str(SCRIPT), "--shared-data", str(shared), "--extra-data", str(extra), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and not run.stdout
    names = trainer.TRAINABLE["en"]
    assert "stackexchange" in names and "hatecheck" in names
    lines = run.stderr.splitlines()
    for name in names:
        source = trainer.SOURCES[name]
        folder = shared if source.folder == "shared" else extra
        line = next(line for line in lines if str(folder / source.file) in line)
        assert source.url in line and source.sha256 in line, line


def test_one_missing_source_is_enough_to_stop(tmp_path: Path) -> None:
    trainer = _trainer()
    shared, extra = tmp_path / "shared", tmp_path / "extra"
    shared.mkdir()
    extra.mkdir()
    for name in trainer.TRAINABLE["en"]:
        if name != "stackexchange":
            source = trainer.SOURCES[name]
            (shared if source.folder == "shared" else extra).joinpath(source.file).write_text("x\n", encoding="utf-8")
    assert [line.split()[1] for line in trainer.missing_files(trainer.TRAINABLE["en"], shared, extra)] == [str(extra / "stack-exchange.annotated.csv")]
