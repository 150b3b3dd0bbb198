"""The evaluations' shared printing: one JSON line, and never a figure that is not finite."""

import json
import math

import pytest

from pipeline.eval_runs import print_figures, rounded


def test_figures_print_as_one_json_line_rounded_to_four_places(capsys):
    print_figures(rounded({"pair_f1": 0.917049, "held_out": {"b": {"pair_f1": 0.91333}}, "articles": 723}))

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"pair_f1": 0.917, "held_out": {"b": {"pair_f1": 0.9133}}, "articles": 723}


@pytest.mark.parametrize(
    "figures",
    [
        {"pair_f1": math.nan},
        {"held_out": {"a": {"bcubed_f1": math.inf}}},
        {"orders": [{"pair_f1": 0.9}, {"pair_f1": -math.inf}]},
    ],
    ids=["top level", "nested dict", "inside a list"],
)
def test_a_figure_that_is_not_finite_is_an_error_at_any_depth(figures, capsys):
    with pytest.raises(RuntimeError, match="non-finite"):
        print_figures(figures)

    assert capsys.readouterr().out == ""
