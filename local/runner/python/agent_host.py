"""The runner's stand-in for the agent: runs an extension archive's extension.py.

    python3 -B agent_host.py <extension_archive.zip | unpacked folder>

Reads one JSON line on standard input: {"fields": {...}, "uip": {...}, "options":
{"output_fields_call": "ui.update_output_fields" | "update_extension_status"}} (the fields
as the agent hands them over: Script paths, Credential records and flattened parts). With
"update_extension_status" the ui module has no update_output_fields, as in the 1.x API. A
cancel arrives as SIGUSR1 (on Windows as a "cancel" line on standard input). Imports
``extension`` from the archive (from inside the zip, as zipimport does, or from the folder),
calls ``Extension().extension_start(fields)`` and ``extension_cancel()`` on a cancel.
Reports on file descriptor 3, one JSON object per line: {"event": "output-fields",
"fields": {...}, "call": "<the call used>"}, {"event": "result", "rc", "message",
"unv_output", "usage"} or {"event": "error", "message", "traceback"}. The extension's own
standard output and error stay this process's.

With {"dynamic_choice": "<field name>"} in the request, the host runs that field's choice
command instead (the method decorated ``@dynamic_choice_command("<field name>")``), with
the fields given, and reports {"event": "choices", "rc", "message", "values"}.
"""
import json
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))


def _traceback():
    import traceback

    return traceback.format_exc()


def _peak_kib(me):
    """This process's own peak RSS in KiB.

    Linux's VmHWM where there is one: getrusage's ru_maxrss also counts the memory of the
    process that started Python before it became Python (a fork of the benchmark's Node.js
    process), several MiB that are not Python's.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return me.ru_maxrss


def _point():
    """Peak RSS, CPU time and wake-ups of this process so far (for the benchmark)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    me = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "kib": _peak_kib(me),
        "cpu_ms": (me.ru_utime + me.ru_stime) * 1000,
        # Voluntary context switches: how often the process went to sleep and woke up.
        "wakeups": me.ru_nvcsw,
    }


def _usage(baseline):
    """This process's and its children's usage, and this process's before the extension."""
    now = _point()
    if now is None:
        return None
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "self_kib": now["kib"],
        "self_cpu_ms": now["cpu_ms"],
        "self_wakeups": now["wakeups"],
        "children_kib": children.ru_maxrss,
        # Before extension.py is imported: the interpreter, this host and the stand-in API.
        "baseline": baseline,
    }


def run_choice_command(instance, field_name, fields, report):
    """Call the Extension's choice command for a Dynamic Choice field, as the agent does."""
    from universal_extension.deco import FIELD_ATTRIBUTE

    commands = []
    for name in dir(type(instance)):
        method = getattr(instance, name, None)
        if callable(method) and getattr(method, FIELD_ATTRIBUTE, None) == field_name:
            commands.append(method)
    if len(commands) != 1:
        report({"event": "error", "message": "extension.py has %d choice commands for field %s"
                % (len(commands), field_name)})
        return 1
    try:
        result = commands[0](fields)
    except Exception as error:  # noqa: BLE001
        report({"event": "error", "message": "the choice command of %s raised %s"
                % (field_name, error), "traceback": _traceback()})
        return 1
    values = getattr(result, "values", None)
    report({
        "event": "choices",
        "rc": getattr(result, "rc", None),
        "message": getattr(result, "message", None),
        "values": list(values) if isinstance(values, (list, tuple)) else values,
    })
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


def main():
    archive = sys.argv[1]
    events = os.fdopen(3, "w", buffering=1, encoding="utf-8")
    lock = threading.Lock()

    def report(event):
        with lock:
            events.write(json.dumps(event) + "\n")
            events.flush()

    # The runner writes UTF-8, whatever the locale (LC_ALL=C with PYTHONUTF8=0 would read
    # "Zoë" as surrogates, which the agent never hands an extension).
    request = json.loads(sys.stdin.buffer.readline().decode("utf-8"))
    sys.path.insert(0, HERE)
    import universal_extension
    from universal_extension import ui

    universal_extension._context = request.get("uip") or {}
    ui._sink = lambda fields: report(
        {"event": "output-fields", "fields": fields, "call": "ui.update_output_fields"}
    )
    universal_extension._status_sink = lambda fields: report(
        {"event": "output-fields", "fields": fields, "call": "update_extension_status"}
    )
    options = request.get("options") or {}
    if options.get("output_fields_call") == "update_extension_status":
        del ui.update_output_fields  # An agent with the 1.x API only.
    baseline = _point()
    try:
        sys.path.insert(0, archive)
        import extension

        instance = extension.Extension()
    except Exception as error:  # noqa: BLE001 - reported to the runner
        report({"event": "error", "message": "cannot load extension.py from %s: %s" % (archive, error),
                "traceback": _traceback()})
        return 1

    field_name = request.get("dynamic_choice")
    if field_name is not None:
        return run_choice_command(instance, field_name, request.get("fields") or {}, report)

    def cancel():
        try:
            instance.extension_cancel()
        except Exception as error:  # noqa: BLE001
            report({"event": "error", "message": "extension_cancel raised %s" % error,
                    "traceback": _traceback()})

    def on_cancel_signal(signum, frame):
        # As the agent does, extension_cancel runs beside extension_start, not inside it.
        worker = threading.Thread(target=cancel, name="cancel")
        worker.daemon = True
        worker.start()

    def commands():
        for line in sys.stdin.buffer:
            if line.strip() == b"cancel":
                cancel()

    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, on_cancel_signal)
    else:  # Windows: the cancel command arrives on standard input.
        listener = threading.Thread(target=commands, name="commands")
        listener.daemon = True
        listener.start()
    try:
        result = instance.extension_start(request.get("fields") or {})
    except Exception as error:  # noqa: BLE001
        report({"event": "error", "message": "extension_start raised %s" % error,
                "traceback": _traceback()})
        return 1
    report({
        "event": "result",
        "rc": getattr(result, "rc", None),
        "message": getattr(result, "message", None),
        "unv_output": getattr(result, "unv_output", None),
        "usage": _usage(baseline),
    })
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
