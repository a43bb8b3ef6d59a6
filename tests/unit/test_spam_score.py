"""The spam score: the processor's pure scoring equals scikit-learn's own, the model refuses
to be made from too few verdicts, and on a corpus the tests make it holds spam with high
precision (measured here and printed; the figures are in the README)."""

import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from events.moderation import ModerationPolicy, NewComment, screen
from events.spam_score import spam_probability, tokens
from services.operations.spam import Decision, NotEnoughDecisions, evaluate, train
from tests.spam_corpus import corpus


def decisions(seed: int, size: int) -> list[Decision]:
    return [Decision(body, is_spam) for body, is_spam in corpus(seed, size)]


def test_tokens_are_words_and_links() -> None:
    assert tokens("Buy NOW at https://x.example and www.y.example, 42!") == [
        "buy", "now", "at", "and", "42", "__link__", "__link__",
    ]  # fmt: skip


def test_the_pure_score_is_scikit_learns() -> None:
    learned = decisions(1, 300)
    model = train("s", learned)
    vectorizer = CountVectorizer(analyzer=tokens, max_features=20_000)
    fitted = MultinomialNB(alpha=1.0).fit(
        vectorizer.fit_transform([d.body for d in learned]), [int(d.spam) for d in learned]
    )
    unseen = [body for body, _ in corpus(2, 50)] + ["words it never saw", ""]
    expected = fitted.predict_proba(vectorizer.transform(unseen))[:, 1]
    for body, probability in zip(unseen, expected, strict=True):
        assert spam_probability(model, body) == pytest.approx(probability, abs=1e-9)


def test_too_few_decisions_make_no_model() -> None:
    with pytest.raises(NotEnoughDecisions):
        train("s", decisions(3, 10))
    with pytest.raises(NotEnoughDecisions):
        train("s", [Decision(f"fine comment {n}", False) for n in range(100)])


def test_precision_and_recall_on_the_test_corpus() -> None:
    model = train("s", decisions(10, 400))
    held_out = decisions(11, 1000)
    for threshold in (0.5, ModerationPolicy().spam_threshold):
        measured = evaluate(model, held_out, threshold)
        print(
            f"spam score >= {threshold} on {measured.total} unseen comments ({measured.spam}"
            f" spam): precision {measured.precision:.3f}, recall {measured.recall:.3f}"
        )
    # Holding is meant to be sure rather than thorough: a wrong hold makes a reader wait, a
    # missed spam is still there to report (the corpus has spam made to look like a reader's).
    assert measured.precision >= 0.95 and measured.recall >= 0.7


def test_a_comment_at_the_threshold_is_held_for_its_score() -> None:
    policy = ModerationPolicy(spam_threshold=0.8)

    def reasons(score: float | None) -> object:
        return screen(policy, NewComment("hi", None, True, False, spam_score=score))

    assert reasons(0.8) == ("spam_score",)
    assert reasons(0.79) == () and reasons(None) == ()
