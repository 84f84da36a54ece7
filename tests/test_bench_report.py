"""BENCHMARKS.md keeps the figures the code points to whenever it is generated again."""

from __future__ import annotations

from bench import report


def test_every_rendering_ends_with_the_design_figures() -> None:
    figures = report.DESIGN_FIGURES.read_text()
    assert figures.startswith("## Figures behind design choices\n")
    for results in ([], report.load_results()):
        assert report.render(results).endswith("\n" + figures)
