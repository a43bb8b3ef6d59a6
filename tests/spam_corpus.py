"""A corpus of comments the tests make: what readers of a blog write, and what spammers send
(links, pills, casinos, crypto, "great post" openers that lead to a link). Seeded, so that a
run is repeatable; the two kinds share words, as real ones do."""

import random

TOPICS = [
    "the post",
    "your garden",
    "this recipe",
    "the trip",
    "the photos",
    "the book",
    "the last chapter",
    "the interview",
    "the ketamine story",
    "the research",
    "your dog",
]
OPINIONS = [
    "I loved",
    "I disagree with",
    "thanks for",
    "I laughed at",
    "I keep thinking about",
    "my sister sent me",
    "I tried",
    "I was moved by",
    "I have questions about",
]
DETAILS = [
    "especially the second part",
    "it reminded me of my grandmother",
    "we did the same last spring",
    "the ending surprised me",
    "the numbers seem off to me",
    "it took me two tries",
    "please write more about it",
    "my kids asked about it at dinner",
    "it rained all week here too",
    "I would add more salt",
    "the link to the paper was helpful",
]
SPAM_OPENERS = [
    "Great post!",
    "Very nice article",
    "Thanks for sharing",
    "Amazing content",
    "I loved the post",
    "Hello admin",
]
SPAM_OFFERS = [
    "cheap pills without prescription",
    "best online casino bonus",
    "earn 5000 dollars a week from home",
    "crypto investment doubles in days",
    "replica watches discount",
    "buy followers fast",
    "hot singles near you",
    "free spins no deposit",
    "loan approved instantly",
]
SPAM_CALLS = ["visit", "click here", "check my site", "buy now at", "limited offer at", "see"]


def ham(rng: random.Random) -> str:
    sentence = f"{rng.choice(OPINIONS)} {rng.choice(TOPICS)}, {rng.choice(DETAILS)}."
    if rng.random() < 0.3:
        sentence += f" {rng.choice(OPINIONS).capitalize()} {rng.choice(TOPICS)} too."
    if rng.random() < 0.15:
        sentence += " https://en.wikipedia.org/wiki/Garden"
    if rng.random() < 0.1:  # readers talk about what spammers sell, too
        sentence += f" A friend lost money on {rng.choice(SPAM_OFFERS)}, never again."
    return sentence


def spam(rng: random.Random) -> str:
    if rng.random() < 0.25:  # a reader-like comment, with its link the only tell
        return f"{ham(rng)} {rng.choice(SPAM_CALLS)} https://blog{rng.randint(1, 999)}.example"
    text = f"{rng.choice(SPAM_OPENERS)} {rng.choice(SPAM_OFFERS)}, {rng.choice(SPAM_CALLS)}"
    text += (
        f" https://{rng.choice(['deals', 'win', 'pharma', 'promo'])}{rng.randint(1, 999)}.example"
    )
    if rng.random() < 0.5:
        text += f" {rng.choice(SPAM_OFFERS)}"
    if rng.random() < 0.3:
        text += f" {rng.choice(TOPICS)}"  # spammers borrow the page's words
    return text


def corpus(seed: int, size: int, spam_share: float = 0.3) -> list[tuple[str, bool]]:
    """(body, is spam) pairs."""
    rng = random.Random(seed)
    return [
        (spam(rng), True) if rng.random() < spam_share else (ham(rng), False) for _ in range(size)
    ]
