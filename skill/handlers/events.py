"""Skill events: what Alexa tells the skill outside any conversation (the manifest subscribes to
them: skill/content/manifest.yaml).

- ``AlexaSkillEvent.SkillDisabled``: the user disabled the skill. Everything kept for the account
  is erased, the account's record and every recognised person's under it: Alexa may give the
  account a new user id if the skill is enabled again, so anything kept would be orphaned.
- ``AlexaSkillEvent.SkillPermissionAccepted`` / ``SkillPermissionChanged``: the permissions the
  user has granted now. The record notes whether reminders are allowed (``reminder_consent``).

These requests have no session and nobody hears the answer: each gets an empty response. The
user id is in ``context.System.user``, as in every request, so the usual interceptors load (and
save) the record as for a turn.
"""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response

from skill.handlers.privacy import ERASED_KEY, erase_record
from skill.reminders import PERMISSION as REMINDERS_PERMISSION
from skill.stores.retention import erase_account
from skill.turn import Turn

logger = logging.getLogger(__name__)

SKILL_DISABLED = "AlexaSkillEvent.SkillDisabled"
PERMISSION_EVENTS = (
    "AlexaSkillEvent.SkillPermissionAccepted",
    "AlexaSkillEvent.SkillPermissionChanged",
)


class SkillDisabledHandler(AbstractRequestHandler):
    """Erase everything kept for the account that disabled the skill."""

    def __init__(self, store: Any = None) -> None:
        self.store = store

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type(SKILL_DISABLED)(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        account = handler_input.request_envelope.context.system.user.user_id
        handler_input.attributes_manager.request_attributes[ERASED_KEY] = True
        if self.store is not None:
            gone = erase_account(self.store, account)
        else:
            erase_record(handler_input)
            gone = 1
        logger.info("skill disabled: erased %d record(s) of the account", gone)
        return handler_input.response_builder.response


class PermissionEventHandler(AbstractRequestHandler):
    """Note whether the user now allows reminders, as the event's list of permissions says."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_request_type(name)(handler_input) for name in PERMISSION_EVENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        body = getattr(handler_input.request_envelope.request, "body", None)
        granted = [
            *(getattr(body, "accepted_permissions", None) or []),
            *(getattr(body, "accepted_person_permissions", None) or []),
        ]
        allowed = any(getattr(p, "scope", None) == REMINDERS_PERMISSION for p in granted)
        turn.state.reminder_consent = "granted" if allowed else "revoked"
        logger.info("permissions changed: reminders %s", turn.state.reminder_consent)
        return handler_input.response_builder.response


def handlers(store: Any = None) -> list[AbstractRequestHandler]:
    """The skill event handlers; ``store`` is the skill's persistence adapter, through which a
    disabled account's every record is erased."""
    return [SkillDisabledHandler(store), PermissionEventHandler()]
