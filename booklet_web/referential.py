"""The LPC palier 3 referential: 7 compétences, 26 domaines, 98 items, shipped as one JSON data file.

Identifiers are stable: ``C<compétence>`` and ``C<compétence>.<item number within the compétence>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Item:
    """One item of a compétence (e.g. ``C3.7``)."""

    id: str
    number: int
    text: str
    competence_id: str
    domain_title: str


@dataclass(frozen=True)
class Domain:
    """A domaine: a titled group of items within a compétence."""

    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Competence:
    """One of the seven compétences of palier 3."""

    id: str
    number: int
    title: str
    domains: tuple[Domain, ...]
    note: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for domain in self.domains for item in domain.items)


@dataclass(frozen=True)
class Referential:
    """The whole grid, with look-ups by identifier."""

    palier: int
    source: str
    competences: tuple[Competence, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for comp in self.competences for item in comp.items)

    def competence(self, competence_id: str) -> Competence | None:
        """The compétence ``C<n>``, or None when there is none of that id."""
        return self._competences_by_id().get(competence_id)

    def item(self, item_id: str) -> Item | None:
        """The item ``C<n>.<k>``, or None when there is none of that id."""
        return self._items_by_id().get(item_id)

    def _competences_by_id(self) -> dict[str, Competence]:
        return {c.id: c for c in self.competences}

    def _items_by_id(self) -> dict[str, Item]:
        return _index(self)


@cache
def _index(ref: Referential) -> dict[str, Item]:
    return {i.id: i for i in ref.items}


def parse_referential(data: dict) -> Referential:
    """Build a :class:`Referential` from the JSON structure of ``data/lpc_palier3.json``."""
    comps = []
    for c in data["competences"]:
        domains = tuple(
            Domain(
                title=d["title"],
                items=tuple(Item(i["id"], i["number"], i["text"], c["id"], d["title"]) for i in d["items"]),
            )
            for d in c["domains"]
        )
        comps.append(Competence(c["id"], c["number"], c["title"], domains, c.get("note", "")))
    return Referential(data["palier"], data["source"], tuple(comps))


@cache
def load_referential() -> Referential:
    """The shipped palier 3 referential (read once per process)."""
    text = resources.files("booklet_web").joinpath("data/lpc_palier3.json").read_text(encoding="utf-8")
    return parse_referential(json.loads(text))
