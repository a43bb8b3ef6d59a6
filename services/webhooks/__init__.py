"""Webhooks: each site's endpoints get the public form of its events, signed as Standard
Webhooks say, retried with backoff, parked after the last try, disabled after repeated failure."""
