"""Gemini through google-genai: the backend, context caching, the Batch API and tuning jobs.

client          `GeminiBackend` (AI Studio key or Vertex AI), error classification, cost
context_cache   stores the shared prompt prefix once per run (`model.context_cache=true`)
batch           the Batch API path (half price, hours of latency)
tuning          Vertex AI supervised tuning jobs and the tuning-data export
"""
