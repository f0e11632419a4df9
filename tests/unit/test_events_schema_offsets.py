"""receivedAt with any UTC offset a producer may send is kept as the same instant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schema.events import InboundEvent


def _event(received_at: str) -> InboundEvent:
    return InboundEvent.model_validate({"eventId": "e1", "clientId": "c", "channel": "chat",
                                        "message": "Hi", "receivedAt": received_at})


def test_an_offset_postgres_would_refuse_is_stored_as_the_same_instant_in_utc():
    event = _event("0178-01-13T06:42:21+22:24")
    assert event.received_at.utcoffset() == timedelta(0)
    assert event.received_at == datetime(178, 1, 13, 6, 42, 21,
                                         tzinfo=timezone(timedelta(hours=22, minutes=24)))


def test_an_instant_outside_the_calendar_in_utc_is_refused():
    with pytest.raises(ValidationError, match="receivedAt is out of range"):
        _event("0001-01-01T00:00:00+05:00")
