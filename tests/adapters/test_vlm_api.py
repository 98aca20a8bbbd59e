"""`vlm-api` against a scripted OpenAI-compatible server on 127.0.0.1: what it sends, how it reads
answers, which failures it retries (the openai client's own retries), and how many requests it runs
at once. Runs of the harness with it are in tests/test_vlm_api_runs.py."""

from __future__ import annotations

import base64
import io
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from idg_adapters.base import AdapterUnavailable, PairInput
from idg_adapters.registry import create_adapter, get_adapter_class
from idg_adapters.vlm_api import HOW_TO_ENABLE, PLACEHOLDER_KEY, VlmApiAdapter
from tests.adapters.scripted_openai_server import (
    RecordedRequest,
    Reply,
    Script,
    ScriptedOpenAIServer,
    api_error,
    completion,
    scripted_servers,
)

MODEL = "test-model"
BOX = "[100, 250, 500, 750]"  # on the generic prompt's 0-1000 grid
FAST_RETRY = {"retry-after-ms": "1"}  # the client waits what the server asks (> 0), not its 0.5 s backoff


def box_reply(request: RecordedRequest) -> Reply:
    return Reply(body=completion(BOX, prompt_tokens=120, completion_tokens=12))


def expected_box(pair: PairInput) -> list[float]:
    width, height = pair.size
    return [0.1 * width, 0.25 * height, 0.5 * width, 0.75 * height]


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedOpenAIServer]]:
    """Starts scripted servers; all are stopped after the test."""
    with scripted_servers(MODEL) as start:
        yield start


def loaded(server: ScriptedOpenAIServer, **options: Any) -> VlmApiAdapter:
    adapter = VlmApiAdapter(base_url=server.base_url, model=MODEL, **options)
    adapter.load()
    return adapter


def decoded(url: str) -> Image.Image:
    header, data = url.split(",", 1)
    assert header in ("data:image/png;base64", "data:image/jpeg;base64"), header
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def test_registered_with_family_and_default_prompt() -> None:
    cls = get_adapter_class("vlm-api")
    assert cls is VlmApiAdapter and cls.family == "vlm-api"
    assert create_adapter("vlm-api").prompt.source.endswith("generic.yaml")


def test_boxes_are_read_into_b_pixels_with_reply_and_usage(serve, pairs: list[PairInput]) -> None:
    server = serve(box_reply)
    predictions = loaded(server).predict(pairs)
    for prediction, pair in zip(predictions, pairs, strict=True):
        assert prediction.error is None
        np.testing.assert_allclose(prediction.boxes, [expected_box(pair)])
        assert prediction.reply == BOX
        assert prediction.usage == {"prompt_tokens": 120, "completion_tokens": 12}
    assert len(server.chat_requests) == len(pairs)


