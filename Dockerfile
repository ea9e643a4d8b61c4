# riskwatch worker image. Build context is the repo root (see .dockerignore).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app riskwatch
USER riskwatch

# Prometheus /metrics of the worker (settings.worker.metrics_port); riskwatch serve (settings.serve.port).
EXPOSE 9464 8080
CMD ["riskwatch", "worker"]
