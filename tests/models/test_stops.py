"""Stop sequences on streamed answer text, the same for every backend."""

from __future__ import annotations

from agent.models.scripted import ScriptedModel
from agent.models.stops import StopText, cut_at_stop


def test_text_is_cut_at_the_first_stop_sequence_found() -> None:
    assert cut_at_stop("a:\nb;\nc", [";\n", ":\n"]) == ("a", ":\n")
    assert cut_at_stop("no stop here", [":\n"]) == ("no stop here", None)
    assert cut_at_stop("anything", []) == ("anything", None)


def test_a_tail_that_may_begin_a_stop_is_held_back_until_it_is_known() -> None:
    sent: list[str] = []
    stops = StopText(sent.append, [":\n"])
    stops.feed("Ratio 3:")
    assert "".join(sent) == "Ratio 3"
    stops.feed("1 holds")
    assert "".join(sent) == "Ratio 3:1 holds" and stops.hit is None
    stops.feed(", list:")
    stops.feed("\n- one")
    assert "".join(sent) == "Ratio 3:1 holds, list" and stops.hit == ":\n"
    stops.feed("more")  # nothing after a stop is passed on
    assert stops.text == "Ratio 3:1 holds, list"


def test_an_answer_without_a_stop_is_passed_on_whole_once_flushed() -> None:
    sent: list[str] = []
    stops = StopText(sent.append, [":\n"])
    stops.feed("ends with a colon:")
    stops.flush()
    assert "".join(sent) == "ends with a colon:"


async def test_the_scripted_model_stops_where_a_real_one_would() -> None:
    model = ScriptedModel(["Here:\n- a\n- b"])
    streamed: list[str] = []
    response = await model.respond([], [], on_text=streamed.append, stop=[":\n"])
    assert (response.text, response.stop, "".join(streamed)) == ("Here", ":\n", "Here")
