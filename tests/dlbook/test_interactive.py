"""dlbook.interactive: precomputed frames for the HTML, live widgets for notebooks."""

import base64
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest

from dlbook.interactive import WIDGET_VIEW, interactive_figure

matplotlib.use("Agg")


def draw_line(slope, offset=0.0):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    return fig


CONTROLS = {"slope": [-1.0, 0.0, 1.0], "offset": [0.0, 1.0]}
ALT = "A line whose slope and offset follow the sliders"


def test_one_frame_per_combination_and_frames_differ():
    figure = interactive_figure(draw_line, CONTROLS, alt=ALT)
    frames = figure.frames()
    assert len(frames) == 3 * 2
    assert len(set(frames)) == 6, "different slider values must give different pictures"
    for frame in frames:
        assert base64.b64decode(frame)[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == [], "every drawn figure is closed"


def test_html_has_a_range_input_per_control_and_the_initial_frame():
    figure = interactive_figure(
        draw_line, CONTROLS, alt=ALT, initial={"slope": 1.0, "offset": 0.0}
    )
    page = figure.to_html()
    inputs = re.findall(
        r'<input type="range" data-name="(\w+)" min="0" max="(\d+)" '
        r'step="1" value="(\d+)"',
        page,
    )
    assert inputs == [("slope", "2", "2"), ("offset", "1", "0")]
    frames = figure.frames()
    assert (
        f'src="data:image/png;base64,{frames[2 * 2 + 0]}"' in page
    )  # row-major index of (1.0, 0.0)
    assert "slope = 1" in page and ALT in page
    assert "http" not in page.replace("data:image/png", ""), (
        "the HTML view must not fetch anything"
    )


def test_mimebundle_carries_both_views():
    bundle = interactive_figure(draw_line, CONTROLS, alt=ALT)._repr_mimebundle_()
    assert "text/html" in bundle and "dlbook-interactive" in bundle["text/html"]
    assert WIDGET_VIEW in bundle and "model_id" in bundle[WIDGET_VIEW]


def test_live_widget_redraws_when_a_slider_moves():
    calls = []

    def draw(slope, offset):
        calls.append((slope, offset))
        return draw_line(slope, offset)

    box = interactive_figure(draw, CONTROLS, alt=ALT).widget()
    sliders = box.children[:-1]
    assert [s.description for s in sliders] == ["slope", "offset"]
    calls.clear()
    sliders[0].value = -1.0  # the sliders start in the middle: slope 0.0, offset 1.0
    sliders[1].value = 0.0
    assert calls == [(-1.0, 1.0), (-1.0, 0.0)]


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"controls": {}}, ValueError, "controls"),
        ({"controls": {"slope": [1.0]}}, ValueError, r"controls\['slope'\]"),
        ({"controls": {"not a name": [1, 2]}}, ValueError, "keyword-argument"),
        (
            {"controls": {"a": list(range(20)), "b": list(range(20))}},
            ValueError,
            "400 frames",
        ),
        ({"alt": "plot"}, ValueError, "alt"),
        ({"initial": {"slope": 7.0}}, ValueError, r"initial\['slope'\]"),
        ({"initial": {"tilt": 0.0}}, ValueError, "tilt"),
        ({"initial": [("slope", 1.0)]}, TypeError, "initial must be a Mapping"),
        ({"draw": "not callable"}, TypeError, "draw must be a function"),
        ({"controls": [1, 2]}, TypeError, r"controls must be a Mapping, got \[1, 2\]"),
        ({"controls": {3: [1, 2]}}, TypeError, "each name in controls must be a"),
        ({"alt": None}, TypeError, "alt must be a non-empty string, got None"),
        ({"max_frames": 0}, ValueError, "max_frames must be an int >= 1, got 0"),
        ({"dpi": "72"}, TypeError, "dpi must be an int >= 1, got '72'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match):
    arguments = {"draw": draw_line, "controls": CONTROLS, "alt": ALT, **kwargs}
    with pytest.raises(error, match=match):
        interactive_figure(
            arguments.pop("draw"), arguments.pop("controls"), **arguments
        )


def test_draw_must_return_a_figure():
    figure = interactive_figure(lambda slope, offset: None, CONTROLS, alt=ALT)
    with pytest.raises(TypeError, match="Figure"):
        figure.frames()
