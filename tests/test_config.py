"""Configuration: defaults, the example file, environment overrides, one-line errors."""

from pathlib import Path

import pytest

from watcher.core.config import ROOT, ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_example_config_loads_and_documents_every_section():
    s = load_settings(ROOT / "data" / "config.example.toml", environ={})
    assert s.dns.port == 53
    assert s.crawl.ca_file is None  # "" means not set
    text = (ROOT / "data" / "config.example.toml").read_text()
    for section in s.model_dump(exclude={"source"}):
        assert f"[{section}]" in text, f"config.example.toml lacks [{section}]"
        value = getattr(s, section)
        # A list of entries ([[feeds]]) documents the keys of one entry.
        keys = type(s).model_fields[section].annotation.__args__[0].model_fields if isinstance(value, list) \
            else value.model_dump()
        for key in keys:
            assert key in text, f"config.example.toml does not document {section}.{key}"


def test_default_database_is_sqlite_in_the_state_dir(tmp_path):
    s = load_settings(write(tmp_path, '[service]\nstate_dir = "/srv/omamori"\n'), environ={})
    assert s.database_url == "sqlite:////srv/omamori/omamori.db"


def test_an_unknown_key_names_the_key_and_the_file(tmp_path):
    p = write(tmp_path, "[dns]\nnameserver = ['1.1.1.1']\n")
    with pytest.raises(ConfigError) as e:
        load_settings(p, environ={})
    assert str(e.value) == f"{p}: unknown key `dns.nameserver` (see data/config.example.toml for every key)"


def test_a_wrong_value_names_the_key_the_file_and_the_value(tmp_path):
    p = write(tmp_path, "[dns]\nport = 70000\n")
    with pytest.raises(ConfigError) as e:
        load_settings(p, environ={})
    msg = str(e.value)
    assert msg.startswith(f"{p}: key `dns.port`") and "70000" in msg and "\n" not in msg


def test_broken_toml_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[dns\n"), environ={})


def test_a_missing_file_says_what_to_copy(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.example\.toml"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_secrets_come_from_the_environment(tmp_path):
    p = write(tmp_path, "[smtp]\nhost = 'mail.example.jp'\n")
    s = load_settings(p, environ={"OMAMORI_SMTP__PASSWORD": "s3cret", "OMAMORI_DNS__PORT": "5353",
                                  "OMAMORI_DNS__NAMESERVERS": "['127.0.0.1']"})
    assert s.smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s.smtp)
    assert s.dns.port == 5353 and s.dns.nameservers == ["127.0.0.1"]


def test_a_bad_environment_value_is_reported_as_such(tmp_path):
    with pytest.raises(ConfigError, match=r"OMAMORI_\* environment: key `dns.port`"):
        load_settings(write(tmp_path, ""), environ={"OMAMORI_DNS__PORT": "many"})


def test_omamori_config_names_the_file(tmp_path):
    p = write(tmp_path, "[service]\nlanguage = 'en'\n")
    assert load_settings(environ={"OMAMORI_CONFIG": str(p)}).service.language == "en"


def test_job_intervals_are_configurable(tmp_path):
    p = write(tmp_path, "[jobs]\nsnapshot = { interval_seconds = 15 }\n")
    s = load_settings(p, environ={})
    assert s.jobs.snapshot.interval_seconds == 15 and s.jobs.snapshot.enabled
    assert s.jobs.ct_poll.interval_seconds == 30
