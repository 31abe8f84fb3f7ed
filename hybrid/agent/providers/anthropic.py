"""Anthropic: langchain-anthropic's chat model, keeping the usage the stream reports at its start
(`message_start`), which langchain-anthropic drops, for `TokenUsage.of` to count the input tokens when the
stream's end (`message_delta`) gives only the output ones."""

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
