# syntax=docker/dockerfile:1
# werker-proxy container image: the proxy as a sidecar / standalone service.
#   docker build -t werker-proxy .
#   docker run --rm -p 127.0.0.1:8080:8080 -v werker-ca:/var/lib/werker-proxy \
#     -v werker-audit:/var/log/werker-proxy werker-proxy
# Listens on 0.0.0.0:8080 (proxy); admin /healthz + /metrics on 127.0.0.1:9090 inside
# the container (used by HEALTHCHECK via `werker-proxy health`).
# Pin the base image by digest in production (python:3.12-slim@sha256:...).

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY werker_proxy/ werker_proxy/
COPY config/ config/
RUN python -m venv /opt/werker-proxy/venv \
 && /opt/werker-proxy/venv/bin/pip install --no-cache-dir . \
 && /opt/werker-proxy/venv/bin/werker-proxy --help >/dev/null

FROM python:3.12-slim
ENV PATH=/opt/werker-proxy/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WERKER_PROXY_CONFIG=/etc/werker-proxy/config.yaml
# Fixed numeric UID/GID so Kubernetes runAsNonRoot can check it and volume ownership
# is predictable. Apps sharing the CA volume must run as a different UID: the CA
# private key (mitmproxy-ca.pem) is 0600, the certificate (mitmproxy-ca-cert.pem) 0644.
RUN groupadd --system --gid 10001 werker \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/werker-proxy \
      --no-create-home --shell /usr/sbin/nologin werker \
 && install -d -o 10001 -g 10001 -m 0755 /var/lib/werker-proxy \
 && install -d -o 10001 -g 10001 -m 0750 /var/log/werker-proxy \
 && install -d -m 0755 /etc/werker-proxy
COPY --from=build /opt/werker-proxy/venv /opt/werker-proxy/venv
COPY deploy/container-config.yaml /etc/werker-proxy/config.yaml

USER 10001:10001
WORKDIR /var/lib/werker-proxy
# CA + state (keep it to avoid re-trusting a new CA), audit log (your compliance trail).
VOLUME ["/var/lib/werker-proxy", "/var/log/werker-proxy"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["werker-proxy", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["werker-proxy"]
CMD ["run", "--listen-host", "0.0.0.0", "--listen-port", "8080"]
