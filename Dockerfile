# The bot in one container: catalogs compiled at build time, a non-root user, and at start
# migrations, the content import, then the bot (long polling, or webhook with WEBHOOK_URL).
# compose.yaml runs migrations and the import once, in its `init` service, and the bots with
# `python bot.py run` only, so that three processes do not migrate at the same moment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app

RUN groupadd --system --gid 10001 embassy \
    && useradd --system --uid 10001 --gid embassy --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin embassy

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY bot.py babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY content ./content
COPY locales ./locales
COPY deploy/healthcheck.py ./deploy/healthcheck.py

RUN for po in locales/*/LC_MESSAGES/messages.po; do \
        pybabel compile --statistics -D messages -i "$po" -o "${po%.po}.mo" || exit 1; \
    done \
    && mkdir -p data \
    && chown embassy:embassy data

USER embassy

# Inside a container the listeners must accept connections from other containers.
ENV WEBHOOK_HOST=0.0.0.0 \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=8081
EXPOSE 8080 8081

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]

# exec: the bot is PID 1's direct replacement, so `docker stop` (SIGTERM) stops it cleanly.
CMD ["sh", "-c", "python bot.py migrate && python bot.py content import && exec python bot.py run"]
