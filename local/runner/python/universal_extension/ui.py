"""The output-field update call of the stand-in extension API."""

#: Set by the host: receives each update as the extension makes it.
_sink = None


def update_output_fields(fields):
    """Send output-only field values to the task instance, as they become known."""
    if not isinstance(fields, dict):
        raise TypeError("update_output_fields expects a dict of field names and values")
    if _sink is not None:
        _sink(dict(fields))
