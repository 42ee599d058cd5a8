# cf-v1-proxy as a container: a sidecar beside a legacy app, or a standalone v1 endpoint.
#   docker build -t cf-v1-proxy .
#   docker run -p 8080:8080 cf-v1-proxy                                  # real Cloudflare
#   docker run -p 8080:8080 -e CF_V1_PROXY_SANDBOX=1 cf-v1-proxy         # embedded sandbox

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY proxy ./proxy
COPY mappings ./mappings
RUN python -m venv /opt/cf-v1-proxy \
 && /opt/cf-v1-proxy/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/cf-v1-proxy/bin/pip install --no-cache-dir .

FROM python:3.11-slim
COPY --from=build /opt/cf-v1-proxy /opt/cf-v1-proxy
RUN useradd --system --uid 10001 --no-create-home proxy
USER proxy
ENV PATH=/opt/cf-v1-proxy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CF_V1_PROXY_HOST=0.0.0.0 \
    CF_V1_PROXY_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["cf-v1-proxy"]
CMD ["serve"]
