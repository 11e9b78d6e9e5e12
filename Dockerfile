FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-liberation fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY escalation_portal ./escalation_portal
COPY cases ./cases
COPY escalations ./escalations
COPY policies ./policies
COPY audit ./audit
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home portal && mkdir -p /app/var && chown -R portal /app/var
USER portal
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["gunicorn", "escalation_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
