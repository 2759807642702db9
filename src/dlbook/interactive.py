"""Figures with sliders that work both in a live notebook and in the static HTML book.

``interactive_figure(draw, controls, alt=...)`` returns one object that carries two
views:

- in Jupyter or Colab, live ipywidgets sliders: moving one calls ``draw`` again;
- in the HTML book, where no Python runs, every combination of slider values is drawn in
  advance and a few lines of JavaScript in the page swap the pictures as a slider moves.

The book's HTML build is configured never to render the widget view (a widget without a
kernel would be a control that does nothing), so the page always shows the working
version.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from dlbook import checks

__all__ = ["interactive_figure", "InteractiveFigure", "WIDGET_VIEW"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_counter = itertools.count()


def _format_value(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _check_controls(
    controls: Mapping[str, Sequence[object]], max_frames: int
) -> dict[str, list]:
    """The sliders, {name: list of values}, checked: names that draw accepts as keyword
    arguments, at least 2 values each, at most max_frames combinations in all."""
    controls = checks.instance(controls, "controls", Mapping)
    if not controls:
        raise ValueError(
            "controls must be a non-empty mapping {name: list of values}, got {}"
        )
    checked: dict[str, list] = {}
    for name, values in controls.items():
        name = checks.text(name, "each name in controls")
        if not name.isidentifier():
            raise ValueError(
                f"controls: {name!r} is not a valid keyword-argument name for draw"
            )
        values = list(values)
        if len(values) < 2:
            raise ValueError(
                f"controls[{name!r}] needs at least 2 values to slide over, "
                f"got {len(values)}"
            )
        checked[name] = values
    n_frames = 1
    for values in checked.values():
        n_frames *= len(values)
    if n_frames > max_frames:
        sizes = " x ".join(str(len(v)) for v in checked.values())
        raise ValueError(
            f"controls give {sizes} = {n_frames} frames, more than "
            f"max_frames={max_frames}; use fewer values per slider (every combination "
            "is drawn in advance for the HTML book)"
        )
    return checked


class InteractiveFigure:
    """A figure redrawn by ``draw(**values)`` as sliders move.

    Build it with ``interactive_figure``.
    """

    def __init__(
        self,
        draw: Callable[..., Figure],
        controls: dict[str, list],
        initial: dict,
        alt: str,
        dpi: int,
    ):
        self.draw = draw
        self.controls = controls
        self.initial = initial
        self.alt = alt
        self.dpi = dpi
        self._widget = None

    # -- the two views -----------------------------------------------------------------
    def _render(self, values: Mapping[str, object]) -> Figure:
        fig = self.draw(**values)
        if not isinstance(fig, Figure):
            plt.close("all")
            raise TypeError(
                f"draw must return a matplotlib Figure, got {type(fig).__name__}"
            )
        return fig

    def frames(self) -> list[str]:
        """Every combination of control values drawn as a base64 PNG, in row-major
        order."""
        encoded = []
        for combo in itertools.product(*self.controls.values()):
            fig = self._render(dict(zip(self.controls, combo)))
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=self.dpi, metadata={"Software": None})
            plt.close(fig)
            encoded.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
        return encoded

    def to_html(self) -> str:
        """A self-contained HTML block: one image and one range input per control."""
        uid = f"dlbook-interactive-{next(_counter)}"
        names = list(self.controls)
        start = [self.controls[n].index(self.initial[n]) for n in names]
        frames = self.frames()
        labels = {n: [_format_value(v) for v in self.controls[n]] for n in names}
        rows = []
        for n, i in zip(names, start):
            name, top = html.escape(n), len(self.controls[n]) - 1
            rows.append(
                '<label style="display:flex;align-items:center;gap:0.6em;'
                'margin:0.2em 0">'
                f'<code style="min-width:4em">{name}</code>'
                f'<input type="range" data-name="{name}" min="0" max="{top}" '
                f'step="1" value="{i}" aria-label="{name}" style="flex:1">'
                '<output style="min-width:4em">'
                f"{html.escape(labels[n][i])}</output></label>"
            )
        first_index = 0
        for n, i in zip(names, start):
            first_index = first_index * len(self.controls[n]) + i
        payload = json.dumps(
            {"names": names, "labels": labels, "frames": frames, "alt": self.alt}
        )
        return (
            f'<div class="dlbook-interactive" id="{uid}" style="max-width:42em">'
            '<img style="max-width:100%" '
            f'src="data:image/png;base64,{frames[first_index]}" '
            f'alt="{html.escape(self._alt_for(start))}">'
            f'<div class="dlbook-controls">{"".join(rows)}</div>'
            f'<script type="application/json">{payload}</script>'
            "<script>(function(){"
            f'var root=document.getElementById("{uid}");'
            "var data=JSON.parse(root.querySelector("
            "\"script[type='application/json']\").textContent);"
            'var img=root.querySelector("img");'
            'var inputs=root.querySelectorAll("input[type=range]");'
            "function update(){var index=0,parts=[];"
            "inputs.forEach(function(input){var name=input.dataset.name,"
            "i=parseInt(input.value,10);"
            "index=index*data.labels[name].length+i;"
            "input.parentNode.querySelector('output').textContent=data.labels[name][i];"
            "parts.push(name+' = '+data.labels[name][i]);});"
            "img.src='data:image/png;base64,'+data.frames[index];"
            "img.alt=data.alt+' ('+parts.join(', ')+')';}"
            "inputs.forEach(function(input){input.addEventListener('input',update);});"
            "})();</script></div>"
        )

    def _alt_for(self, indices: Sequence[int]) -> str:
        parts = [
            f"{n} = {_format_value(self.controls[n][i])}"
            for n, i in zip(self.controls, indices)
        ]
        return f"{self.alt} ({', '.join(parts)})"

    def widget(self):
        """Live ipywidgets sliders above an output area that ``draw`` redraws."""
        if self._widget is None:
            import ipywidgets as widgets
            from IPython.display import display

            sliders = {
                n: widgets.SelectionSlider(
                    options=[(_format_value(v), v) for v in values],
                    value=self.initial[n],
                    description=n,
                    continuous_update=True,
                    layout=widgets.Layout(width="30em"),
                )
                for n, values in self.controls.items()
            }
            out = widgets.Output()

            def redraw(_change=None):
                fig = self._render({n: s.value for n, s in sliders.items()})
                with out:
                    out.clear_output(wait=True)
                    display(fig)
                plt.close(fig)

            for s in sliders.values():
                s.observe(redraw, names="value")
            redraw()
            self._widget = widgets.VBox([*sliders.values(), out])
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {
            "text/plain": f"<interactive figure: {self.alt}>",
            "text/html": self.to_html(),
        }
        widget_bundle = self.widget()._repr_mimebundle_()
        if widget_bundle and WIDGET_VIEW in widget_bundle:
            bundle[WIDGET_VIEW] = widget_bundle[WIDGET_VIEW]
        return bundle


def interactive_figure(
    draw: Callable[..., Figure],
    controls: Mapping[str, Sequence[object]],
    *,
    alt: str,
    initial: Mapping[str, object] | None = None,
    max_frames: int = 200,
    dpi: int = 72,
) -> InteractiveFigure:
    """Make a figure with one slider per entry of ``controls``.

    draw:     ``draw(**values) -> Figure``; called once per combination of values.
    controls: ``{name: values}``; each slider steps through its list of values.
    alt:      what the figure shows, for readers who cannot see it (required).
    initial:  starting value of each slider (default: the middle of its list).
    max_frames: refuses a grid of combinations larger than this, to keep pages light.
    dpi:      resolution of the pictures drawn in advance for the HTML book.
    """
    draw = checks.function(draw, "draw")
    alt = checks.text(alt, "alt")
    if len(alt.strip()) < 10:
        raise ValueError(
            f"alt must describe the figure in words (10+ characters), got {alt!r}"
        )
    max_frames = checks.integer(max_frames, "max_frames", minimum=1)
    dpi = checks.integer(dpi, "dpi", minimum=1)
    checked = _check_controls(controls, max_frames)
    initial = {} if initial is None else checks.instance(initial, "initial", Mapping)
    start = {n: values[len(values) // 2] for n, values in checked.items()}
    for n, value in initial.items():
        if n not in checked:
            raise ValueError(
                f"initial names {n!r}, which is not one of the controls {list(checked)}"
            )
        if value not in checked[n]:
            raise ValueError(
                f"initial[{n!r}] = {value!r} is not one of "
                f"controls[{n!r}] = {checked[n]}"
            )
        start[n] = value
    return InteractiveFigure(draw, checked, start, alt, dpi)
