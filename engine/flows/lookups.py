"""A memo in front of the org directory for the lifetime of one engine.

Assignment looks up the same usernames and delegations over and over (each node entry, each
substitute check); on the server each unit of work builds its own engine, so the memo lives for
one request or one timer and never serves a stale organisation for longer than that.
"""

from __future__ import annotations

from typing import Any

from engine.directory import Delegation, Directory, Person


class MemoDirectory:
    """Directory protocol; `find_user`, `person` and `delegations_of` are remembered."""

    def __init__(self, directory: Directory) -> None:
        self.inner = directory
        self._users: dict[str, Person | None] = {}
        self._people: dict[int, Person | None] = {}
        self._delegations: dict[int, list[Delegation]] = {}
        # Answers derived only from the memoised look-ups (e.g. the people of a node with fixed
        # assignees), kept as long as the look-ups they come from.
        self.derived: dict[Any, Any] = {}

    def find_user(self, username: str) -> Person | None:
        if username not in self._users:
            self._users[username] = self.inner.find_user(username)
        return self._users[username]

    def person(self, user_id: int) -> Person | None:
        if user_id not in self._people:
            self._people[user_id] = self.inner.person(user_id)
        return self._people[user_id]

    def delegations_of(self, user_id: int) -> list[Delegation]:
        found = self._delegations.get(user_id)
        if found is None:
            found = self._delegations[user_id] = self.inner.delegations_of(user_id)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
