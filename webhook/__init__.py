"""The self-hosted Flask webhook that serves the skill to Alexa."""
