"""Restless Legs Coach: an Alexa skill that guides stretches for Restless Legs Syndrome."""
