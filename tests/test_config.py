"""Home resolution, the settings model, its errors, the generated reference and the example config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lakegate.config import Settings, example_config, load_settings, settings_reference
from lakegate.errors import ConfigError
from lakegate.home import resolve_home

ROOT = Path(__file__).resolve().parents[1]


def test_home_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_HOME", str(tmp_path / "from-env"))
    assert resolve_home(tmp_path / "from-flag", create=True).root == tmp_path / "from-flag"
    assert resolve_home(None, create=True).root == tmp_path / "from-env"
    monkeypatch.delenv("LAKEGATE_HOME")
    assert resolve_home(None, create=True).root == Path.cwd() / "lakegate-data"


def test_missing_home_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_home(tmp_path / "nowhere")
    assert err.value.code == "home.missing" and "lakegate init" in str(err.value)


def test_no_config_file_needed(tmp_path: Path) -> None:
    settings = load_settings(resolve_home(tmp_path / "h", create=True), environ={})
    assert settings == Settings()


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "h", create=True)
    home.config_file.write_text("ingest:\n  worker: 3\n")
    with pytest.raises(ConfigError) as err:
        load_settings(home, environ={})
    text = str(err.value)
    assert err.value.code == "config.unknown_key"
    assert str(home.config_file) in text and "ingest.worker" in text and "did you mean `workers`" in text


def test_bad_value_names_the_key_and_its_help(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "h", create=True)
    home.config_file.write_text("query:\n  memory_limit: lots\n")
    with pytest.raises(ConfigError) as err:
        load_settings(home, environ={})
    assert err.value.code == "config.bad_value"
    assert "query.memory_limit" in str(err.value) and "512MB" in str(err.value)


def test_broken_yaml_gives_the_line(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "h", create=True)
    home.config_file.write_text("ingest:\n  workers: [1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(home, environ={})
    assert err.value.code == "config.yaml" and "line" in str(err.value)


def test_environment_overrides_and_names_the_variable(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "h", create=True)
    home.config_file.write_text("ingest:\n  workers: 2\n")
    assert load_settings(home, environ={"LAKEGATE_INGEST__WORKERS": "7"}).ingest.workers == 7
    with pytest.raises(ConfigError) as err:
        load_settings(home, environ={"LAKEGATE_INGEST__WORKERS": "many"})
    assert "LAKEGATE_INGEST__WORKERS" in str(err.value)


def test_reference_doc_is_current() -> None:
    committed = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings_reference(), "run `make docs` to regenerate docs/settings.md"


def test_every_setting_is_documented() -> None:
    reference = settings_reference()
    for section in ("ingest", "query"):
        for name, field in Settings.model_fields[section].annotation.model_fields.items():  # type: ignore[union-attr]
            assert field.description, f"{section}.{name} has no help text"
            assert f"`{section}.{name}`" in reference


def test_example_config_is_valid_when_uncommented(tmp_path: Path) -> None:
    text = example_config()
    uncommented = "\n".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    data = yaml.safe_load(
        "\n".join(line for line in uncommented.splitlines() if not line.startswith("lakegate"))
    )
    assert Settings.model_validate(data) == Settings()
    assert yaml.safe_load(text) is None  # as written, everything is a comment


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gs://bucket/x/", "unknown scheme `gs://`"),
        ("s3:///x/", "names no bucket"),
        ("http://h/x", "unknown scheme"),
    ],
)
def test_storage_areas_are_validated(tmp_path: Path, value: str, message: str) -> None:
    home = resolve_home(tmp_path / "h", create=True)
    home.config_file.write_text(f"storage:\n  lake: {value}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(home, environ={})
    assert (
        err.value.code == "config.bad_value"
        and "storage.lake" in str(err.value)
        and message in str(err.value)
    )


def test_errors_name_the_line_of_the_setting(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "lakegate.yaml").write_text(
        "ingest:\n  workers: 4\ndatasets:\n  - name: a\n    key: landing/x.csv\n    database: d\n"
        "    table: t\n  - name: b\n    key: y\n    database: d\n    tabel: t\n"
    )
    with pytest.raises(ConfigError, match=r"lakegate.yaml, line 11: unknown setting `datasets\[1\].tabel`"):
        load_settings(resolve_home(tmp_path))
    (tmp_path / "lakegate.yaml").write_text("ingest:\n  settle_seconds: 0.1\n  workers: lots\n")
    with pytest.raises(ConfigError, match=r"line 3: bad value for `ingest.workers`"):
        load_settings(resolve_home(tmp_path))
