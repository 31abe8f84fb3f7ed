"""What the agent changes in a provider's LangChain chat model so that every reply is read whole: one
module per provider, imported only when that provider is used (each needs its own optional package).
Each has `load(name, options, context_tokens)`."""
