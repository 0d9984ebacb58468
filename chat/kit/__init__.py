"""Small tools every layer may use: background task sets, TTL caches, once-per-outage logs."""
