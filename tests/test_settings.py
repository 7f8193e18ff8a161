from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from ingest.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _field_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    missing = [path for path in _field_paths(Settings) if f"`{path}`" not in readme]
    assert not missing, f"settings missing from the README table: {missing}"


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
