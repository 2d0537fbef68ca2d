"""Mailing progress for Prometheus, computed when /metrics is scraped (registered in MailingsConfig.ready()).

- ``citydesk_mailings_sending``: mailings being sent now;
- ``citydesk_mailing_deliveries{mailing,status}``: their deliveries by status;
- ``citydesk_mailing_last_progress_timestamp_seconds{mailing}``: when a batch last
  reported progress (the "mailing stalled" alert compares it with the time).
"""

from mailings.selectors import mailings_sending_progress
from portal.metrics import GaugeMetricFamily


def mailing_progress_metrics():
    sending = GaugeMetricFamily("citydesk_mailings_sending", "Mailings being sent now.")
    deliveries = GaugeMetricFamily(
        "citydesk_mailing_deliveries", "Deliveries of a mailing being sent, by status.", labels=["mailing", "status"]
    )
    progress = GaugeMetricFamily(
        "citydesk_mailing_last_progress_timestamp_seconds",
        "When a mailing being sent last made progress (Unix time).",
        labels=["mailing"],
    )
    rows = mailings_sending_progress()
    sending.add_metric([], len(rows))
    for row in rows:
        mailing = str(row["mailing_id"])
        for status, count in row["counts"].items():
            deliveries.add_metric([mailing, status], count)
        if row["progress_at"] is not None:
            progress.add_metric([mailing], row["progress_at"].timestamp())
    return [sending, deliveries, progress]
