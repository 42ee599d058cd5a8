# cf-v1-proxy as a container: a sidecar beside a legacy app, or a standalone v1 endpoint.
#   docker build -t cf-v1-proxy .
#   docker run -p 8080:8080 cf-v1-proxy                                  # real Cloudflare
#   docker run -p 8080:8080 -e CF_V1_PROXY_SANDBOX=1 cf-v1-proxy         # embedded sandbox
# Every option is a CF_V1_PROXY_* variable (README, "Configuration"); docker-compose.example.yml
# shows both set-ups.

# Build stage: a wheel-only install into a venv. Every dependency ships binary wheels for this
# base, so no compiler is needed here either; the final stage takes only the venv.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY proxy ./proxy
COPY mappings ./mappings
RUN python -m venv /opt/cf-v1-proxy \
 && /opt/cf-v1-proxy/bin/pip install --no-cache-dir --only-binary=:all: . \
 && /opt/cf-v1-proxy/bin/pip uninstall --yes pip

FROM python:3.11-slim-bookworm
COPY --from=build /opt/cf-v1-proxy /opt/cf-v1-proxy
# An unprivileged user, and /data for the migration report (a named volume mounted there
# starts with this owner).
RUN useradd --system --uid 10001 --home-dir /data --no-create-home proxy \
 && mkdir /data && chown proxy:proxy /data
USER proxy
WORKDIR /data
ENV PATH=/opt/cf-v1-proxy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CF_V1_PROXY_HOST=0.0.0.0 \
    CF_V1_PROXY_PORT=8080 \
    CF_V1_PROXY_MIGRATION_DB=/data/migration.sqlite3
VOLUME ["/data"]
EXPOSE 8080
# /healthz on the proxy's own port, over HTTPS when CF_V1_PROXY_TLS_CERT is set
# (proxy/healthcheck.py reads the same variables as `serve`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-m", "proxy.healthcheck"]
# Exec form: the proxy is PID 1 and gets SIGTERM itself; it drains calls in flight for
# CF_V1_PROXY_SHUTDOWN_GRACE seconds (20), so give `docker stop` more than that (-t 30).
ENTRYPOINT ["cf-v1-proxy"]
CMD ["serve"]
