"""HTTPS served directly: `cf-v1-proxy serve --tls-cert … --tls-key …` on a real process.

The certificate comes from a throwaway `trustme` CA and names www.cloudflare.com (the host
legacy clients hard-code), localhost and 127.0.0.1. Clients trust that CA the way the README
tells users to: an HTTP/1.0 client written by hand on an ssl socket (as a Perl DDNS client
talks), httpx over HTTP/1.1, and apache-libcloud 2.2.1 with `secure=True` and its default
host, www.cloudflare.com, resolved to the proxy as a hosts-file line would.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import trustme
from libcloud.dns.providers import get_driver
from libcloud.dns.types import Provider, RecordType

from proxy.sandbox import DEMO_EMAIL, DEMO_KEY
from tests.conftest import SECRET_SHAPES
from tests.e2e.conftest import free_port
from tests.support.processes import serve_process

HOST_NAME = "www.cloudflare.com"
HEAD_SECONDS = 1.0
HEAD_BYTES = 2048


@dataclass(frozen=True)
class TLSFiles:
    ca: Path
    cert: Path
    key: Path


@dataclass
class TLSProxy:
    port: int
    files: TLSFiles
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def v4(self, path: str, **params: Any) -> Any:
        """The sandbox's v4 API, read back over the same HTTPS port."""
        response = httpx.get(
            f"{self.url}/client/v4{path}", params=params, verify=trusting(self.files), timeout=10,
            headers={"X-Auth-Email": DEMO_EMAIL, "X-Auth-Key": DEMO_KEY},
        )
        assert response.status_code == 200, response.text
        return response.json()["result"]


def make_tls_files(folder: Path, ca: trustme.CA | None = None) -> TLSFiles:
    ca = ca or trustme.CA()
    issued = ca.issue_cert(HOST_NAME, "localhost", "127.0.0.1")
    files = TLSFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(files.ca))
    issued.private_key_pem.write_to_path(str(files.key))
    files.cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    return files


@contextlib.contextmanager
def tls_proxy_process(folder: Path, *args: str) -> Iterator[TLSProxy]:
    """`cf-v1-proxy serve --sandbox` over HTTPS on a free port, answering; stopped after."""
    files = make_tls_files(folder)
    port = free_port()
    log = folder / "proxy.log"
    tls = ("--tls-cert", str(files.cert), "--tls-key", str(files.key))
    with serve_process(port, log, "--sandbox", *tls, *args, verify=trusting(files)) as process:
        yield TLSProxy(port, files, process, log)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSProxy]:
    folder = tmp_path_factory.mktemp("tls")
    with tls_proxy_process(
        folder, "--log-level", "warning", "--header-timeout", str(HEAD_SECONDS),
        "--max-header-bytes", str(HEAD_BYTES),
    ) as running:
        yield running
    # The demo credentials banner is printed on purpose; nothing after it may hold a secret.
    logged = running.output().split("zones: example.com, example.org", 1)[-1]
    assert "Traceback" not in logged
    assert not SECRET_SHAPES.search(logged), logged


def trusting(files: TLSFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(files.ca))


def tls_connect(proxy: TLSProxy, context: ssl.SSLContext | None = None) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    try:
        return (context or trusting(proxy.files)).wrap_socket(raw, server_hostname=HOST_NAME)
    except BaseException:
        raw.close()
        raise


