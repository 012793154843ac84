# liepaja-bot in a container: `docker compose up -d` (see compose.yaml and the README).

# -- build: the bot's wheel and the wheels of everything it needs -----------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY handlers handlers
COPY fake_telegram fake_telegram
COPY liepaja_bot liepaja_bot
COPY migrations migrations
COPY locales locales
COPY municipality municipality
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# -- runtime: the wheels installed, no sources, no compiler, not root --------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE=/data/liepaja-bot.sqlite3
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels liepaja-bot \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin liepaja \
    && mkdir -p /data /app \
    && chown liepaja:liepaja /data \
    && chmod 0700 /data
# An empty working directory: settings come from the environment, not from a stray .env.
WORKDIR /app
USER liepaja
VOLUME /data
# Settings, municipality file and database (read-only); Telegram is not asked (no token use).
HEALTHCHECK --interval=5m --timeout=30s --start-period=1m \
    CMD ["liepaja-bot", "check", "--offline"]
# `docker stop` sends SIGTERM: the bot finishes the update in hand, delivers what is due, exits.
STOPSIGNAL SIGTERM
CMD ["liepaja-bot", "run"]
