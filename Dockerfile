# Citydesk production image: one image for web (gunicorn), worker, beat, bot
# and the one-shot migrate job; docker-compose.yml picks the command.
FROM python:3.11-slim

# DJANGO_DEBUG=0: the image is production; the settings then refuse to start
# without real secrets (docker-compose.yml pins it to 0 as well).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    DJANGO_DEBUG=0

WORKDIR /app

# An unprivileged user owns the app's runtime state (var/).
RUN groupadd --system --gid 1000 citydesk \
    && useradd --system --uid 1000 --gid citydesk --home-dir /app --shell /usr/sbin/nologin citydesk

# Dependencies first, so code changes reuse this layer (psycopg[binary] and
# Pillow ship wheels: no compiler needed).
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=citydesk:citydesk . .

# Static files are collected into the image (hashed names + compression for
# whitenoise). Production settings refuse to start without their secrets, so
# the build passes stand-ins that exist only in this RUN step, never in a
# running container.
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=build-time-stand-in-secret-not-used-at-runtime \
    ROBOKASSA_LOGIN=build-time-stand-in \
    ROBOKASSA_PASSWORD1=build-time-stand-in \
    ROBOKASSA_PASSWORD2=build-time-stand-in \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && mkdir -p var/media var/celery \
    && chown -R citydesk:citydesk var

USER citydesk

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "portal.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
