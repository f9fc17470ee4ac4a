# Zukunftstische-Bot. Config and data live in the volume /data:
#   docker run -v /srv/zt:/data -e ZT_MATRIX_PASSWORD=... zukunftstische-bot
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY templates ./templates
RUN pip install ".[postgres]" && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin zt \
    && mkdir -p /data && chown zt /data
USER zt
WORKDIR /data
VOLUME ["/data"]

CMD ["zt-bot", "run", "--config", "/data/config.toml"]
