"""The words of `seed_scale`'s issues: titles, descriptions, residents, references, and the
search document the bigram index reads, drawn from the phrase pools of `scale.text`."""

from __future__ import annotations

import random

from issues.models import new_reference
from issues.search import bigrams
from scale import text
from scale.story import CategoryInfo


def _grams(part: str) -> str:
    return " ".join(bigrams(part))


class Words:
    """Draws from the generator's own random stream, so a seed gives the same data set."""

    def __init__(self, rng: random.Random, references: set[str]) -> None:
        self.rng = rng
        self.references = references
        self._grams: dict[str, str] = {}

    def resident(self) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            name = ""
        elif r < 0.45:
            name = rng.choice(text.TIBETAN_GIVEN) + rng.choice(text.TIBETAN_GIVEN)
        elif r < 0.75:
            name = rng.choice(text.TIBETAN_GIVEN)
        else:
            name = rng.choice(text.HAN_SURNAMES) + rng.choice(text.HAN_GIVEN)
        r = rng.random()
        if r < 0.2:
            phone = ""
        elif r < 0.3:
            phone = f"0891-6{rng.randrange(10**6):06d}"
        else:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        return name, phone

    def reference(self) -> str:
        while True:
            ref = new_reference()
            if ref not in self.references:
                self.references.add(ref)
                return ref

    def words(self, cat: CategoryInfo, source: str, courtyard: str, people: int) -> tuple[str, str]:
        """A title and a description; free text varies, the phrases repeat as in real lists."""
        rng = self.rng
        pool = text.CATEGORY_TEXT.get(cat.code, text.CATEGORY_TEXT["other"])
        subject, problem = rng.choice(pool.subjects), rng.choice(pool.problems)
        details = rng.sample(pool.details, 2)
        opening = rng.choice(text.OPENINGS[source])
        if cat.code == "wage_arrears":
            title = f"{people}名务工人员反映{subject}{problem}"
            body = f"{opening}{courtyard}{people}名务工人员在{subject}务工，{problem}"
        elif cat.code == "micro_wish":
            title = f"{subject}{problem}"
            body = f"{opening}{courtyard}一位{subject}{problem}"
        elif cat.code == "dispute":
            title = f"{subject}{problem}"
            body = f"{opening}{courtyard}{subject}之间发生{problem}"
        else:
            spot = rng.choice(text.SPOTS)
            title = f"{spot}{subject}{problem}"
            body = f"{opening}{courtyard}{spot}{subject}{problem}"
        request = rng.choice(text.REQUESTS) if rng.random() < 0.7 else ""
        return title, f"{body}，{details[0]}，{details[1]}。{request}"

    def search_document(self, title: str, description: str, name: str) -> str:
        """Exactly `Issue.search_document()`; titles and names repeat, so their grams are kept."""
        parts = []
        if title:
            grams = self._grams.get(title)
            if grams is None:
                grams = self._grams[title] = _grams(title)
            parts.append(grams)
        if description:
            parts.append(_grams(description))
        if name:
            grams = self._grams.get(name)
            if grams is None:
                grams = self._grams[name] = _grams(name)
            parts.append(grams)
        return " ".join(parts)
