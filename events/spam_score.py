"""A site's own spam score: a naive Bayes model over word and link features, trained by
`commentstream spam train` from the verdicts in the log (scikit-learn), and scored here without
it, from the model's exported parameters. Pure, no I/O.

The tokens are the same for training and scoring: lower-cased words and one `__link__` per
link; a token the model never saw counts for nothing (as scikit-learn does).
"""

import math
import re
from collections import Counter
from datetime import datetime

from pydantic import BaseModel, ConfigDict

WORD = re.compile(r"[^\W\d_]{2,}|\d+", re.UNICODE)
URL = re.compile(r"(?:https?://|(?<![/\w.])www\.)\S+", re.IGNORECASE)
LINK_TOKEN = "__link__"
MIN_DECISIONS = 20  # a model is made from at least this many verdicts ...
MIN_PER_CLASS = 5  # ... with at least this many of each kind


def tokens(body: str) -> list[str]:
    words = WORD.findall(URL.sub(" ", body).casefold())
    return words + [LINK_TOKEN] * len(URL.findall(body))


class SpamModel(BaseModel):
    """Multinomial naive Bayes, classes (ham, spam), as trained for one site."""

    model_config = ConfigDict(frozen=True)

    site: str
    trained_at: datetime
    ham: int  # verdicts it learned from
    spam: int
    vocabulary: dict[str, int]
    class_log_prior: tuple[float, float]
    feature_log_prob: tuple[tuple[float, ...], tuple[float, ...]]


def spam_probability(model: SpamModel, body: str) -> float:
    """The probability the model gives that `body` is spam."""
    counts = Counter(t for t in tokens(body) if t in model.vocabulary)
    joint = [
        prior + sum(n * log_probs[model.vocabulary[t]] for t, n in counts.items())
        for prior, log_probs in zip(model.class_log_prior, model.feature_log_prob, strict=True)
    ]
    top = max(joint)
    ham, spam = (math.exp(j - top) for j in joint)
    return spam / (ham + spam)
