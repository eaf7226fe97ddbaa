"""The webhook for WSGI servers that import an app, configured from ``RLS_COACH_*`` variables:

    RLS_COACH_SKILL_ID=amzn1.ask.skill.… gunicorn -w 4 -b 127.0.0.1:5000 'webhook.wsgi:app'

Each worker process builds its own app (and so its own certificate cache and store connection).
"""

from __future__ import annotations

from skill.settings import Settings
from webhook.app import create_app
from webhook.serve import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
app = create_app({"SETTINGS": settings})
