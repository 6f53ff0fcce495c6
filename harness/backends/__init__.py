"""Model backends: one narrow contract (`Backend`: a batch of requests in, a batch of responses out).

base            the contract, declared capabilities, error classes, the registry
hf/             transformers (+ peft) and the embedded Gemma
gemini/         google-genai: client, context cache, Batch API, tuning jobs
openai_compat   any OpenAI-compatible server (vLLM, llama.cpp, ...)
replay          outputs from a JSONL file (score another system's generations)
Backends classify errors; only harness.run.retry retries. May import: core, config.
"""
