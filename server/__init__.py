"""``riskwatch serve``: one ASGI app (FastAPI) for the read-only JSON API under ``/api/`` and, later, the
officers' pages. ``app.create_app`` is the only place it is put together."""
