"""Settings: default < environment < command line (`proxy.settings`, `proxy.cli`)."""

from __future__ import annotations

import pytest

from proxy.cli import build_parser, resolve_settings
from proxy.settings import OPTIONS, Settings, SettingsError


def resolve(argv: list[str], environ: dict[str, str] | None = None) -> Settings:
    return resolve_settings(build_parser().parse_args(["serve", *argv]), environ or {})


def refusal(argv: list[str], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as caught:
        resolve(argv, environ)
    return str(caught.value)


def test_defaults_without_env_or_flags() -> None:
    assert resolve([]) == Settings()
    settings = resolve([])
    assert (settings.host, settings.port, settings.sandbox, settings.echo_token) == (
        "127.0.0.1", 8080, None, False
    )
    assert settings.upstream == "https://api.cloudflare.com/client/v4"


def test_every_option_default_matches_the_settings_default() -> None:
    defaults = Settings()
    assert {o.attr: o.default for o in OPTIONS} == {
        name: getattr(defaults, name) for name in defaults.__dataclass_fields__
    }


def test_env_overrides_default() -> None:
    settings = resolve([], {"CF_V1_PROXY_PORT": "9000", "CF_V1_PROXY_HOST": "0.0.0.0"})
    assert (settings.port, settings.host) == (9000, "0.0.0.0")


def test_command_line_overrides_env() -> None:
    settings = resolve(["--port", "7000", "--rec-new-service-mode", "honour"],
                       {"CF_V1_PROXY_PORT": "9000", "CF_V1_PROXY_REC_NEW_SERVICE_MODE": "ignore"})
    assert (settings.port, settings.rec_new_service_mode) == (7000, "honour")


def test_env_and_command_line_combine() -> None:
    settings = resolve(["--rec-page-size", "180"], {"CF_V1_PROXY_READ_TIMEOUT": "2.5"})
    assert (settings.rec_page_size, settings.read_timeout) == (180, 2.5)


def test_unrelated_env_variables_are_ignored() -> None:
    assert resolve([], {"PORT": "1", "CF_V1_PROXY_UNKNOWN": "x"}) == Settings()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("0", False), ("true", True), ("false", False), ("TRUE", True),
     (" False ", False)],
)
def test_switch_from_env(raw: str, expected: bool) -> None:
    assert resolve([], {"CF_V1_PROXY_ECHO_TOKEN": raw}).echo_token is expected


def test_switch_flag_turns_on() -> None:
    assert resolve(["--echo-token"]).echo_token is True


def test_switch_flag_wins_over_env_off() -> None:
    assert resolve(["--echo-token"], {"CF_V1_PROXY_ECHO_TOKEN": "0"}).echo_token is True


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("PORT", "abc", "port: 'abc' is not a valid int"),
        ("PORT", "-1", "port: '-1' is not a valid int"),
        ("REC_PAGE_SIZE", "1.5", "rec-page-size: '1.5' is not a valid int"),
        ("CONNECT_TIMEOUT", "0", "connect-timeout: '0' is not a valid float"),
        ("READ_TIMEOUT", "soon", "read-timeout: 'soon' is not a valid float"),
        ("ECHO_TOKEN", "maybe", "echo-token: 'maybe' is not one of 1/0/true/false"),
        ("LOG_LEVEL", "loud", "log-level: 'loud' is not one of debug, info, warning, error"),
        ("ACCESS_RULES_SCOPE", "zone",
         "access-rules-scope: 'zone' is not one of user, account, auto"),
    ],
)
def test_bad_env_value_names_the_option(variable: str, raw: str, message: str) -> None:
    assert refusal([], {f"CF_V1_PROXY_{variable}": raw}) == message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "eighty"], "port: 'eighty' is not a valid int"),
        (["--max-fields", "-5"], "max-fields: '-5' is not a valid int"),
        (["--zone-cache-seconds", "-1"], "zone-cache-seconds: '-1' is not a valid float"),
    ],
)
def test_bad_command_line_value_names_the_option(argv: list[str], message: str) -> None:
    assert refusal(argv) == message


def test_bad_command_line_choice_is_refused_by_argparse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", "--log-level", "loud"])
    assert caught.value.code == 2
    assert "--log-level" in capsys.readouterr().err


def test_bad_env_value_is_refused_even_when_flag_given() -> None:
    assert refusal(["--port", "7000"], {"CF_V1_PROXY_PORT": "x"}) == (
        "port: 'x' is not a valid int"
    )


# --- --sandbox ------------------------------------------------------------------------------


def test_sandbox_flag_without_value_is_demo_seed() -> None:
    assert resolve(["--sandbox"]).sandbox == ""


def test_sandbox_flag_with_path() -> None:
    assert resolve(["--sandbox", "/srv/seed.json"]).sandbox == "/srv/seed.json"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", ""), ("true", ""), ("0", None), ("false", None), ("/srv/seed.json", "/srv/seed.json")],
)
def test_sandbox_from_env(raw: str, expected: str | None) -> None:
    assert resolve([], {"CF_V1_PROXY_SANDBOX": raw}).sandbox == expected


def test_sandbox_flag_wins_over_env_off() -> None:
    assert resolve(["--sandbox"], {"CF_V1_PROXY_SANDBOX": "0"}).sandbox == ""
    assert resolve(["--sandbox", "/x.json"], {"CF_V1_PROXY_SANDBOX": "1"}).sandbox == "/x.json"


def test_mappings_folder_from_env_and_flag() -> None:
    assert resolve([], {"CF_V1_PROXY_MAPPINGS": "/etc/maps"}).mappings == "/etc/maps"
    assert resolve(["--mappings", "/opt/maps"], {"CF_V1_PROXY_MAPPINGS": "/etc/maps"}).mappings == (
        "/opt/maps"
    )