def test_request_sends_system_then_images_in_order_then_text(serve, pairs: list[PairInput], tmp_path: Path) -> None:
    prompt = tmp_path / "with-system.yaml"
    prompt.write_text(
        "system: You compare two images.\npair: 'Find: {query}'\ncanvas: 'Side by side, find: {query}'\n"
        "convention: plain\ncoordinates: 0-1000\n"
    )
    server = serve(box_reply)
    adapter = loaded(server, prompt=str(prompt), temperature=0.25, seed=7, max_new_tokens=33)
    pair = pairs[0]
    adapter.predict([pair])
    (request,) = server.chat_requests
    body = request.body
    assert (body["model"], body["max_tokens"], body["temperature"], body["seed"]) == (MODEL, 33, 0.25, 7)
    assert body["messages"][0] == {"role": "system", "content": "You compare two images."}
    parts = body["messages"][1]["content"]
    assert body["messages"][1]["role"] == "user" and [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    for part, image in zip(parts[:2], (pair.image_a, pair.image_b), strict=True):
        np.testing.assert_array_equal(np.asarray(decoded(part["image_url"]["url"])), np.asarray(image))
    assert parts[2]["text"] == f"Find: {pair.query}"


def test_canvas_mode_sends_one_jpeg_image_and_no_system_message(serve, pairs: list[PairInput]) -> None:
    server = serve(box_reply)
    (prediction,) = loaded(server, mode="canvas", image_format="jpeg").predict([pairs[1]])
    (request,) = server.chat_requests
    (message,) = request.body["messages"]  # the generic prompt has no system text
    images = request.image_urls
    assert len(images) == 1 and images[0].startswith("data:image/jpeg;base64,")
    assert decoded(images[0]).size[0] > 2 * pairs[1].size[0]  # A|B side by side
    assert prediction.error is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_retried_statuses_until_the_retries_run_out(serve, pairs: list[PairInput], status: int) -> None:
    failing = pairs[1].query
    server = serve(lambda r: api_error(status, "try later", **FAST_RETRY) if failing in r.text else box_reply(r))
    predictions = loaded(server, max_retries=2).predict(pairs)
    asked = [r for r in server.chat_requests if failing in r.text]
    assert [r.attempt for r in asked] == [1, 2, 3]  # the first try and max_retries retries
    assert predictions[1].error is not None and len(predictions[1].boxes) == 0
    assert f"HTTP {status} after up to 3 attempt(s): try later" in predictions[1].error
    assert all(p.error is None for i, p in enumerate(predictions) if i != 1)  # the others are answered


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_are_not_retried(serve, pairs: list[PairInput], status: int) -> None:
    server = serve(lambda r: api_error(status, "bad request", **FAST_RETRY))
    (prediction,) = loaded(server, max_retries=3).predict([pairs[0]])
    assert len(server.chat_requests) == 1
    assert prediction.error is not None and f"HTTP {status} (not retried): bad request" in prediction.error


def test_429_then_success_waits_what_the_server_asks(serve, pairs: list[PairInput]) -> None:
    def script(request: RecordedRequest) -> Reply:
        if request.attempt == 1:  # 0.7 s: longer than the client's own first backoff (at most 0.5 s)
            return api_error(429, "slow down", **{"retry-after-ms": "700"})
        if request.attempt == 2:
            return api_error(429, "slow down", **FAST_RETRY)
        return box_reply(request)

    server = serve(script)
    (prediction,) = loaded(server, max_retries=4).predict([pairs[0]])
    assert prediction.error is None
    np.testing.assert_allclose(prediction.boxes, [expected_box(pairs[0])])
    first, second, third = server.chat_requests
    assert [first.attempt, second.attempt, third.attempt] == [1, 2, 3]
    assert second.started - first.started >= 0.7


def test_hanging_request_times_out_as_that_samples_error(serve, pairs: list[PairInput]) -> None:
    hanging = pairs[2].query
    server = serve(lambda r: Reply(body=completion(BOX), delay=30) if hanging in r.text else box_reply(r))
    adapter = loaded(server, timeout=0.3, max_retries=1)
    started = time.monotonic()
    predictions = adapter.predict(pairs)
    assert time.monotonic() - started < 5
    assert predictions[2].error is not None and "no answer within 0.3 s" in predictions[2].error
    assert len([r for r in server.chat_requests if hanging in r.text]) == 2
    assert all(p.error is None for i, p in enumerate(predictions) if i != 2)


@pytest.mark.parametrize("body", ['{"choices": [', "<html>gateway</html>", ""], ids=["torn", "html", "empty"])
def test_malformed_json_is_that_samples_error(serve, pairs: list[PairInput], body: str) -> None:
    server = serve(lambda r: Reply(body=body))
    (prediction,) = loaded(server).predict([pairs[0]])
    assert prediction.error is not None and "not valid JSON" in prediction.error
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html>bad gateway</html>", "text/html"), ('{"detail": "not a completion"}', "application/json")],
    ids=["html-page", "json-of-another-kind"],
)
def test_an_answer_that_is_not_a_chat_completion_is_an_error(serve, pairs, body: str, content_type: str) -> None:
    server = serve(lambda r: Reply(body=body, content_type=content_type))
    (prediction,) = loaded(server).predict([pairs[0]])
    assert prediction.error is not None and "not a chat completion" in prediction.error


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x", "object": "chat.completion", "created": 0, "model": MODEL, "choices": []},
        completion(None),
        completion(""),
        {k: v for k, v in completion("no box here").items() if k != "usage"},
    ],
    ids=["no-choices", "null-content", "empty-content", "text-without-box-or-usage"],
)
def test_answers_without_a_box_are_no_predictions(serve, pairs: list[PairInput], body: dict) -> None:
    server = serve(lambda r: Reply(body=body))
    (prediction,) = loaded(server).predict([pairs[0]])
    assert prediction.error is None and len(prediction.boxes) == 0
    assert prediction.reply == (body["choices"][0]["message"]["content"] or "" if body["choices"] else "")
    assert prediction.usage == ({"prompt_tokens": 100, "completion_tokens": 10} if "usage" in body else None)


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_requests_in_flight_are_bounded(serve, pairs: list[PairInput], max_concurrency: int) -> None:
    server = serve(lambda r: Reply(body=completion(BOX), delay=0.15))
    predictions = loaded(server, max_concurrency=max_concurrency).predict(pairs + pairs[::-1])
    assert all(p.error is None for p in predictions)
    assert server.max_in_flight == max_concurrency


def test_batches_are_at_least_max_concurrency() -> None:
    assert VlmApiAdapter(max_concurrency=6).preferred_batch_size(2) == 6
    assert VlmApiAdapter(max_concurrency=6).preferred_batch_size(16) == 16
    assert create_adapter("pixel-diff").preferred_batch_size(3) == 3  # the default: as asked


