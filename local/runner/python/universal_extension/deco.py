"""The decorators of the stand-in extension API.

``dynamic_choice_command("<field name>")`` marks the method of the Extension class that
lists a Dynamic Choice field's choices. The agent calls it with the form's current values
of the fields the template's choiceFields name (in extension_start's runtime shapes) and
expects ``ExtensionResult(rc, message, values=[...])``.
"""

#: The attribute that names, on a decorated method, the field it serves.
FIELD_ATTRIBUTE = "_dynamic_choice_field"


def dynamic_choice_command(field_name):
    """Mark a method as the choice command of the Dynamic Choice field ``field_name``."""

    def mark(method):
        setattr(method, FIELD_ATTRIBUTE, field_name)
        return method

    return mark
