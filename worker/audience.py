"""Who a document is for, and who a lead is.

A document with no segmentation is shown to everyone. A document with segmentation tags
`(groupId, itemId)` and/or user ids is shown only to a lead that carries one of those tags or
has one of those user ids (any one match is enough). A lead is described by its inbound
event's `metadata`:

    "metadata": {"userId": "u-123", "segments": [{"groupId": "brand", "itemId": "vw"}]}

Malformed entries in a lead's metadata are ignored: that can only hide documents from it,
never show it more. Segmentation of a document is always replaced whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.errors import InvalidInput

MAX_ID_CHARS = 200
MAX_LEAD_SEGMENTS = 100  # more tags than this on one lead are ignored
MAX_DOCUMENT_ENTRIES = 10_000


@dataclass(frozen=True, order=True)
class Segment:
    group_id: str
    item_id: str

    def to_json(self) -> dict[str, str]:
        return {"groupId": self.group_id, "itemId": self.item_id}


@dataclass(frozen=True)
class Audience:
    """The lead a search is for. `Audience()` (nobody in particular) sees untagged documents."""

    user_id: str | None = None
    segments: frozenset[Segment] = field(default_factory=frozenset)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Audience:
        """Read `metadata.userId` and `metadata.segments: [{groupId, itemId}]`."""
        if not isinstance(metadata, Mapping):
            return cls()
        user_id = _id_or_none(metadata.get("userId"))
        raw = metadata.get("segments")
        segments: set[Segment] = set()
        if isinstance(raw, list):
            for entry in raw[:MAX_LEAD_SEGMENTS]:
                if isinstance(entry, Mapping):
                    group, item = _id_or_none(entry.get("groupId")), _id_or_none(entry.get("itemId"))
                    if group is not None and item is not None:
                        segments.add(Segment(group, item))
        return cls(user_id=user_id, segments=frozenset(segments))


@dataclass(frozen=True)
class Segmentation:
    """What a document is restricted to; both empty means everyone."""

    segments: frozenset[Segment] = field(default_factory=frozenset)
    user_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_everyone(self) -> bool:
        return not self.segments and not self.user_ids

    @classmethod
    def parse(cls, data: Any) -> Segmentation:
        """`{"segments": [{"groupId", "itemId"}], "userIds": [...]}`; both keys optional.
        Unlike a lead's metadata, a bad entry here is an error: the admin meant something."""
        if not isinstance(data, Mapping):
            raise InvalidInput("segmentation must be an object with 'segments' and/or 'userIds'")
        unknown = set(data) - {"segments", "userIds"}
        if unknown:
            raise InvalidInput(f"unknown segmentation field(s): {', '.join(sorted(unknown))}")
        raw_segments = data.get("segments") or []
        raw_users = data.get("userIds") or []
        if not isinstance(raw_segments, list) or not isinstance(raw_users, list):
            raise InvalidInput("'segments' and 'userIds' must be lists")
        if len(raw_segments) + len(raw_users) > MAX_DOCUMENT_ENTRIES:
            raise InvalidInput(f"at most {MAX_DOCUMENT_ENTRIES} segmentation entries")
        segments = set()
        for entry in raw_segments:
            if not isinstance(entry, Mapping) or set(entry) != {"groupId", "itemId"}:
                raise InvalidInput(f"a segment is {{'groupId': …, 'itemId': …}}, not {entry!r}")
            segments.add(Segment(_required_id(entry["groupId"]), _required_id(entry["itemId"])))
        return cls(frozenset(segments), frozenset(_required_id(u) for u in raw_users))

    @classmethod
    def of(cls, segments: Iterable[Segment] = (), user_ids: Iterable[str] = ()) -> Segmentation:
        return cls(frozenset(segments), frozenset(_required_id(u) for u in user_ids))

    def to_json(self) -> dict[str, list]:
        return {
            "segments": [s.to_json() for s in sorted(self.segments)],
            "userIds": sorted(self.user_ids),
        }


def parse_segment(value: str) -> Segment:
    """`GROUP:ITEM`, as the CLI takes it."""
    group, sep, item = value.partition(":")
    if not sep:
        raise InvalidInput(f"a segment is GROUP_ID:ITEM_ID, not {value!r}")
    return Segment(_required_id(group), _required_id(item))


def _id_or_none(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    # NUL cannot be stored in Postgres text: such an id is not an id.
    return text if 0 < len(text) <= MAX_ID_CHARS and "\x00" not in text else None


def _required_id(value: Any) -> str:
    text = _id_or_none(value)
    if text is None:
        raise InvalidInput(
            f"ids must be non-empty strings (or numbers) of at most {MAX_ID_CHARS} characters "
            f"without NUL, not {value!r}"
        )
    return text
