"""Local servers that speak the OpenAI Chat Completions, Anthropic Messages and Ollama chat protocols on
127.0.0.1 and answer from a script, so the real provider packages (langchain-openai, langchain-anthropic,
langchain-ollama) and their SDKs are exercised over HTTP exactly as against the hosted services.

A script decides each reply (`Turn`): its text, or an HTTP error with an optional Retry-After, a delay
(for timeouts), a refusal, cached-token counts, an error inside a stream already answered with 200, after
its first piece of text (as Anthropic sends `overloaded_error`, OpenAI a `server_error` chunk and Ollama an
`{"error": ...}` line when its model runner stops), usage at the stream's end without the input tokens
(as older Anthropic streams and Anthropic-compatible servers do). The server honours stop sequences or,
like some servers and models, ignores them; it streams when asked to (server-sent events for OpenAI and
Anthropic, JSON lines for Ollama) and reports usage in each provider's own shape. The Ollama server answers
`/api/show` with the model's context size and, like Ollama, runs the model with a context of `num_ctx`
tokens (4,096 unless the request sets it), silently dropping the start of a longer prompt. Every request
body is kept, with the tokens of each request answered.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Protocol = Literal["openai", "anthropic", "ollama"]
OLLAMA_DEFAULT_CONTEXT = 4096
PROTOCOLS: tuple[Protocol, ...] = ("openai", "anthropic", "ollama")
# Names the price table knows for the two hosted providers; Ollama models have no price.
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest", "ollama": "qwen2.5-coder"}


@dataclass(frozen=True)
class Turn:
    """What the server does for one request."""

    text: str = ""
    status: int = 200
    error: str = "The server is overloaded."
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering: longer than the client's timeout makes a timeout
    refusal: str | None = None
    cached_tokens: int = 0
    blocks: bool = False  # the text as content blocks (with a thinking block first, for Anthropic)
    error_type: str | None = None  # the error body's `type` (OpenAI-compatible servers: llama.cpp's own)
    # An error of this type inside the stream, after the first piece of text (Anthropic: `event: error`;
    # OpenAI-compatible servers: a chunk `{"error": {...}}`; Ollama: a line `{"error": "..."}`, whose
    # message this is, as Ollama's errors have no type), before any usage is sent at the stream's end.
    stream_error: str | None = None
    output_only_usage: bool = False  # Anthropic: `message_delta` carries only the output tokens
    # The model's thinking: `delta.reasoning_content` (vLLM, llama.cpp's server); Ollama's `message.thinking`
    # when the request asks for it (`think`), else inside the content between <think> tags, as Ollama
    # gives a thinking model's thoughts when not asked.
    reasoning: str | None = None
    # OpenAI: why the reply ended; `content_filter` when the provider's filter stopped it (Azure OpenAI).
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Conversation:
    """A request, read the same way for every protocol."""

    system: str
    messages: list[tuple[str, str]]  # (role, text) after the system prompt
    stop: list[str]
    body: dict[str, Any]

    @property
    def replies_so_far(self) -> int:
        return sum(role == "assistant" for role, _ in self.messages)


Script = Callable[[Conversation], Turn]


def in_order(*turns: Turn | str) -> Script:
    """A script that answers with `turns` one after another (a string is a text reply)."""
    queue = [t if isinstance(t, Turn) else Turn(text=t) for t in turns]
    lock = threading.Lock()

    def next_turn(_: Conversation) -> Turn:
        with lock:
            if not queue:
                return Turn(status=500, error="The script has no reply left.")
            return queue.pop(0)

    return next_turn


@dataclass
class ModelServer:
    protocol: Protocol
    script: Script
    honour_stop: bool = True
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    context_length: int = 32768  # Ollama: the model's own context size, as /api/show reports it
    num_ctx: int | None = None  # Ollama: the context its Modelfile sets (`PARAMETER num_ctx`), if any
    truncated: list[int] = field(default_factory=list)  # Ollama: messages dropped from each cut prompt
    prompt_tokens: list[int] = field(default_factory=list)  # the input tokens of each request answered
    completion_tokens: list[int] = field(default_factory=list)  # and its output tokens, whole
    broken_off: list[str] = field(default_factory=list)  # the text streamed before each `stream_error`
    thinking: bool = False  # Ollama: the model can think (`/api/show` lists the capability)

    @property
    def model(self) -> str:
        """`--model` for this server."""
        return f"{self.protocol}:{MODELS[self.protocol]}"

    @property
    def url(self) -> str:
        """`--base-url` for this server (the OpenAI SDK appends /chat/completions to a /v1 base)."""
        return f"{self.base_url}/v1" if self.protocol == "openai" else self.base_url


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or [] if isinstance(block, dict))


def read_conversation(protocol: Protocol, body: dict[str, Any]) -> Conversation:
    messages = [(m["role"], _text(m.get("content"))) for m in body.get("messages", [])]
    if protocol == "anthropic":
        system = _text(body.get("system"))
        stop = body.get("stop_sequences") or []
    else:
        system = "".join(text for role, text in messages if role == "system")
        messages = [(role, text) for role, text in messages if role != "system"]
        stop = (body.get("options") or {}).get("stop") if protocol == "ollama" else body.get("stop")
        stop = [stop] if isinstance(stop, str) else stop or []
    return Conversation(system=system, messages=messages, stop=stop, body=body)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def ollama_context(server: ModelServer, conversation: Conversation) -> Conversation:
    """What an Ollama model sees of `conversation`: it runs with `num_ctx` tokens of context and drops the
    oldest messages after the system prompt until the prompt fits (the last message is always kept)."""
    limit = (conversation.body.get("options") or {}).get("num_ctx") or OLLAMA_DEFAULT_CONTEXT
    messages = list(conversation.messages)
    while len(messages) > 1 and _tokens(conversation.system + "".join(t for _, t in messages)) > limit:
        messages.pop(0)
    if len(messages) < len(conversation.messages):
        server.truncated.append(len(conversation.messages) - len(messages))
    return Conversation(conversation.system, messages, conversation.stop, conversation.body)


def _pieces(text: str, count: int = 3) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _sse(events: list[tuple[str | None, Any]]) -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        for event, data in events:
            head = f"event: {event}\n" if event else ""
            payload = data if isinstance(data, str) else json.dumps(data)
            yield f"{head}data: {payload}\n\n".encode()
            await asyncio.sleep(0)

    return stream()


def _ndjson(lines: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        for line in lines:
            yield (json.dumps(line) + "\n").encode()
            await asyncio.sleep(0)

    return stream()


class Reply:
    """One scripted reply, cut at the stop sequence when the server honours it."""

    def __init__(self, server: ModelServer, conversation: Conversation, turn: Turn) -> None:
        self.turn = turn
        text, self.stopped_by = turn.text, None
        if server.honour_stop:
            cuts = [(text.find(s), s) for s in conversation.stop if s in text]
            if cuts:
                at, self.stopped_by = min(cuts)
                text = text[:at]
        self.text = text
        self.prompt_tokens = _tokens(conversation.system + "".join(t for _, t in conversation.messages))
        self.completion_tokens = _tokens(text)


def _openai(reply: Reply, model: str, stream: bool, include_usage: bool) -> Response:
    turn = reply.turn
    usage = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
    }
    head = {"id": "chatcmpl-1", "created": 1_700_000_000, "model": f"{model}-2024-07-18"}
    if not stream:
        content: Any = (
            [{"type": "text", "text": p} for p in _pieces(reply.text, 2)] if turn.blocks else reply.text
        )
        message = {"role": "assistant", "content": None if turn.refusal else content, "refusal": turn.refusal}
        return JSONResponse(
            head
            | {
                "object": "chat.completion",
                "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            }
        )
    chunk = head | {"object": "chat.completion.chunk"}
    deltas = (
        [{"role": "assistant", "refusal": turn.refusal}]
        if turn.refusal
        else [{"role": "assistant", "content": piece} for piece in _pieces(reply.text)]
    )
    if turn.reasoning:
        deltas.insert(0, {"role": "assistant", "content": None, "reasoning_content": turn.reasoning})
    events: list[tuple[str | None, Any]] = [
        (None, chunk | {"choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in deltas
    ]
    if turn.stream_error:  # OpenAI's own shape of an error after 200 (`type` server_error, rate_limit…)
        error = {
            "message": "The server had an error while processing your request.",
            "type": turn.stream_error,
        }
        cut = next(i for i, d in enumerate(deltas) if d.get("content")) + 1
        return StreamingResponse(
            _sse([*events[:cut], (None, {"error": error | {"param": None, "code": None}})]),
            media_type="text/event-stream",
        )
    events.append(
        (None, chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": turn.finish_reason}]})
    )
    if include_usage:
        events.append((None, chunk | {"choices": [], "usage": usage}))
    events.append((None, "[DONE]"))
    return StreamingResponse(_sse(events), media_type="text/event-stream")


def _anthropic(reply: Reply, model: str, stream: bool) -> Response:
    turn = reply.turn
    stop_reason = "refusal" if turn.refusal else "stop_sequence" if reply.stopped_by else "end_turn"
    text = turn.refusal or reply.text
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": p} for p in (_pieces(text, 2) if turn.blocks else [text])
    ]
    if turn.blocks:
        blocks.insert(
            0, {"type": "thinking", "thinking": "Let me think about the API first.", "signature": "c2ln"}
        )
    usage = {
        "input_tokens": reply.prompt_tokens - turn.cached_tokens,
        "output_tokens": reply.completion_tokens,
        "cache_read_input_tokens": turn.cached_tokens,
        "cache_creation_input_tokens": 0,
    }
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "stop_reason": stop_reason,
        "stop_sequence": reply.stopped_by,
    }
    if not stream:
        return JSONResponse(message | {"content": blocks, "usage": usage})
    events: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": message
                | {
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage | {"output_tokens": 1},
                },
            },
        )
    ]
    for index, block in enumerate(blocks):
        if turn.stream_error and block["type"] == "text":
            events += [
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": _pieces(block["text"])[0]},
                    },
                ),
                ("error", {"type": "error", "error": {"type": turn.stream_error, "message": "Overloaded"}}),
            ]
            return StreamingResponse(_sse(events), media_type="text/event-stream")
        if block["type"] == "thinking":
            events += [
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": block["thinking"]},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "signature_delta", "signature": block["signature"]},
                    },
                ),
            ]
        else:
            events.append(
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            events += [
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
                for piece in _pieces(block["text"])
            ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": reply.stopped_by},
                "usage": {"output_tokens": reply.completion_tokens} if turn.output_only_usage else usage,
            },
        ),  # the final, cumulative usage
        ("message_stop", {"type": "message_stop"}),
    ]
    return StreamingResponse(_sse(events), media_type="text/event-stream")


def _ollama(reply: Reply, model: str, stream: bool, think: bool) -> Response:
    final = {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "done": True,
        "done_reason": "stop",
        "total_duration": 1000,
        "load_duration": 10,
        "prompt_eval_count": reply.prompt_tokens,
        "prompt_eval_duration": 100,
        "eval_count": reply.completion_tokens,
        "eval_duration": 100,
    }
    if not stream:
        return JSONResponse(final | {"message": {"role": "assistant", "content": reply.text}})
    thinking = reply.turn.reasoning
    messages = [{"role": "assistant", "content": piece} for piece in _pieces(reply.text)]
    if thinking and think:
        messages[:0] = [{"role": "assistant", "content": "", "thinking": p} for p in _pieces(thinking)]
    elif thinking:
        messages.insert(0, {"role": "assistant", "content": f"<think>{thinking}</think>\n"})
    lines = [
        {"model": model, "created_at": "2026-01-01T00:00:00Z", "done": False, "message": message}
        for message in messages
    ]
    if reply.turn.stream_error:  # Ollama's error after content: one more line, no status, no type
        cut = next(i for i, m in enumerate(messages) if m["content"]) + 1
        return StreamingResponse(
            _ndjson([*lines[:cut], {"error": reply.turn.stream_error}]), media_type="application/x-ndjson"
        )
    lines.append(final | {"message": {"role": "assistant", "content": ""}})
    return StreamingResponse(_ndjson(lines), media_type="application/x-ndjson")


def _error(protocol: Protocol, turn: Turn) -> Response:
    headers = {"retry-after": turn.retry_after} if turn.retry_after is not None else {}
    if protocol == "openai" and turn.error_type:
        body: dict[str, Any] = {
            "error": {"code": turn.status, "message": turn.error, "type": turn.error_type}
        }
    elif protocol == "openai":
        code = (
            "context_length_exceeded"
            if turn.status == 400
            else "rate_limit_exceeded"
            if turn.status == 429
            else None
        )
        body = {"error": {"message": turn.error, "type": "invalid_request_error", "code": code}}
    elif protocol == "anthropic":
        kind = {400: "invalid_request_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(
            turn.status, "api_error"
        )
        body = {"type": "error", "error": {"type": kind, "message": turn.error}}
    else:
        body = {"error": turn.error}
    return JSONResponse(body, status_code=turn.status, headers=headers)


def create_app(server: ModelServer) -> Starlette:
    async def answer(request: Request) -> Response:
        body = await request.json()
        server.requests.append(body)
        conversation = read_conversation(server.protocol, body)
        if server.protocol == "ollama":
            conversation = ollama_context(server, conversation)
        turn = server.script(conversation)
        if turn.delay:
            await asyncio.sleep(turn.delay)
        if turn.status >= 400:
            return _error(server.protocol, turn)
        reply = Reply(server, conversation, turn)
        server.prompt_tokens.append(reply.prompt_tokens)
        server.completion_tokens.append(reply.completion_tokens)
        if turn.stream_error:
            server.broken_off.append(_pieces(reply.text)[0])
        model = body.get("model", MODELS[server.protocol])
        if server.protocol == "openai":
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return _openai(reply, model, bool(body.get("stream")), include_usage)
        if server.protocol == "anthropic":
            return _anthropic(reply, model, bool(body.get("stream")))
        if body.get("think") and not server.thinking:  # as Ollama answers for a model that cannot think
            return JSONResponse({"error": f'"{model}" does not support thinking'}, status_code=400)
        return _ollama(reply, model, body.get("stream", True), bool(body.get("think")))

    async def show(request: Request) -> Response:
        body = await request.json()
        return JSONResponse(
            {
                "modelfile": "",
                # As Ollama lists a Modelfile's parameters: one a line, the value aligned in a column.
                "parameters": 'stop                           "<|im_end|>"'
                + (f"\nnum_ctx                        {server.num_ctx}" if server.num_ctx else ""),
                "template": "",
                "details": {"format": "gguf", "family": "qwen2"},
                "model_info": {
                    "general.architecture": "qwen2",
                    "general.basename": body.get("model", MODELS["ollama"]),
                    "qwen2.context_length": server.context_length,
                },
                "capabilities": ["completion", "thinking"] if server.thinking else ["completion"],
            }
        )

    path = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "ollama": "/api/chat"}[
        server.protocol
    ]
    return Starlette(
        routes=[Route(path, answer, methods=["POST"]), Route("/api/show", show, methods=["POST"])]
    )


@contextmanager
def model_server(
    protocol: Protocol,
    script: Script,
    *,
    honour_stop: bool = True,
    context_length: int = 32768,
    num_ctx: int | None = None,
    thinking: bool = False,
) -> Iterator[ModelServer]:
    """Serve `protocol` on a free 127.0.0.1 port in a background thread for the duration of the block."""
    server = ModelServer(
        protocol=protocol,
        script=script,
        honour_stop=honour_stop,
        context_length=context_length,
        num_ctx=num_ctx,
        thinking=thinking,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(server), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    runner = uvicorn.Server(config)
    runner.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    thread = threading.Thread(
        target=runner.run, kwargs={"sockets": [sock]}, name=f"{protocol}-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            runner.should_exit = True
            sock.close()
            raise RuntimeError(f"The {protocol} protocol server did not start within 10 s.")
        time.sleep(0.005)
    server.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield server
    finally:
        runner.should_exit = True
        thread.join(timeout=10)
        sock.close()


def reference_script(
    tasks: list[Any], *, imagined_next_step: bool = False, blocks: bool = False, cached_tokens: int = 0
) -> Script:
    """Replies with each task's reference solution, one step per reply, finding the task by its intent in
    the conversation. `imagined_next_step` makes the model go on past its code block, as models do when a
    server ignores the stop sequence: an imagined observation, then a wrong `finish`."""
    from hybrid.agent.models import scripted_replies_for

    def respond(conversation: Conversation) -> Turn:
        task = next(t for t in tasks if t.intent in conversation.messages[0][1])
        replies = scripted_replies_for(task.reference_solution)
        text = replies[min(conversation.replies_so_far, len(replies) - 1)]
        if imagined_next_step:
            text += "Observation: 42\n```python\nfinish('imagined, never to run')\n```\n"
        return Turn(text=text, blocks=blocks, cached_tokens=cached_tokens)

    return respond
