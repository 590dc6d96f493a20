# One image for every llmref service: the API (`llmref serve`), the one-shot migration
# (`llmref migrate`), Celery workers (`llmref worker`) and beat (`llmref beat`).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LLMREF_DATABASE_URL=sqlite:////data/llmref.db
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY schema ./schema
COPY api ./api
COPY workers ./workers
# Editable, so that the migrations (alembic/ beside the packages) are found where they are.
RUN pip install --no-cache-dir -e . \
    && useradd --system --uid 10001 --no-create-home llmref \
    && mkdir /data && chown llmref /data
# Not root: Celery warns against it, and nothing here needs it. Without
# LLMREF_DATABASE_URL the embedded SQLite file lives in /data (mount a volume there).
USER llmref
EXPOSE 8000
CMD ["llmref", "serve", "--host", "0.0.0.0", "--port", "8000"]
