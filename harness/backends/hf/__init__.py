"""Causal LMs through transformers (+ peft adapters), and the embedded Gemma 3 270M.

backend    `HFBackend`: load, identify, route requests to generate or choice scoring
generate   batched generation and choice log-likelihoods (the forward passes)
embedded   the GGUF Gemma shipped in a PyPI package, converted once to safetensors
"""
