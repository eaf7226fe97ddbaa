"""ask-sdk request handlers, one class per intent, grouped by capability."""
