"""A stand-in for the agent's universal_extension package, for the local runner only.

It implements the documented extension API and nothing more: the UniversalExtension base
class with its ``uip`` task context (exactly task_variables, is_triggered, trigger_id,
instance_id and monitor_id), ``extension_cancel`` and the 1.x API's
``update_extension_status``; ExtensionResult; the output-field update call
(``ui.update_output_fields``); and the Dynamic Choice command decorator
(``deco.dynamic_choice_command``). What the extension does through it is reported to the
runner by the host (agent_host.py).
"""


class _Uip(object):
    """The task instance context, as ``self.uip`` exposes it: these five and nothing else."""

    __slots__ = ("task_variables", "is_triggered", "trigger_id", "instance_id", "monitor_id")

    def __init__(self, context):
        self.task_variables = dict(context.get("task_variables") or {})
        self.is_triggered = bool(context.get("is_triggered", False))
        self.trigger_id = context.get("trigger_id")
        self.instance_id = context.get("instance_id")
        self.monitor_id = context.get("monitor_id")


#: Set by the host before it creates the Extension instance.
_context = {}
#: Set by the host: receives each update_extension_status call.
_status_sink = None


class UniversalExtension(object):
    """Base class of an extension: the agent calls extension_start and extension_cancel."""

    def __init__(self):
        self.uip = _Uip(_context)

    def extension_start(self, fields):
        raise NotImplementedError("the extension must implement extension_start")

    def extension_cancel(self):
        """Called when the task instance is cancelled; the default does nothing."""

    def update_extension_status(self, fields):
        """Send output-only field values to the task instance (the 1.x API's call)."""
        if not isinstance(fields, dict):
            raise TypeError("update_extension_status expects a dict of field names and values")
        if _status_sink is not None:
            _status_sink(dict(fields))


class ExtensionResult(object):
    """What extension_start returns; a Dynamic Choice command returns its choices in values."""

    def __init__(
        self, rc=0, message="", output_fields=None, unv_output=None, values=None, **kwargs
    ):
        self.rc = rc
        self.message = message
        self.output_fields = output_fields
        self.unv_output = unv_output
        self.values = values
        self.extra = kwargs
