"""Database operations per stored message, from the server's own /metrics counters."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> dict[str, float] | None:
    """{"ops": database operations, "stored": messages stored, "batches": send batches}, or
    None for a server without /metrics (the Node reference)."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:  # noqa: S310
            text = resp.read().decode()
    except OSError:
        return None
    totals = {"ops": 0.0, "stored": 0.0, "batches": 0.0}
    names = {
        "chat_db_operations_total": "ops",
        "chat_messages_stored_total": "stored",
        "chat_send_batches_total": "batches",
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in names:
                totals[names[sample.name]] += sample.value
    return totals


def per_message(before: dict[str, float] | None, after: dict[str, float] | None) -> dict:
    """What a trial cost the database: operations and batches per stored message."""
    if before is None or after is None:
        return {}
    stored = after["stored"] - before["stored"]
    if not stored:
        return {"db_ops_per_message": None}
    return {
        "db_ops_per_message": round((after["ops"] - before["ops"]) / stored, 2),
        "messages_per_batch": round(stored / max(1, after["batches"] - before["batches"]), 2),
    }
