from tests.fakes.fixtures import gemini_fake, openai_fake, planted_key

__all__ = ["gemini_fake", "openai_fake", "planted_key"]
