"""Reading our metrics the way Prometheus does: GET /metrics with the token, parse the text."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token-0123456789abcdef"


def scrape(client, settings) -> dict[tuple[str, frozenset], float]:
    """Every sample of ``GET /metrics`` as {(sample name, labels): value}."""
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(samples: dict, name: str, **labels: str) -> float:
    """The value of one sample, 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
