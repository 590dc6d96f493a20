FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY schema ./schema
COPY api ./api
COPY workers ./workers
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["llmref", "serve", "--host", "0.0.0.0", "--port", "8000"]