def read_to_eof(sock: ssl.SSLSocket, within: float = 10.0) -> tuple[bytes, bool]:
    """Everything until the server closes (True) or `within` seconds pass (False)."""
    deadline = time.monotonic() + within
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except (ConnectionResetError, ssl.SSLEOFError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def split_answer(data: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def http10_get(proxy: TLSProxy, **params: str) -> dict[str, Any]:
    """A v1 GET the way a Perl DDNS client sends it: HTTP/1.0, read to EOF, only 200 is good."""
    query = urlencode({**params, "email": DEMO_EMAIL, "tkn": DEMO_KEY})
    request = (
        f"GET /api_json.html?{query} HTTP/1.0\r\nHost: {HOST_NAME}\r\n"
        "User-Agent: ddclient/3.8.3\r\nConnection: close\r\n\r\n"
    ).encode()
    with tls_connect(proxy) as sock:
        sock.sendall(request)
        data, closed = read_to_eof(sock)
    assert closed, "the proxy did not close the HTTP/1.0 connection"
    status, headers, body = split_answer(data)
    assert status.split(" ")[1] == "200", status
    assert "transfer-encoding" not in headers
    assert int(headers["content-length"]) == len(body)
    answer: dict[str, Any] = json.loads(body)
    return answer


# The acceptance case: an HTTP/1.0 client over TLS lists a zone and edits a record.

def test_http10_client_over_tls_lists_records_and_edits_one(proxy: TLSProxy) -> None:
    listing = http10_get(proxy, a="rec_load_all", z="example.com")
    assert listing["result"] == "success", listing
    records = listing["response"]["recs"]["objs"]
    assert listing["response"]["recs"]["count"] == len(records) == 6
    www = next(r for r in records if r["name"] == "www.example.com" and r["type"] == "A")
    assert (www["content"], www["service_mode"]) == ("192.0.2.1", "1")

    edited = http10_get(proxy, a="rec_edit", z="example.com", id=www["rec_id"], type="A",
                        name="www", content="198.51.100.7", ttl="1")
    assert edited["result"] == "success", edited
    assert edited["response"]["rec"]["obj"]["content"] == "198.51.100.7"

    # v4 holds the new address, and the edit without service_mode kept the orange cloud.
    [zone] = proxy.v4("/zones", name="example.com")
    [stored] = proxy.v4(f"/zones/{zone['id']}/dns_records", type="A", name="www.example.com")
    assert (stored["content"], stored["proxied"]) == ("198.51.100.7", True)


def test_http11_client_over_tls_keeps_its_connection(proxy: TLSProxy) -> None:
    params = {"a": "zone_load_multi", "email": DEMO_EMAIL, "tkn": DEMO_KEY}
    # The URL names the loopback address; the certificate is checked for www.cloudflare.com,
    # the name a legacy client asks for.
    with httpx.Client(verify=trusting(proxy.files), timeout=10,
                      headers={"Host": HOST_NAME}) as client:
        answers = [
            client.post(f"{proxy.url}/api_json.html", data=params,
                        extensions={"sni_hostname": HOST_NAME})
            for _ in range(2)
        ]
        streams = [answer.extensions["network_stream"] for answer in answers]
        tls = streams[0].get_extra_info("ssl_object")
    for answer in answers:
        assert answer.status_code == 200
        assert answer.http_version == "HTTP/1.1"
        assert answer.json()["result"] == "success"
        assert sorted(z["zone_name"] for z in answer.json()["response"]["zones"]["objs"]) == [
            "example.com", "example.org"]
    assert streams[0] is streams[1], "the second call did not reuse the TLS connection"
    assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_tls12_client_gets_a_forward_secret_aead_suite(proxy: TLSProxy) -> None:
    context = trusting(proxy.files)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with tls_connect(proxy, context) as sock:
        name, version, _ = sock.cipher()
    assert version == "TLSv1.2"
    assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name


def test_client_that_does_not_trust_the_ca_fails_the_handshake(
    proxy: TLSProxy, tmp_path: Path
) -> None:
    stranger = make_tls_files(tmp_path)  # another CA: the proxy's certificate is not from it
    for context in (ssl.create_default_context(), trusting(stranger)):
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_connect(proxy, context)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{proxy.url}/healthz", timeout=5)  # the system's CAs

    # The proxy goes on serving clients that do trust it.
    assert httpx.get(f"{proxy.url}/healthz", verify=trusting(proxy.files), timeout=5).is_success


def test_plain_http_on_the_tls_port_gets_no_http_answer(proxy: TLSProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: proxy\r\n\r\n")
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    assert b"HTTP/" not in data


# The request-head limits hold over TLS too (they apply to the decrypted bytes).

def test_head_not_finished_in_time_over_tls_gets_408(proxy: TLSProxy) -> None:
    with tls_connect(proxy) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: proxy\r\n")
        data, closed = read_to_eof(sock, within=HEAD_SECONDS + 5)
    status, headers, body = split_answer(data)
    assert closed and status.split(" ")[1] == "408", data
    assert json.loads(body)["result"] == "error"
    assert int(headers["content-length"]) == len(body)


def test_silent_connection_over_tls_is_closed_after_the_head_timeout(proxy: TLSProxy) -> None:
    with tls_connect(proxy) as sock:
        started = time.monotonic()
        data, closed = read_to_eof(sock, within=HEAD_SECONDS + 5)
    assert closed and data == b""
    assert HEAD_SECONDS * 0.8 <= time.monotonic() - started < HEAD_SECONDS + 4


def test_oversized_head_over_tls_gets_431(proxy: TLSProxy) -> None:
    with tls_connect(proxy) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: proxy\r\nX-Pad: " + b"p" * HEAD_BYTES
                     + b"\r\n\r\n")
        data, closed = read_to_eof(sock)
    status, _, body = split_answer(data)
    assert closed and status.split(" ")[1] == "431", data
    assert json.loads(body)["result"] == "error"


def test_sigterm_does_not_wait_for_an_idle_tls_client(tmp_path: Path) -> None:
    # A TLS close waits for the client's close_notify; a pooled client that keeps its
    # connection and reads nothing never sends one, and must not hold the shutdown grace.
    with tls_proxy_process(tmp_path, "--log-level", "warning") as proxy, \
            tls_connect(proxy) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: proxy\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += idle.recv(65536)
        assert split_answer(data)[0].split(" ")[1] == "200"

        started = time.monotonic()
        proxy.process.send_signal(signal.SIGTERM)
        assert proxy.process.wait(timeout=15) == 0, proxy.output()
        assert time.monotonic() - started < 5, "shutdown waited for the idle TLS client"


# A real v1 client that only knows https://www.cloudflare.com.

def test_libcloud_with_secure_true_reaches_the_proxy_as_www_cloudflare_com(
    proxy: TLSProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import libcloud.security

    # What a hosts-file line does: www.cloudflare.com resolves to the proxy.
    real_getaddrinfo = socket.getaddrinfo

    def hosts_file(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.1" if host == HOST_NAME else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hosts_file)
    # What REQUESTS_CA_BUNDLE / SSL_CERT_FILE do for libcloud: trust the proxy's CA.
    monkeypatch.setattr(libcloud.security, "CA_CERTS_PATH", str(proxy.files.ca))

    # The driver's own host is www.cloudflare.com; it is named here only because libcloud
    # 2.2.1 takes a `port` given without `host` for the host.
    drv = get_driver(Provider.CLOUDFLARE)(DEMO_EMAIL, DEMO_KEY, host=HOST_NAME, port=proxy.port)
    assert drv.connection.host == HOST_NAME and drv.connection.secure
    zone = next(z for z in drv.list_zones() if z.domain == "example.org")
    record = drv.create_record("tls", zone, RecordType.A, "198.51.100.40")
    drv.update_record(record, name="tls", data="198.51.100.41")
    listed = {r.name: r.data for r in drv.list_records(zone)}
    assert listed["tls"] == "198.51.100.41"

    [v4_zone] = proxy.v4("/zones", name="example.org")
    [stored] = proxy.v4(f"/zones/{v4_zone['id']}/dns_records", name="tls.example.org")
    assert stored["content"] == "198.51.100.41"


# The container's HEALTHCHECK command follows the TLS settings.

def test_container_healthcheck_asks_healthz_over_https(proxy: TLSProxy) -> None:
    env = {"PATH": "/usr/bin:/bin", "CF_V1_PROXY_HOST": "0.0.0.0",
           "CF_V1_PROXY_TLS_CERT": str(proxy.files.cert),
           "CF_V1_PROXY_TLS_KEY": str(proxy.files.key)}

    def healthcheck(port: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "proxy.healthcheck"], capture_output=True, text=True,
            timeout=30, env={**env, "CF_V1_PROXY_PORT": str(port)},
        )

    assert healthcheck(proxy.port).returncode == 0
    down = healthcheck(free_port())
    assert down.returncode == 1 and "healthcheck:" in down.stderr


# Start-up with TLS files that cannot serve.

def test_unreadable_tls_files_stop_serve_with_one_line(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    (tmp_path / "other").mkdir()
    other = make_tls_files(tmp_path / "other")
    cases = [
        ("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(files.key)),
        ("--tls-cert", str(files.cert), "--tls-key", str(other.key)),  # not this cert's key
        ("--tls-cert", str(files.cert)),  # the key is missing
    ]
    for args in cases:
        done = subprocess.run(
            [sys.executable, "-m", "proxy", "serve", "--port", str(free_port()), *args],
            capture_output=True, text=True, timeout=30,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "tls" in done.stderr.lower(), done.stderr
