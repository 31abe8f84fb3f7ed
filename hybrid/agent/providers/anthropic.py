"""Anthropic: langchain-anthropic's chat model, keeping the usage the stream reports at its start
(`message_start`), which langchain-anthropic drops, for `TokenUsage.of` to count the input tokens when the
stream's end (`message_delta`) gives only the output ones, and when the stream breaks off before its end
(an `overloaded_error` mid-stream: the attempt was paid for).

Why a private method is overridden: langchain-anthropic reads the stream's events in
`_make_message_chunk_from_anthropic_event`, and since langchain-ai/langchain#32591 (Aug 2025) it reports
usage only at `message_delta`, on purpose (server-side tool use is billed there). Its public surface has
no hook that sees the raw events: callbacks (`on_llm_new_token`) get the chunk after conversion, without
the usage; `stream_usage` only switches the end's usage on or off; the SDK client is built inside the
model. Requests to report `message_start` usage again (langchain-ai/langchain#35509, open; #35510, #35532,
#35666) were not merged. If the override's signature changes, the provider tests
(`test_anthropic_input_tokens_are_read_from_message_start`) fail rather than the cost going wrong quietly.
"""

from __future__ import annotations

from typing import Any

from langchain_anthropic import ChatAnthropic
from langchain_anthropic.chat_models import _create_usage_metadata
from langchain_core.messages import AIMessageChunk

from hybrid.agent.cost import STREAM_START_USAGE


class AnthropicModel(ChatAnthropic):
    def _make_message_chunk_from_anthropic_event(
        self,
        event: Any,
        *,
        stream_usage: bool = True,
        coerce_content_to_string: bool,
        block_start_event: Any = None,
    ) -> tuple[AIMessageChunk | None, Any]:
        chunk, block = super()._make_message_chunk_from_anthropic_event(
            event,
            stream_usage=stream_usage,
            coerce_content_to_string=coerce_content_to_string,
            block_start_event=block_start_event,
        )
        usage = getattr(getattr(event, "message", None), "usage", None)
        if event.type == "message_start" and chunk is not None and usage is not None:
            chunk.response_metadata[STREAM_START_USAGE] = dict(_create_usage_metadata(usage))
        return chunk, block


def load(name: str, options: dict[str, Any], context_tokens: int | None) -> AnthropicModel:
    return AnthropicModel(model_name=name, **options)  # `model_name`: the alias its __init__ declares
