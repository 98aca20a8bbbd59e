"""The multimodal-LLM box parser: each convention's form, several boxes in order, junk gives no boxes.

Round trips through the coordinate scales are in test_box_text_round_trip.py, fuzzing in
test_box_text_fuzz.py."""

from __future__ import annotations

import pytest

from idg_adapters.box_text import CONVENTIONS, parse_box_reply

PARSED = [
    # Qwen2-VL
    ("qwen2-vl", "<|box_start|>(10,20),(300,400)<|box_end|>", [(10, 20, 300, 400)]),
    (
        "qwen2-vl",
        "<|object_ref_start|>the cup<|object_ref_end|><|box_start|>( 1 , 2 ),( 3 , 4 )<|box_end|> and "
        "<|box_start|>(5,6),(7,8)<|box_end|>",
        [(1, 2, 3, 4), (5, 6, 7, 8)],
    ),
    ("qwen2-vl", "<|box_start|>(1.5,2.25),(3,4)<|box_end|>", [(1.5, 2.25, 3, 4)]),
    # InternVL2
    ("internvl2", "The change is at <ref>cup</ref><box>[[120, 80, 560, 900]]</box>.", [(120, 80, 560, 900)]),
    ("internvl2", "<box>[[1,2,3,4],[5,6,7,8]]</box>", [(1, 2, 3, 4), (5, 6, 7, 8)]),
    ("internvl2", "<box>[[9,9,10,10]]</box> then <box>[[1,1,2,2]]</box>", [(9, 9, 10, 10), (1, 1, 2, 2)]),
    # MiniCPM
    ("minicpm", "<box>12 34 56 78</box>", [(12, 34, 56, 78)]),
    ("minicpm", "<ref>a</ref><box>1 2 3 4</box><ref>b</ref><box> 5.5 6 7 8 </box>", [(1, 2, 3, 4), (5.5, 6, 7, 8)]),
    # Mantis
    ("mantis", "<box>[0.1, 0.2, 0.3, 0.4]</box>", [(0.1, 0.2, 0.3, 0.4)]),
    ("mantis", "first <box>[1, 2, 3, 4]</box>, second <box>[5,6,7,8]</box>", [(1, 2, 3, 4), (5, 6, 7, 8)]),
    # bbox-json (Qwen2.5-VL, Qwen3-VL): fenced or bare JSON, one object or a list of them
    ("bbox-json", '```json\n[{"bbox_2d": [12, 34, 56, 78], "label": "cup"}]\n```', [(12, 34, 56, 78)]),
    ("bbox-json", '{"bbox_2d":[1.5,2,3,4]}', [(1.5, 2, 3, 4)]),
    (
        "bbox-json",
        '[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"label": "b", "bbox_2d": [5, 6, 7, 8]}]',
        [(1, 2, 3, 4), (5, 6, 7, 8)],
    ),
    ("bbox-json", "{'bbox_2d': [1, 2, 3, 4]}", [(1, 2, 3, 4)]),
    # plain
    ("plain", "[10, 20, 30, 40]", [(10, 20, 30, 40)]),
    ("plain", "The box is [10.5, 20, 30, 40] or maybe [1,2,3,4].", [(10.5, 20, 30, 40), (1, 2, 3, 4)]),
    ("plain", "[[10, 20, 30, 40]]", [(10, 20, 30, 40)]),
    ("plain", "[-1, 2e1, 3, 4]", [(-1, 20, 3, 4)]),
    # boxes keep their corners as written, even flipped: the scorer decides what that means
    ("plain", "[30, 40, 10, 20]", [(30, 40, 10, 20)]),
]


@pytest.mark.parametrize(("convention", "reply", "boxes"), PARSED)
def test_each_convention_reads_its_boxes_in_order(convention: str, reply: str, boxes: list) -> None:
    assert parse_box_reply(reply, convention) == [tuple(float(v) for v in b) for b in boxes]


JUNK = [
    "",
    "I cannot find any difference between the two images.",
    "None",
    "<box></box>",
    "<box>[1, 2, 3]</box>",
    "<box>[[1, 2, 3]]</box>",
    "<box>1 2 3</box>",
    "<box>[1, 2, 3, 4, 5]</box>",
    "<box>[[1, 2, 3, 4, 5]]</box>",
    "<|box_start|>(1,2)<|box_end|>",
    "<|box_start|>(1,2),(3,4)",
    "[1, 2, three, 4]",
    "[1, 2, 3]",
    "[1e999, 2, 3, 4]",
    "<box>[1e999, 2, 3, 4]</box>",
    "<box>1e999 2 3 4</box>",
    "[" * 5000 + "1, 2, 3" + "]" * 5000,
    "<box>" * 2000,
    "\x00\ufffd<|box_start|>(x,y),(z,w)<|box_end|>",
]


@pytest.mark.parametrize("reply", JUNK)
@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_junk_gives_no_boxes_and_never_raises(convention: str, reply: str) -> None:
    assert parse_box_reply(reply, convention) == []


@pytest.mark.parametrize("reply", [None, 42, ["[1, 2, 3, 4]"], {"box": [1, 2, 3, 4]}])
def test_a_reply_that_is_not_text_gives_no_boxes(reply: object) -> None:
    assert parse_box_reply(reply, "plain") == []


@pytest.mark.parametrize(
    ("convention", "reply"),
    [
        # another convention's form is not read: the convention is declared, never guessed
        ("qwen2-vl", "<box>[[1, 2, 3, 4]]</box>"),
        ("internvl2", "<|box_start|>(1,2),(3,4)<|box_end|>"),
        ("internvl2", "<box>[1, 2, 3, 4]</box>"),
        ("minicpm", "<box>[1, 2, 3, 4]</box>"),
        ("mantis", "<box>1 2 3 4</box>"),
        ("mantis", "<box>[[1, 2, 3, 4]]</box>"),
        ("bbox-json", "<box>[1, 2, 3, 4]</box>"),
        ("bbox-json", '{"bbox": [1, 2, 3, 4]}'),
        ("qwen2-vl", '{"bbox_2d": [1, 2, 3, 4]}'),
    ],
)
def test_another_conventions_form_is_not_read(convention: str, reply: str) -> None:
    assert parse_box_reply(reply, convention) == []


def test_an_unknown_convention_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="unknown box convention 'llava'"):
        parse_box_reply("[1, 2, 3, 4]", "llava")


def test_conventions_that_fix_a_scale_say_so() -> None:
    assert {name: c.scale for name, c in CONVENTIONS.items()} == {
        "qwen2-vl": "0-1000",
        "internvl2": "0-1000",
        "minicpm": None,
        "mantis": None,
        "bbox-json": None,
        "plain": None,
    }
