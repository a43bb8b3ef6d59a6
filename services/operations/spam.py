"""`commentstream spam train`: a site's spam model from the verdicts in its log.

Each comment's last verdict is its label: spam (marked as spam, or imported as spam) or not
(published: approved on posting or by a moderator); held, rejected and deleted-unjudged comments
teach nothing. The bodies are unsealed with their authors' keys (an erased author's are gone).
scikit-learn's multinomial naive Bayes is fitted on events/spam_score.py's tokens and exported
as plain parameters (never a pickle), which the processor scores with.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from events.log_entry import decode_entry, entry_type
from events.spam_score import MIN_DECISIONS, MIN_PER_CLASS, SpamModel, spam_probability, tokens
from events.thread_events import (
    CommentApproved,
    CommentEdited,
    CommentMarkedSpam,
    CommentPosted,
    CommentRejected,
)
from storage.connection import Store
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, spam_model, spam_model_trained
from storage.log_reader import log_entries
from storage.unsealing import personal_data

MAX_FEATURES = 20_000
JUDGED_TYPES = frozenset(
    cls.model_fields["type"].default
    for cls in (CommentPosted, CommentEdited, CommentApproved, CommentMarkedSpam, CommentRejected)
)


@dataclass(frozen=True)
class Decision:
    body: str
    spam: bool


class NotEnoughDecisions(ValueError):
    pass


async def decisions(
    redis: Store, vault: AuthorKeyVault, partitions: int, site: str
) -> list[Decision]:
    """Every judged comment of the site with its last verdict, from the log."""
    bodies: dict[tuple[str, str], str] = {}
    labels: dict[tuple[str, str], bool | None] = {}
    for p in range(partitions):
        async for page in log_entries(redis, PartitionKeys(p)):
            for entry_id, fields in page:
                if entry_type(fields) not in JUDGED_TYPES:
                    continue
                envelope = decode_entry(fields, entry_id)
                if envelope.site != site:
                    continue
                event = envelope.event()
                key = (envelope.thread, getattr(event, "comment_id", ""))
                match event:
                    case CommentPosted() | CommentEdited():
                        personal = await personal_data(vault, envelope)
                        if personal is not None and personal.body:
                            bodies[key] = personal.body
                        if isinstance(event, CommentPosted):
                            labels[key] = {"approved": False, "spam": True}.get(event.status)
                    case CommentApproved():
                        labels[key] = False
                    case CommentMarkedSpam():
                        labels[key] = True
                    case CommentRejected():
                        labels[key] = None
    return [
        Decision(bodies[key], label)
        for key, label in labels.items()
        if label is not None and key in bodies
    ]


def train(site: str, judged: list[Decision], now: datetime | None = None) -> SpamModel:
    """Fit the model; refuses with too few decisions (MIN_DECISIONS, MIN_PER_CLASS of each)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    spam = sum(d.spam for d in judged)
    ham = len(judged) - spam
    if len(judged) < MIN_DECISIONS or min(spam, ham) < MIN_PER_CLASS:
        raise NotEnoughDecisions(
            f"{site}: {ham} published and {spam} spam verdicts; a model needs {MIN_DECISIONS}"
            f" with at least {MIN_PER_CLASS} of each"
        )
    vectorizer = CountVectorizer(analyzer=tokens, max_features=MAX_FEATURES)
    counts = vectorizer.fit_transform([d.body for d in judged])
    classifier = MultinomialNB(alpha=1.0).fit(counts, [int(d.spam) for d in judged])
    ham_log, spam_log = (tuple(float(x) for x in row) for row in classifier.feature_log_prob_)
    prior = classifier.class_log_prior_
    return SpamModel(
        site=site,
        trained_at=now or datetime.now(UTC),
        ham=ham,
        spam=spam,
        vocabulary={str(t): int(i) for t, i in vectorizer.vocabulary_.items()},
        class_log_prior=(float(prior[0]), float(prior[1])),
        feature_log_prob=(ham_log, spam_log),
    )


async def store_model(redis: Store, model: SpamModel) -> None:
    """The model, then when it was trained: the processor, which reloads the model when that
    time moves, reads the new one (two keys of two slots on a cluster: no transaction)."""
    await redis.set(spam_model(model.site), model.model_dump_json())
    await redis.set(spam_model_trained(model.site), model.trained_at.isoformat())


@dataclass(frozen=True)
class Evaluation:
    precision: float
    recall: float
    held: int  # comments the model would hold at the threshold
    spam: int
    total: int


def evaluate(model: SpamModel, judged: list[Decision], threshold: float) -> Evaluation:
    """Precision and recall of holding at `threshold`, on decisions the model did not learn."""
    predicted = [spam_probability(model, d.body) >= threshold for d in judged]
    true_positive = sum(p and d.spam for p, d in zip(predicted, judged, strict=True))
    held, spam = sum(predicted), sum(d.spam for d in judged)
    return Evaluation(
        precision=true_positive / held if held else 1.0,
        recall=true_positive / spam if spam else 1.0,
        held=held,
        spam=spam,
        total=len(judged),
    )
