"""`vlm-api`: a multimodal LLM behind any OpenAI-compatible chat-completions endpoint.

vLLM, SGLang, LMDeploy, llama.cpp's server and hosted APIs all speak `POST /v1/chat/completions`;
this adapter asks them through the official `openai` client:

    harness run --models vlm-api --opt vlm-api.base_url=http://127.0.0.1:8000/v1 --opt vlm-api.model=NAME

One request per sample: a system message when the prompt has one, then one user message with the
images in order (A then B in `pair` mode, the A|B canvas in `canvas` mode) as base64 data URLs, then
the prompt's text. The answer's text is read by the prompt's declared convention and scale
(`vlm_adapter.py`); `response.usage` gives the tokens (summed into run.json's `tokens`).

Options, beyond those of every VLM adapter:
- `base_url`, `model` (both required: `harness models` says how to set them);
- `api_key_env`: the NAME of the environment variable that holds the key (default
  OPENAI_API_KEY). When it is unset the placeholder key "EMPTY" is sent, which local servers
  accept. The key itself is never stored: not in the options, run.json, predictions, the cache
  or an error message (an error text that quotes it gets it masked);
- `max_concurrency` (8): requests in flight at once; the runner's batches are made at least this
  big (`preferred_batch_size`), and predictions are written after every batch, so a kill loses at
  most that many answers;
- `timeout` (60 s per attempt) and `max_retries` (4): the `openai` client's own retries, which
  back off exponentially with jitter (0.5 s doubling up to 8 s), honour a server's
  `retry-after-ms` / `Retry-After` (up to 2 minutes), and retry 408, 409, 429, 5xx, timeouts and
  connection errors, never another 4xx;
- `temperature` (0.0) and `seed` (0), sent with every request; `max_new_tokens` is sent as
  `max_tokens`;
- `image_format`: `png` (lossless, the default) or `jpeg` (quality 95, smaller requests);
- `resize`, `min_pixels`, `max_pixels`: how the server's model resizes images, needed only when
  the prompt's boxes are on `model-pixels` (`model_input_sizes.py`; `resize=none` leaves such
  answers per-sample errors that say so).

The fingerprint that keys the prediction cache leaves out what cannot change an answer
(`base_url`, `api_key_env`, `max_concurrency`, `timeout`, `max_retries`): a server restarted on
another port keeps the cache. A failed request (a 4xx, retries exhausted, a timeout, an answer that
is not JSON) is an error for that sample only, and errors are not cached, so a resumed run asks
again; a chat completion without choices or text is a reply of "" (a no-prediction), while a
body that is not a chat completion at all (an HTML page from a proxy) is an error.

Requests run on daemon threads, so Ctrl-C or SIGTERM stops the run at once instead of waiting for
the requests in flight.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from PIL import Image

from idg_adapters.base import AdapterUnavailable
from idg_adapters.model_input_sizes import (
    QWEN25_VL_MAX_PIXELS,
    QWEN25_VL_MIN_PIXELS,
    check_resize,
    check_resize_available,
    model_input_size,
)
from idg_adapters.registry import register
from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest

PLACEHOLDER_KEY = "EMPTY"
"""Sent when the key's environment variable is unset: local servers take any key."""

IMAGE_FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg")}
JPEG_QUALITY = 95
UNCACHEABLE_OPTIONS = ("base_url", "api_key_env", "max_concurrency", "timeout", "max_retries")
"""Options that change how answers are fetched, never what they are: kept out of the fingerprint."""
RETRIED_STATUSES = (408, 409, 429)  # and every 5xx: the statuses the openai client retries
MAX_ERROR_TEXT = 500
HOW_TO_ENABLE = "--opt vlm-api.base_url=http://127.0.0.1:8000/v1 --opt vlm-api.model=NAME"

T = TypeVar("T")
R = TypeVar("R")


class VlmApiError(RuntimeError):
    """A request that got no usable answer; the message says why (never with the key)."""


def image_data_url(image: Image.Image, image_format: str) -> str:
    """`image` encoded as a base64 data URL (`data:image/png;base64,...`)."""
    pil_format, mime = IMAGE_FORMATS[image_format]
    buffer = io.BytesIO()
    options = {"quality": JPEG_QUALITY} if pil_format == "JPEG" else {}
    image.save(buffer, format=pil_format, **options)
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def chat_messages(request: VlmRequest, image_format: str) -> list[dict[str, Any]]:
    """The chat messages of one request: the system text (if any), then images in order and the text."""
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": image_data_url(image, image_format)}} for image in request.images
    ]
    content.append({"type": "text", "text": request.text})
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
    return [*messages, {"role": "user", "content": content}]


