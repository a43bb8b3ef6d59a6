"""Like counts: how many people like each comment, and who."""
