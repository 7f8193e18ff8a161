"""The product as a user installs it, not as the editable checkout the other tests import:
a wheel built from the source tree, installed into a fresh virtual environment, run from
another directory. It catches what an editable install hides: package data left out of the
wheel (the bundled corpus under ``assistant/corpus``, the ``prompts`` templates,
``evals/gold.jsonl``, the chat's static files), entry points missing from its metadata,
code that reads files relative to the repository.

To stay fast and offline, the dependencies are not installed again: after the wheel is
installed (``--no-deps``, into an environment where nothing else is), a ``.pth`` file puts
this environment's site-packages after the new one's. A ``.pth`` path line adds a directory
without running the ``.pth`` files inside it, so the editable install there (which would
import the checkout) stays off; the test checks that every product package is imported from
the new environment. ``make install-check`` runs this test alone; ``make test`` with the
rest (it is ``slow``, which CI runs)."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT

FLAGSHIP_QUESTION = "How many proposals did Ha Tinh receive through dialogue conferences?"
# Package data every installed copy must carry (setuptools' package-data, pyproject.toml).
PACKAGE_DATA = ("assistant/corpus/", "assistant/static/", "prompts/", "evals/gold.jsonl")
STEP_TIMEOUT_S = 600


def source_files(root: Path) -> list[str]:
    """The files a clean clone with this working tree's changes would have: tracked ones
    and untracked ones git does not ignore (so no .venv, build/ or *.egg-info)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    return sorted(name for name in listed if name and (root / name).is_file())


def copy_source(root: Path, destination: Path) -> list[str]:
    """The source tree copied to ``destination`` (a wheel built in place would reuse a stale
    ``build/``); returns the files copied."""
    files = source_files(root)
    for name in files:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination / name)
    return files


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True,
        timeout=STEP_TIMEOUT_S, **kwargs,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def user_environment(venv: Path, data_dir: Path, model_cache_dir: Path) -> dict[str, str]:
    """A shell of a user who activated ``venv``: none of this session's Python or
    ``ASSISTANT_*`` variables; the index in ``data_dir``, the converted models shared."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ASSISTANT_", "PYTHON", "VIRTUAL_ENV"))
    }
    environment |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_MODEL_CACHE_DIR": str(model_cache_dir),
        "ASSISTANT_CONFIG": str(data_dir / "no-config.toml"),
    }
    return environment


@pytest.mark.slow
def test_the_installed_wheel_ingests_and_searches_its_bundled_corpus(tmp_path, model_cache_dir):
    started = time.perf_counter()
    source, wheels, venv = tmp_path / "source", tmp_path / "wheels", tmp_path / "venv"
    copied = copy_source(PROJECT_ROOT, source)

    # The wheel, built offline by this environment's setuptools.
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", wheels, source])  # fmt: skip
    [wheel] = wheels.glob("news_assistant-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = set(archive.namelist())
    expected = {name for name in copied if name.startswith(PACKAGE_DATA)}
    assert any(name.startswith("assistant/corpus/") for name in expected)
    assert expected - packaged == set(), "package data missing from the wheel"

    # A fresh environment with the wheel alone in it, then the dependencies made visible.
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel])  # fmt: skip
    [new_site] = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    ).stdout.split()
    dependencies = "\n".join(site.getsitepackages())
    (Path(new_site) / "_news_assistant_dependencies.pth").write_text(dependencies + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = user_environment(venv, tmp_path / "data", model_cache_dir)

    def installed(*command: str | Path) -> subprocess.CompletedProcess:
        return run(list(command), cwd=elsewhere, env=environment)

    where = json.loads(installed(python, "-c", (
        "import json, assistant, ingest, evals, prompts\n"
        "from importlib import resources\n"
        "from assistant.settings import bundled_corpus, bundled_prompts\n"
        "print(json.dumps({'modules': [m.__file__ for m in (assistant, ingest, evals, prompts)],"
        " 'corpus': str(bundled_corpus()), 'prompts': str(bundled_prompts()),"
        " 'gold': str(resources.files('evals') / 'gold.jsonl')}))"
    )).stdout)  # fmt: skip
    for path in [*where["modules"], where["corpus"], where["prompts"], where["gold"]]:
        assert Path(path).resolve().is_relative_to(Path(new_site).resolve()), path
    corpus = {path.name for path in Path(where["corpus"]).iterdir()}
    assert corpus == {Path(n).name for n in copied if n.startswith("assistant/corpus/")}
    assert Path(where["gold"]).is_file()

    # The commands a user runs, the evaluation's plugged in through the wheel's metadata.
    assert "--gold" in installed(venv / "bin" / "assistant", "eval", "--help").stdout
    ingested = installed(venv / "bin" / "assistant", "ingest", "--no-progress")
    assert "Ingestion" in ingested.stdout
    assert (tmp_path / "data" / "index").is_dir()
    searched = installed(
        venv / "bin" / "assistant", "search", FLAGSHIP_QUESTION, "-k", "5", "--json"
    )
    passages = json.loads(searched.stdout)
    assert len(passages) == 5
    assert {passage["doc_id"] for passage in passages} <= corpus
    assert any(
        passage["doc_id"].startswith("002_9dbad9a477df04d3") and "18087" in passage["text"]
        for passage in passages
    ), passages
    print(f"install check: {time.perf_counter() - started:.0f} s")