def reply_text(response: Any) -> str:
    """The first choice's text; "" for a response without choices or content (a no-prediction)."""
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def token_usage(response: Any) -> dict[str, int] | None:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    return {
        "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
        "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
    }


def map_bounded(fn: Callable[[T], R], items: list[T], max_workers: int) -> list[R]:
    """`[fn(item) for item in items]` on at most `max_workers` daemon threads, results in order.

    `fn` must not raise. Daemon threads (not a ThreadPoolExecutor, whose workers are joined when
    the interpreter exits) let an interrupt end the process without waiting for slow requests; on
    an interrupt the workers start no new item.
    """
    if max_workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    results: list[Any] = [None] * len(items)
    pending = iter(range(len(items)))
    lock = threading.Lock()
    stopped = threading.Event()

    def work() -> None:
        while not stopped.is_set():
            with lock:
                index = next(pending, None)
            if index is None:
                return
            results[index] = fn(items[index])

    threads = [
        threading.Thread(target=work, name=f"vlm-api-{i}", daemon=True) for i in range(min(max_workers, len(items)))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C or SIGTERM in the main thread: leave the requests in flight behind
        stopped.set()
        raise
    return results


@register("vlm-api")
class VlmApiAdapter(VlmAdapter):
    """Any OpenAI-compatible chat-completions server (vLLM, SGLang, LMDeploy, llama.cpp, hosted APIs)."""

    family: ClassVar[str] = "vlm-api"
    description = (
        "A multimodal LLM behind an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, LMDeploy, "
        "llama.cpp server, hosted APIs), asked through the openai client."
    )
    default_prompt = "generic"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        opts = self.options
        if int(opts["max_concurrency"]) < 1:
            raise ValueError(f"{self.name}: max_concurrency must be >= 1, got {opts['max_concurrency']!r}")
        if int(opts["max_retries"]) < 0:
            raise ValueError(f"{self.name}: max_retries must be >= 0, got {opts['max_retries']!r}")
        if float(opts["timeout"]) <= 0:
            raise ValueError(f"{self.name}: timeout must be > 0 seconds, got {opts['timeout']!r}")
        if float(opts["temperature"]) < 0:
            raise ValueError(f"{self.name}: temperature must be >= 0, got {opts['temperature']!r}")
        if opts["image_format"] not in IMAGE_FORMATS:
            raise ValueError(f"{self.name}: image_format must be one of {', '.join(IMAGE_FORMATS)}")
        check_resize(str(opts["resize"]))
        if not 0 < int(opts["min_pixels"]) <= int(opts["max_pixels"]):
            raise ValueError(
                f"{self.name}: need 0 < min_pixels <= max_pixels, got {opts['min_pixels']!r}, {opts['max_pixels']!r}"
            )
        self._client: Any = None
        self._secret: str | None = None  # only to mask it in error texts; never written anywhere

    @classmethod
    def backend_options(cls) -> dict[str, Any]:
        return {
            "base_url": "",  # e.g. http://127.0.0.1:8000/v1
            "model": "",  # the name the server serves the model under
            "api_key_env": "OPENAI_API_KEY",  # the environment variable holding the key (not the key)
            "max_concurrency": 8,
            "timeout": 60.0,  # seconds per attempt
            "max_retries": 4,
            "temperature": 0.0,
            "seed": 0,
            "image_format": "png",
            "resize": "none",  # how the server's model resizes images (for model-pixels answers)
            "min_pixels": QWEN25_VL_MIN_PIXELS,
            "max_pixels": QWEN25_VL_MAX_PIXELS,
        }

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        parts["options"] = {k: v for k, v in self.options.items() if k not in UNCACHEABLE_OPTIONS}
        return parts

    def preferred_batch_size(self, requested: int) -> int:
        """Batches of at least `max_concurrency` samples, so every worker has a request to send."""
        return max(requested, int(self.options["max_concurrency"]))

    def check(self) -> None:
        missing = [key for key in ("base_url", "model") if not str(self.options[key]).strip()]
        if missing:
            raise AdapterUnavailable(
                f"no OpenAI-compatible server configured ({' and '.join(missing)} not set)", HOW_TO_ENABLE
            )
        if importlib.util.find_spec("openai") is None:  # found, not imported: importing it takes seconds
            raise AdapterUnavailable("the openai package is not installed", "pip install openai")
        check_resize_available(str(self.options["resize"]))

    def load(self, device: str = "cpu") -> None:
        """A client for the server, after a cheap check that something answers at `base_url`.

        The device is the server's business. An unreachable server or a refused key makes the model
        unavailable (skipped, with the reason); a server without `GET /models` is fine.
        """
        self.check()
        import openai

        opts = self.options
        self._secret = os.environ.get(str(opts["api_key_env"])) or None
        self._client = openai.OpenAI(
            base_url=str(opts["base_url"]),
            api_key=self._secret or PLACEHOLDER_KEY,
            timeout=float(opts["timeout"]),
            max_retries=int(opts["max_retries"]),
        )
        try:
            self._client.with_options(max_retries=min(1, int(opts["max_retries"]))).models.list()
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise AdapterUnavailable(
                f"the server at {opts['base_url']} refused the key (HTTP {exc.status_code})",
                f"put the key in the environment variable {opts['api_key_env']} (or name another with "
                "--opt vlm-api.api_key_env=NAME)",
            ) from None
        except openai.APIConnectionError as exc:  # timeouts included
            raise AdapterUnavailable(
                f"no server answers at {opts['base_url']} ({self._masked(str(exc))})",
                f"start the server, or give the address it listens on: {HOW_TO_ENABLE}",
            ) from None
        except (openai.OpenAIError, ValueError, TypeError):
            pass  # it answered: a server without a model list still serves chat completions

    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:
        if self._client is None:
            raise RuntimeError(f"{self.name}: load() must be called before predict()")
        return map_bounded(self._answer_one, requests, int(self.options["max_concurrency"]))

    def _answer_one(self, request: VlmRequest) -> VlmAnswer | Exception:
        """One request's answer, or the error that stands for it (never raised: one sample's failure)."""
        opts = self.options
        try:
            resize, low, high = str(opts["resize"]), int(opts["min_pixels"]), int(opts["max_pixels"])
            sizes = [model_input_size(image.size, resize, low, high) for image in request.images]
            messages = chat_messages(request, str(opts["image_format"]))
        except Exception as exc:  # an image the model's resizing rule refuses (aspect ratio > 200)
            return VlmApiError(f"cannot build the request: {type(exc).__name__}: {exc}")
        try:
            response = self._client.chat.completions.create(
                model=str(opts["model"]),
                messages=messages,
                max_tokens=int(opts["max_new_tokens"]),
                temperature=float(opts["temperature"]),
                seed=int(opts["seed"]),
            )
        except Exception as exc:  # every failure is this sample's error; the run goes on
            return VlmApiError(self._masked(self._describe(exc)))
        if getattr(response, "choices", None) is None:  # a page of another kind (HTML from a proxy, say)
            return VlmApiError(f"the server's answer is not a chat completion: {str(response)[:200]!r}")
        model_sizes = [size for size in sizes if size is not None]
        return VlmAnswer(reply_text(response), token_usage(response), model_sizes)

    def _describe(self, exc: Exception) -> str:
        """What went wrong with a request, in words that name the option to change."""
        import openai

        opts = self.options
        tries = int(opts["max_retries"]) + 1
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {float(opts['timeout']):g} s (the timeout option), {tries} attempt(s)"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return f"cannot reach {opts['base_url']} after {tries} attempt(s): {type(cause).__name__}: {cause}"
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            retried = status in RETRIED_STATUSES or status >= 500
            how = f"after up to {tries} attempt(s)" if retried else "(not retried)"
            body = exc.body if isinstance(exc.body, dict) else {}
            message = body.get("message") if isinstance(body.get("message"), str) else exc.message
            return f"HTTP {status} {how}: {str(message)[:MAX_ERROR_TEXT]}"
        if isinstance(exc, json.JSONDecodeError):
            return f"the server's answer is not valid JSON ({exc.msg} at char {exc.pos})"
        return f"{type(exc).__name__}: {str(exc)[:MAX_ERROR_TEXT]}"

    def _masked(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text
