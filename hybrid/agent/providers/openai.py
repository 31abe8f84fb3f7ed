"""OpenAI (and every OpenAI-compatible server: vLLM, llama.cpp's server): langchain-openai's chat model,
keeping what langchain-openai drops from streamed chunks: a refusal (`delta.refusal`), and the thinking
that reasoning models on vLLM and llama.cpp's server stream beside the reply (`delta.reasoning_content`)."""

from __future__ import annotations

from typing import Any

from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI


class OpenAIModel(ChatOpenAI):
    def _convert_chunk_to_generation_chunk(
        self, chunk: dict[str, Any], default_chunk_class: type, base_generation_info: dict[str, Any] | None
    ) -> ChatGenerationChunk | None:
        generation = super()._convert_chunk_to_generation_chunk(
            chunk, default_chunk_class, base_generation_info
        )
        choices = chunk.get("choices") or []
        delta = (choices[0].get("delta") if choices else None) or {}
        if generation is not None:
            for field in ("refusal", "reasoning_content"):
                if delta.get(field):
                    # Streamed in pieces like the text: merging the chunks joins them.
                    generation.message.additional_kwargs[field] = delta[field]
        return generation


def load(name: str, options: dict[str, Any], context_tokens: int | None) -> OpenAIModel:
    # The server itself answers a prompt longer than its context with an error the caller recognises.
    return OpenAIModel(model=name, **options)
