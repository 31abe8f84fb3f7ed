"""Model adapters: clear one-line errors, and a scripted model that behaves like a provider."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import HumanMessage

from hybrid.agent.cost import TokenUsage
from hybrid.agent.models import ModelError, ScriptedChatModel, load_chat_model, scripted_replies_for

pytestmark = pytest.mark.kernel


def test_scripted_model_replies_in_order_and_honours_stop_sequences() -> None:
    model = ScriptedChatModel(replies=scripted_replies_for(["x = 1", "finish(x)"]))
    first = model.invoke([HumanMessage("task")], stop=["\n```\n"])
    assert first.content == "Thought: Step 1 of 2 of the planned solution.\n```python\nx = 1"
    usage = TokenUsage.of(first)
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert "finish(x)" in model.invoke([HumanMessage("task")]).content
    with pytest.raises(ModelError, match="no reply left after 2"):
        model.invoke([HumanMessage("task")])


def test_scripted_model_from_files(tmp_path) -> None:
    listed = tmp_path / "replies.json"
    listed.write_text(json.dumps(["a", "b"]))
    assert load_chat_model(f"scripted:{listed}").replies == ["a", "b"]
    lines = tmp_path / "replies.jsonl"
    lines.write_text('"a"\n{"reply": "b"}\n')
    assert ScriptedChatModel.from_file(lines).replies == ["a", "b"]
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    with pytest.raises(ModelError, match="broken.json: not JSON"):
        ScriptedChatModel.from_file(broken)
    with pytest.raises(ModelError, match="does not exist"):
        load_chat_model("scripted:/nonexistent.json")


def test_bad_model_names_give_a_one_line_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="not provider:name"):
        load_chat_model("gpt-4o")
    monkeypatch.setenv("MISTRAL_API_KEY", "test")
    with pytest.raises(ModelError, match=r"pip install langchain-mistralai") as error:
        load_chat_model("mistralai:mistral-large-latest")  # a provider whose package is not installed
    assert "\n" not in str(error.value)
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    with pytest.raises(ModelError, match="pip install langchain-groq"):
        load_chat_model("groq:llama-3.3-70b")  # the package is named before the key
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelError, match="set ANTHROPIC_API_KEY"):
        load_chat_model("anthropic:claude-sonnet-4-5")
