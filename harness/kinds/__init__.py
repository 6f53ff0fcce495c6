"""Task kinds: classification, summarization, json, code. One small module each."""
