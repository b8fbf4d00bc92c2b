"""The HTTP API (FastAPI). The only package that imports fastapi."""

from triage.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
