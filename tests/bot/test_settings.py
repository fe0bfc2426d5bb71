"""Settings come from settings.yaml and the environment, and bad ones name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, SettingsError, load_settings, unknown_environment
from tests.bot.test_cli import talentbot


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_settings_file_is_valid() -> None:
    settings = load_settings(PROJECT_ROOT / "settings.yaml")
    assert settings.knowledge.dir == PROJECT_ROOT / "knowledge"
    assert settings.telegram.token is None
    assert settings.database.url.startswith("sqlite+aiosqlite:////")
    assert "【待填写】" in settings.office.phone


def test_environment_overrides_one_key_and_keeps_the_rest_of_the_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "matching:\n  answer_confidence: 0.8\n  suggest_confidence: 0.4\n")
    monkeypatch.setenv("TALENTBOT_MATCHING__SUGGEST_CONFIDENCE", "0.3")
    settings = load_settings(path)
    assert settings.matching.answer_confidence == 0.8
    assert settings.matching.suggest_confidence == 0.3


def test_talentbot_settings_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "office:\n  phone: 0730-0000000\n")
    monkeypatch.setenv("TALENTBOT_SETTINGS", str(path))
    assert load_settings().office.phone == "0730-0000000"


def test_unknown_keys_and_bad_values_name_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "matching:\n  answer_confidence: 2\n  threshhold: 1\nstaff:\n  digest_time: '25:00'\n",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert (
        f"{path}:2: matching.answer_confidence: Input should be less than or equal to 1" in message
    )
    assert f"{path}:3: matching.threshhold: unknown key" in message
    assert f"{path}:5: staff.digest_time: String should match pattern" in message


def test_a_bad_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALENTBOT_MATCHING__ANSWER_CONFIDENCE", "lots")
    with pytest.raises(
        SettingsError,
        match=r"environment TALENTBOT_MATCHING__ANSWER_CONFIDENCE: matching.answer_confidence",
    ):
        load_settings(write(tmp_path, "{}\n"))


def test_broken_yaml_and_missing_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"settings.yaml:3: expected <block end>"):
        load_settings(write(tmp_path, "matching:\n  a: 1\n b: [\n"))
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_confidences_must_be_ordered(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="suggest_confidence must not exceed answer_confidence"):
        load_settings(
            write(tmp_path, "matching:\n  answer_confidence: 0.3\n  suggest_confidence: 0.5\n")
        )


def test_relative_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "knowledge:\n  dir: kb\ndatabase:\n  url: sqlite+aiosqlite:///x.db\n")
    )
    assert settings.knowledge.dir == tmp_path / "kb"
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"


def test_the_token_is_secret_in_reprs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTBOT_TELEGRAM__TOKEN", "123:SECRET")
    settings = load_settings(write(tmp_path, "{}\n"))
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:SECRET"
    assert "SECRET" not in repr(settings)


def test_the_database_password_and_webhook_secret_are_not_in_reprs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALENTBOT_DATABASE__URL", "postgresql+psycopg://bot:PA55WORD@db/talent")
    monkeypatch.setenv("TALENTBOT_TELEGRAM__WEBHOOK_SECRET", "HOOKSECRET")
    settings = load_settings(write(tmp_path, "{}\n"))
    shown = repr(settings) + str(settings)
    assert "PA55WORD" not in shown and "HOOKSECRET" not in shown


def test_an_unknown_time_zone_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALENTBOT_STAFF__TIMEZONE", "Mars/Base")
    with pytest.raises(SettingsError, match=r"TALENTBOT_STAFF__TIMEZONE: staff.timezone.*Mars"):
        load_settings(write(tmp_path, "{}\n"))


def test_a_section_error_caused_by_the_environment_blames_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "matching:\n  answer_confidence: 0.7\n  suggest_confidence: 0.5\n")
    monkeypatch.setenv("TALENTBOT_MATCHING__SUGGEST_CONFIDENCE", "0.9")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(caught.value).startswith("environment TALENTBOT_MATCHING__SUGGEST_CONFIDENCE")
    assert "settings.yaml" not in str(caught.value)


def test_a_misspelt_section_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTBOT_MATCHINGG__X", "1")
    monkeypatch.setenv("TALENTBOT_MATCHING__ANSWER_CONFIDENCE", "0.8")
    assert unknown_environment() == ["TALENTBOT_MATCHINGG__X"]


def test_an_empty_token_means_no_token_and_a_malformed_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALENTBOT_TELEGRAM__TOKEN", "")
    assert load_settings(write(tmp_path, "{}\n")).telegram.token is None
    monkeypatch.setenv("TALENTBOT_TELEGRAM__TOKEN", "not-a-token")
    with pytest.raises(SettingsError, match=r"TALENTBOT_TELEGRAM__TOKEN: telegram\.token"):
        load_settings(write(tmp_path, "{}\n"))


def test_limits_have_safe_defaults_and_are_checked(tmp_path: Path) -> None:
    limits = load_settings(write(tmp_path, "{}\n")).limits
    assert (limits.match_chars, limits.store_chars) == (1000, 20000)
    assert (limits.messages_per_minute, limits.burst) == (20, 5)
    with pytest.raises(SettingsError, match=r"limits: .*match_chars must not exceed store_chars"):
        load_settings(write(tmp_path, "limits:\n  match_chars: 5000\n  store_chars: 1000\n"))


def test_an_out_of_range_environment_value_is_blamed_on_the_variable_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "limits:\n  burst: 5\n  store_chars: 20000\n")
    monkeypatch.setenv("TALENTBOT_LIMITS__BURST", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        "environment TALENTBOT_LIMITS__BURST: limits.burst: Input should be greater than or equal to 1"
    )


def test_the_command_line_exits_2_on_an_unknown_time_zone_and_warns_of_a_misspelt_section() -> None:
    bad = talentbot("kb", "export", env={"TALENTBOT_STAFF__TIMEZONE": "Mars/Base"})
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "TALENTBOT_STAFF__TIMEZONE: staff.timezone" in bad.stderr and "Mars/Base" in bad.stderr
    typo = talentbot("kb", "export", env={"TALENTBOT_MATCHINGG__X": "1"})
    assert typo.returncode == 0
    assert "TALENTBOT_MATCHINGG__X" in typo.stderr


def test_the_telegram_contract_settings_have_their_defaults_and_bounds(tmp_path: Path) -> None:
    telegram = load_settings(write(tmp_path, "{}\n")).telegram
    assert (telegram.max_messages_per_second, telegram.max_group_messages_per_minute) == (30, 20)
    assert (telegram.send_retries, telegram.max_webhook_body_bytes) == (3, 1_048_576)
    bad = "telegram:\n  max_messages_per_second: 0\n  send_retries: -1\n"
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, bad))
    assert ":2: telegram.max_messages_per_second:" in str(caught.value)
    assert ":3: telegram.send_retries:" in str(caught.value)
