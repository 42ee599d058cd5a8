"""The container files, read statically: no Docker engine runs where the tests run.

What they must keep true: the image runs the proxy as an unprivileged user, reachable from
outside its container, with a health check on /healthz, built in stages so that nothing used
to build is left in it; the compose example sets only variables the proxy knows, with values
it accepts, and wires the sidecar the way the README describes.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy import healthcheck
from proxy import settings as settings_module

ROOT = Path(__file__).resolve().parents[2]
ENV_NAMES = {option.env: option for option in settings_module.OPTIONS}
BUILD_TOOLS = {"gcc", "g++", "cc", "clang", "make", "build-essential", "python3-dev",
               "libc6-dev", "cargo", "rustc"}


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (keyword, arguments), one list per stage."""
    text = (ROOT / "Dockerfile").read_text()
    lines = re.sub(r"\\\n", " ", text).splitlines()  # join continued lines
    stages: list[list[tuple[str, str]]] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"an instruction before the first FROM: {line}"
        stages[-1].append((keyword.upper(), rest.strip()))
    return stages


def instructions(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [rest for key, rest in stage if key == keyword]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in instructions(stage, "ENV"):
        for pair in shlex.split(rest):
            name, _, value = pair.partition("=")
            found[name] = value
    return found


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def resolved(value: object) -> str:
    """A compose value with `${NAME:-default}` replaced by its default, as `up` sees it."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


# Dockerfile

def test_dockerfile_builds_in_stages_and_the_final_one_only_copies_the_venv() -> None:
    *builders, final = dockerfile_stages()
    assert builders, "a single-stage build keeps its build tools"
    assert re.match(r"\S+ AS build$", instructions(builders[0], "FROM")[0])
    assert any(rest.startswith("--from=build ") for rest in instructions(final, "COPY"))
    assert "slim" in instructions(final, "FROM")[0]
    for command in instructions(final, "RUN"):
        words = set(re.split(r"[\s;&|]+", command))
        assert not words & BUILD_TOOLS, command
        assert "pip" not in command and "apt-get" not in command, command


def test_dockerfile_final_stage_runs_as_an_unprivileged_user() -> None:
    final = dockerfile_stages()[-1]
    users = instructions(final, "USER")
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_listens_on_all_addresses_on_8080() -> None:
    final = dockerfile_stages()[-1]
    env = env_of(final)
    assert env["CF_V1_PROXY_HOST"] == "0.0.0.0"
    assert env["CF_V1_PROXY_PORT"] == "8080"
    assert "8080" in instructions(final, "EXPOSE")[0].split()


def test_dockerfile_sets_only_known_options_with_valid_values() -> None:
    env = env_of(dockerfile_stages()[-1])
    options = {name: value for name, value in env.items() if name.startswith("CF_V1_PROXY_")}
    assert set(options) <= set(ENV_NAMES), set(options) - set(ENV_NAMES)
    settings_module.build(**settings_module.from_environment(options))
    assert options["CF_V1_PROXY_MIGRATION_DB"].startswith("/data/")
    assert "/data" in instructions(dockerfile_stages()[-1], "VOLUME")[0]


def test_dockerfile_health_check_asks_healthz() -> None:
    final = dockerfile_stages()[-1]
    [check] = instructions(final, "HEALTHCHECK")
    assert "--timeout=" in check and "--interval=" in check
    command = check.split("CMD", 1)[1].strip()
    assert command.startswith("[")  # exec form: no shell is needed in the image
    assert '"-m", "proxy.healthcheck"' in command
    assert healthcheck.PATH == "/healthz"


def test_dockerfile_starts_the_proxy_in_exec_form() -> None:
    final = dockerfile_stages()[-1]
    assert instructions(final, "ENTRYPOINT") == ['["cf-v1-proxy"]']
    assert instructions(final, "CMD") == ['["serve"]']


def test_dockerignore_keeps_out_the_venv_and_tests_but_not_what_the_build_copies() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "tests" in ignored and ".git" in ignored
    copied = [word for stage in dockerfile_stages()[:-1]
              for rest in instructions(stage, "COPY") for word in rest.split()[:-1]]
    assert copied
    for path in copied:
        assert path not in ignored and path.rstrip("/") not in ignored, path


# The container's health check command

@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, "http://127.0.0.1:8080/healthz"),
        ({"CF_V1_PROXY_HOST": "0.0.0.0", "CF_V1_PROXY_PORT": "9000"},
         "http://127.0.0.1:9000/healthz"),
        ({"CF_V1_PROXY_HOST": "::", "CF_V1_PROXY_PORT": "443",
          "CF_V1_PROXY_TLS_CERT": "/certs/cert.pem", "CF_V1_PROXY_TLS_KEY": "/certs/key.pem"},
         "https://[::1]:443/healthz"),
        ({"CF_V1_PROXY_HOST": "10.0.0.5"}, "http://10.0.0.5:8080/healthz"),
    ],
)
def test_health_check_asks_the_port_and_scheme_serve_uses(
    environ: dict[str, str], url: str
) -> None:
    settings = settings_module.build(**settings_module.from_environment(environ))
    assert healthcheck.url(settings) == url


# docker-compose.example.yml

def test_compose_services_use_the_image_and_set_only_known_options() -> None:
    services = compose()["services"]
    proxies = {name: s for name, s in services.items() if s.get("image") == "cf-v1-proxy"}
    assert set(proxies) == {"cf-v1-proxy", "cf-v1-proxy-sidecar"}
    for name, service in proxies.items():
        assert service["build"] == ".", name
        env = {key: resolved(value) for key, value in service["environment"].items()}
        assert set(env) <= set(ENV_NAMES), set(env) - set(ENV_NAMES)
        settings_module.build(**settings_module.from_environment(env))  # valid values


def test_compose_standalone_serves_the_sandbox_on_8080() -> None:
    service = compose()["services"]["cf-v1-proxy"]
    assert service["environment"]["CF_V1_PROXY_SANDBOX"] == "1"
    assert "8080:8080" in service["ports"]


def test_compose_sidecar_answers_for_www_cloudflare_com_over_tls() -> None:
    file = compose()
    sidecar = file["services"]["cf-v1-proxy-sidecar"]
    env = sidecar["environment"]
    assert env["CF_V1_PROXY_PORT"] == "443"
    assert env["CF_V1_PROXY_TLS_CERT"].startswith("/certs/")
    assert env["CF_V1_PROXY_TLS_KEY"].startswith("/certs/")
    assert env["CF_V1_PROXY_MIGRATION_DB"] == "/data/migration.sqlite3"
    assert sidecar["sysctls"]["net.ipv4.ip_unprivileged_port_start"] == "0"  # 443 as non-root
    assert "test" not in sidecar.get("healthcheck", {})  # the image's /healthz check
    assert "./certs:/certs:ro" in sidecar["volumes"]
    assert "migration:/data" in sidecar["volumes"]
    assert "migration" in file["volumes"]
    [(network, joined)] = sidecar["networks"].items()
    assert joined["aliases"] == ["www.cloudflare.com"]
    assert network in file["networks"]


def test_compose_legacy_app_waits_for_a_healthy_sidecar_on_its_network() -> None:
    services = compose()["services"]
    app = services["legacy-app"]
    assert app["depends_on"] == {"cf-v1-proxy-sidecar": {"condition": "service_healthy"}}
    assert set(app["networks"]) == set(services["cf-v1-proxy-sidecar"]["networks"])
    assert "https://www.cloudflare.com/api_json.html" in app["command"][0]
    assert app["environment"]["CURL_CA_BUNDLE"] == "/certs/ca.pem"


def test_readme_documents_the_image_and_both_compose_set_ups() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docker build -t cf-v1-proxy ." in readme
    assert "docker compose -f docker-compose.example.yml up" in readme
    for service in compose()["services"]:
        assert f"`{service}`" in readme, service
