"""Tools for authors and developers, never shipped in the Lambda zip: the interaction-model
generator, the text-to-intent matcher, the simulated device behind ``rls-coach chat`` and
``say``, and checks of a response against Alexa's rules."""
