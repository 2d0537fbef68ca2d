"""What a Chart.js chart on a page shows: waited for, then read from the chart and its canvas."""

from typing import Any

_READ = """(id) => {
    const canvas = document.getElementById(id);
    const chart = Chart.getChart(canvas);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
    const sums = chart.data.datasets.map((ds) => ds.data.reduce((a, b) => a + b, 0));
    return {labels: chart.data.labels.length, sums, painted};
}"""


def chart_drawn(page: Any, canvas_id: str) -> dict[str, Any]:
    """Once the chart on canvas ``canvas_id`` exists: its number of labels (points on the x axis), the sum
    of each data series, and how many pixels of the canvas are painted."""
    page.wait_for_function(
        "(id) => window.Chart && Chart.getChart(document.getElementById(id))", arg=canvas_id, timeout=10_000
    )
    return page.evaluate(_READ, canvas_id)
