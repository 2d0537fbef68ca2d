"""Thin Celery tasks."""
