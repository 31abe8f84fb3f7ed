"""What a model call costs, from the usage the provider reported and the price table of the `genai-prices`
package (maintained upstream, shipped inside the package: nothing is downloaded at run time).

Cached input tokens are priced as cached (reads at the provider's discount, writes at its surcharge).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from hybrid.agent.model_spec import SCRIPTED_PREFIX

# Where a provider module puts the usage a stream reported at its start (a LangChain `usage_metadata` dict
# in the first chunk's `response_metadata`), for `TokenUsage.of` to read beside the final usage.
STREAM_START_USAGE = "stream_start_usage"


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one reply as the provider reported them; `input_tokens` includes the cached ones."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def of(cls, message: BaseMessage) -> TokenUsage:
        """The reply's usage. Anthropic reports input tokens when the stream starts (`message_start`) and
        the final counts at its end (`message_delta`), where older streams and Anthropic-compatible servers
        give only the output tokens: each count is the larger of the two (both are cumulative), so input is
        counted whether or not the end repeats it, and even when the stream ended early."""
        reported = cls._read(getattr(message, "usage_metadata", None) or {})
        metadata: dict[str, Any] = getattr(message, "response_metadata", None) or {}
        started = cls._read(metadata.get(STREAM_START_USAGE) or {})
        return cls(*(max(a, b) for a, b in zip(astuple(reported), astuple(started), strict=True)))

    @classmethod
    def _read(cls, usage: dict[str, Any]) -> TokenUsage:
        details: dict[str, Any] = usage.get("input_token_details") or {}
        return cls(
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cache_read_tokens=int(details.get("cache_read") or 0),
            cache_write_tokens=int(details.get("cache_creation") or 0),
        )

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class Pricing:
    """Prices the replies of one model (`provider:name`); `None` where the table does not know the model
    (a local Ollama model, a scripted one, a self-hosted server's own name)."""

    def __init__(self, spec: str) -> None:
        provider, _, name = spec.partition(":")
        self.provider = provider
        # A scripted model replays fixed replies: it costs nothing, and has no name in the table.
        self.name = "" if spec.startswith(SCRIPTED_PREFIX) or spec == SCRIPTED_PREFIX[:-1] else name

    def cost(self, usage: TokenUsage, served_model: str | None = None) -> float | None:
        """USD for one reply; `served_model` is the name the provider answered with (often a dated
        version of the configured one), tried first."""
        if not self.name:
            return None
        # Loaded on the first priced reply: the table is about 18 MiB in memory.
        from genai_prices import Usage, calc_price

        for model in dict.fromkeys(m for m in (served_model, self.name) if m):
            try:
                price = calc_price(
                    Usage(
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                        cache_read_tokens=usage.cache_read_tokens,
                        cache_write_tokens=usage.cache_write_tokens,
                    ),
                    model_ref=model,
                    provider_id=self.provider,
                )
            except LookupError:
                continue
            return float(price.total_price)
        return None

    @property
    def known(self) -> bool:
        """Whether the table has a price for the configured model."""
        return self.cost(TokenUsage(input_tokens=1)) is not None
