"""The agent: a LangGraph state machine in which a chat model writes Python code actions."""
