from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.settings import Settings, settings_table
from tests.support.paths import PROJECT_ROOT

CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"


def test_every_setting_is_in_the_generated_configuration_table():
    """The table is generated (cog) from the model; CI also runs ``cog --check``."""
    table = settings_table()
    assert table in CONFIGURATION.read_text(encoding="utf-8")
    fields = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert "llm.base_url" in fields and "answer.evidence_scope" in fields
    assert all(line.count("|") == 5 and not line.endswith("|  |") for line in table.splitlines())


def test_environment_overrides_toml_file(tmp_path, monkeypatch):
    config = tmp_path / "assistant.toml"
    config.write_text('data_dir = "from-toml"\n[llm]\nmodel = "toml-model"\nmax_tokens = 77\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    monkeypatch.setenv("ASSISTANT_LLM__MODEL", "env-model")
    settings = Settings()
    assert settings.data_dir == Path("from-toml")
    assert settings.llm.model == "env-model"
    assert settings.llm.max_tokens == 77


def test_unknown_setting_is_rejected_with_its_name(tmp_path, monkeypatch):
    config = tmp_path / "assistant.toml"
    config.write_text("[llm]\nmodle = 'typo'\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    with pytest.raises(ValidationError, match="modle"):
        Settings()
