"""Small services of other teams, built on commentstream's client (services/client)."""