def test_api_key_from_the_named_variable_or_a_placeholder(serve, pairs, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(box_reply)
    monkeypatch.setenv("IDG_TEST_VLM_KEY", "sk-named-variable")
    loaded(server, api_key_env="IDG_TEST_VLM_KEY").predict([pairs[0]])
    monkeypatch.delenv("IDG_TEST_VLM_KEY")
    loaded(server, api_key_env="IDG_TEST_VLM_KEY").predict([pairs[0]])
    keys = [r.headers["authorization"] for r in server.chat_requests]
    assert keys == ["Bearer sk-named-variable", f"Bearer {PLACEHOLDER_KEY}"]


def test_an_error_text_that_quotes_the_key_is_masked(serve, pairs, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(lambda r: api_error(403, f"key {r.headers['authorization']} may not use this model"))
    monkeypatch.setenv("IDG_TEST_VLM_KEY", "sk-quoted-secret")
    (prediction,) = loaded(server, api_key_env="IDG_TEST_VLM_KEY").predict([pairs[0]])
    assert "sk-quoted-secret" not in prediction.error and "key Bearer *** may not" in prediction.error


def test_fingerprint_keeps_what_changes_answers_only() -> None:
    base = VlmApiAdapter(base_url="http://127.0.0.1:8000/v1", model="m")
    fetching = {"base_url": "http://10.0.0.1:9/v1", "api_key_env": "K", "max_concurrency": 2}
    same = VlmApiAdapter(model="m", timeout=5, max_retries=0, **fetching)
    assert same.fingerprint() == base.fingerprint()
    for change in (
        {"model": "other"},
        {"prompt": "qwen2-vl"},
        {"temperature": 0.5},
        {"seed": 1},
        {"max_new_tokens": 9},
        {"image_format": "jpeg"},
        {"resize": "qwen2.5-vl"},
        {"mode": "canvas"},
    ):
        options = {"base_url": "http://127.0.0.1:8000/v1", "model": "m", **change}
        assert VlmApiAdapter(**options).fingerprint() != base.fingerprint(), change


QWEN_BOX = '[{"bbox_2d": [28, 56, 280, 224], "label": "difference"}]'


def test_model_pixels_without_the_models_resize_are_errors_that_say_so(serve, pair_factory) -> None:
    pair = pair_factory("p", (640, 480), [], [((10, 10, 50, 50), (200, 0, 0))])
    server = serve(lambda r: Reply(body=completion(QWEN_BOX)))
    (unknown,) = loaded(server, prompt="qwen2.5-vl").predict([pair])
    assert unknown.error is not None and "model-pixels" in unknown.error and unknown.reply == QWEN_BOX


@pytest.mark.slow  # importing transformers takes seconds
def test_model_pixels_with_qwen25_vl_resize_use_smart_resize(serve, pair_factory) -> None:
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    pair = pair_factory("p", (640, 480), [], [((10, 10, 50, 50), (200, 0, 0))])
    server = serve(lambda r: Reply(body=completion(QWEN_BOX)))
    adapter = loaded(server, prompt="qwen2.5-vl", resize="qwen2.5-vl", max_pixels=200_000)
    (answer,) = adapter.answer([adapter.request_for(pair)])
    height, width = smart_resize(480, 640, factor=28, min_pixels=3136, max_pixels=200_000)
    assert answer.model_sizes == [(width, height), (width, height)] and (width, height) != (640, 480)
    (prediction,) = adapter.predict([pair])
    sx, sy = 640 / width, 480 / height
    np.testing.assert_allclose(prediction.boxes, [[28 * sx, 56 * sy, 280 * sx, 224 * sy]])


def test_unconfigured_or_unreachable_server_is_unavailable(serve) -> None:
    with pytest.raises(AdapterUnavailable) as unset:
        VlmApiAdapter().check()
    assert unset.value.how_to_enable == HOW_TO_ENABLE and "base_url and model" in unset.value.reason
    gone = serve(box_reply)
    gone.stop()
    with pytest.raises(AdapterUnavailable, match="no server answers at"):
        loaded(gone, max_retries=0)
    refusing = serve(box_reply)
    refusing.models_reply = api_error(401, "bad key")
    with pytest.raises(AdapterUnavailable, match="refused the key") as refused:
        loaded(refusing, api_key_env="IDG_TEST_VLM_KEY")
    assert "IDG_TEST_VLM_KEY" in refused.value.how_to_enable
    listless = serve(box_reply)
    listless.models_reply = api_error(404, "no model list here")
    loaded(listless).predict([])  # a server without GET /models still serves chat completions


@pytest.mark.parametrize(
    "options",
    [{"max_concurrency": 0}, {"timeout": 0}, {"max_retries": -1}, {"image_format": "gif"}, {"resize": "bicubic"}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        VlmApiAdapter(**options)


def test_an_interrupt_does_not_wait_for_requests_in_flight(serve, pairs: list[PairInput]) -> None:
    server = serve(lambda r: Reply(body=completion(BOX), delay=30))
    adapter = loaded(server, max_concurrency=2)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            adapter.predict(pairs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 3
    time.sleep(0.2)
    assert len(server.chat_requests) == 2  # the two in flight; no worker started another one
