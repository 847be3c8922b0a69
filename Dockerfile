# Kenpo Portal: one image for web (gunicorn), worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV=production

# WeasyPrint needs Pango; without libharfbuzz-subset0 it falls back to a font
# subsetter about 40x slower (workers refuse to start without it). gettext for
# compilemessages; IPAex fonts are also bundled in static/fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-ipaexfont gettext \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 kenpo
WORKDIR /app

# The exact versions of uv.lock, into /opt/venv (uv itself pinned, from PyPI).
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
COPY pyproject.toml uv.lock README.md ./
RUN pip install uv==0.13.9 \
 && uv sync --frozen --no-cache --python /usr/local/bin/python3.11 \
 && pip uninstall -y uv
COPY . .

# (/app/var/media and /app/var/mail exist, owned by kenpo, so the named volumes mounted
# there by docker-compose.yml start with that owner.)
# Static files, translations and the project's bytecode are built into the image (the
# dependencies' bytecode by UV_COMPILE_BYTECODE): a fresh worker's first request then imports,
# not compiles, its modules (0.4 s of a 0.8 s first request, measured by bench/import_registration.py).
# The secret is only needed to import settings here, never used at build time.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input \
 && DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py compilemessages \
 && python -m compileall -q -x '/tests/' /app \
 && mkdir -p /app/var/media /app/var/mail && chown -R kenpo:kenpo /app/var

USER kenpo
EXPOSE 8000
CMD ["gunicorn", "kenpo_portal.wsgi", "--config", "kenpo_portal/gunicorn.conf.py"]
