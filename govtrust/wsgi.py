"""WSGI entry point for gunicorn: ``gunicorn govtrust.wsgi:app``."""

from govtrust.app import create_app

app = create_app()
