# syntax=docker/dockerfile:1
# Build: docker build -t eplan .   Run: docker run -e DATABASE_URL=... -p 8000:8000 eplan

# --- Python dependencies, resolved from the committed lock -------------------------------
FROM python:3.11-slim AS deps
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR /srv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/srv/.venv
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# --- The Mini App, built from its committed lock (served by the app at /app/) -------------
FROM node:20-slim AS webapp
WORKDIR /web
COPY webapp/package.json webapp/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY webapp ./
RUN npm run build

# --- Runtime: slim, non-root ---------------------------------------------------------------
FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 app
WORKDIR /srv
COPY --from=deps /srv/.venv /srv/.venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY --from=webapp /web/dist ./webapp/dist
ENV PATH=/srv/.venv/bin:$PATH PYTHONUNBUFFERED=1 PORT=8000 \
    DATABASE_URL=sqlite+aiosqlite:////srv/data/app.db
RUN mkdir -p /srv/data && chown app:app /srv/data
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import os,urllib.request;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz',timeout=2)"
# Shell form so $PORT (set by the platform) is honoured; exec so signals reach uvicorn.
CMD exec uvicorn app.main:app --host 0.0.0.0 --port "${PORT}" --proxy-headers --forwarded-allow-ips='*'
