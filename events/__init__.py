"""The language of commentstream: commands, events, the envelope, codecs and upcasters."""
