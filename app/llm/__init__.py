"""Writing text for salespeople: an OpenAI-compatible model when one is configured, and an
offline template writer that needs no network and is used whenever the model is not."""
