"""Events: the catalogue, the outbox, routing, durable delivery, session observers and completion.

See docs/events.md. Kept import-light on purpose: the transcript store imports the outbox,
and workflow code imports :mod:`runtime.events.types`.
"""
