"""Character bigrams for Chinese text search.

Most Chinese words are two characters long (路面, 井盖, 积水), which a trigram index cannot
serve. An issue's text is stored as its overlapping bigrams, and a search term becomes the
phrase query of its own bigrams.
"""

import re

_RUN = re.compile(r"\w+")


def bigrams(text: str) -> list[str]:
    """The overlapping two-character pieces of each word-character run, lower-cased.

    A single-character run is kept as it is, so that one-character terms still match.
    """
    grams: list[str] = []
    for run in _RUN.findall(text.lower().replace("_", " ")):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams
