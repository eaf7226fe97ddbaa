"""Choosing the request handler by the SDK's first-match rule, asking only those that could say yes.

The SDK's ``GenericRequestMapper`` asks every registered handler's ``can_handle`` in order until one
says yes. With some thirty handlers, a "can I swim tonight?" asks two dozen of them first (each a
few attribute reads, some a look at the conversation state): ~10 µs of a turn. Yet most handlers
can only ever take one request type or a few intents, which they declare in a ``takes`` class
attribute. :class:`IndexedRequestMapper` groups the handlers by what they take, once, and asks
only those that could take the request in hand, still in registration order, so the first to say
yes is the one the SDK would have chosen. A handler that declares nothing is asked about every
request. ``tests/test_routing.py`` checks that no handler ever says yes to a request outside its
declaration, and that the choice is the SDK's for every intent of the model, in every state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ask_sdk_runtime.dispatch_components.request_components import (
    AbstractRequestMapper,
    GenericRequestHandlerChain,
)

from skill.records import Record

INTENT_REQUEST = "IntentRequest"
Chain = GenericRequestHandlerChain


class Takes(Record):
    """The requests a handler can possibly take: a handler's ``can_handle`` is false for any
    other. ``None`` means no limit: any request type, or any intent of an IntentRequest."""

    request_types: frozenset[str] | None = None
    intent_names: frozenset[str] | None = None

    def admits(self, request_type: str | None, intent_name: str | None) -> bool:
        if self.request_types is not None and request_type not in self.request_types:
            return False
        if request_type != INTENT_REQUEST or self.intent_names is None:
            return True
        return intent_name in self.intent_names


def intents(*names: str) -> Takes:
    """IntentRequests for these intents only."""
    return Takes(frozenset((INTENT_REQUEST,)), frozenset(names))


def requests(*request_types: str) -> Takes:
    """Requests of these types only (for IntentRequest: any intent)."""
    return Takes(frozenset(request_types))


ANYTHING = Takes()


def takes(handler: Any) -> Takes:
    """What ``handler`` declares it can take; everything if it declares nothing."""
    declared = getattr(handler, "takes", None)
    return declared if isinstance(declared, Takes) else ANYTHING


# A key no declaration names: it stands for every request type (or intent) nobody lists.
_UNLISTED = object()


class IndexedRequestMapper(AbstractRequestMapper):
    """``GenericRequestMapper``'s choice (the first chain whose handler can handle the request),
    asking only the chains whose handler's declaration admits the request."""

    def __init__(self, request_handler_chains: Sequence[GenericRequestHandlerChain]) -> None:
        self.request_handler_chains = list(request_handler_chains)
        declared = [(chain, takes(chain.request_handler)) for chain in self.request_handler_chains]
        request_types: set[str] = set()
        intent_names: set[str] = set()
        for _, taken in declared:
            request_types |= taken.request_types or set()
            intent_names |= taken.intent_names or set()

        def admitting(request_type: Any, intent_name: Any) -> tuple[Chain, ...]:
            return tuple(
                chain for chain, taken in declared if taken.admits(request_type, intent_name)
            )

        self._by_type = {name: admitting(name, None) for name in request_types}
        self._other_types = admitting(_UNLISTED, None)
        self._by_intent = {name: admitting(INTENT_REQUEST, name) for name in intent_names}
        self._other_intents = admitting(INTENT_REQUEST, _UNLISTED)

    def candidates(self, request: Any) -> Iterable[GenericRequestHandlerChain]:
        """The chains that might take ``request``, in registration order."""
        request_type = request.object_type
        if request_type == INTENT_REQUEST:
            # As the handlers' own predicates do, an IntentRequest without an intent fails here.
            return self._by_intent.get(request.intent.name, self._other_intents)
        return self._by_type.get(request_type, self._other_types)

    def get_request_handler_chain(self, handler_input: Any) -> GenericRequestHandlerChain | None:
        for chain in self.candidates(handler_input.request_envelope.request):
            if chain.request_handler.can_handle(handler_input):
                return chain
        return None
