# syntax=docker/dockerfile:1
# Build a wheel, then install it into a slim runtime without build tools. The embedded
# Postgres/Redis extra is left out: production points CAIRN_DATABASE_URL/CAIRN_REDIS_URL at
# real servers.
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY platform ./platform
COPY admin_ui ./admin_ui
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.10-slim-bookworm
LABEL org.opencontainers.image.title="cairn" \
      org.opencontainers.image.description="Self-hosted backend-as-a-service" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CAIRN_HOST=0.0.0.0 CAIRN_PORT=8090
RUN useradd --system --uid 10001 --home-dir /app cairn
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /app
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CAIRN_PORT','8090'))"
ENTRYPOINT ["cairn"]
CMD ["web"]
