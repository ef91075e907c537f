"""The Universal Extension bridge: runs the bundled Node.js program for the agent.

The agent imports this module from the extension archive and calls
``Extension().extension_start(fields)``. The bridge reads the Script fields from the files
the agent names and takes each Credential from its record or its flattened parts, finds
Node.js 20 or newer, makes the bundled program runnable (the archive may be imported from
inside its zip), writes the task's fields to the program's 0600 fields file, starts
``node <bundle>`` in its own process group, relays its output and its output-only field
updates, forwards a cancel, and returns the program's exit code, status description and
extension output document.

It holds no AWS logic and no field rules: the program validates everything. It only
turns what the agent hands over into the program's shapes, and refuses (exit code 20)
what cannot be turned: a Script file it cannot read as UTF-8 text within the field's
limit, a Credential record that disagrees with its flattened parts. Standard library
only, Python 3.7 syntax (agents bundle Python 3.7 or 3.11).

It imports only what every start needs (json, which brings re; stat, which os has loaded
already; subprocess, which brings errno, select, signal and threading); shutil, zipfile and
tempfile are imported only on the paths that use them. While the program runs, the
bridge sleeps in one poll() on a pipe that carries the output-only field updates and on
the program's end: no timer, no periodic read.
"""
import errno
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import threading
import time

from universal_extension import ExtensionResult, UniversalExtension

try:
    from universal_extension import ui
except ImportError:  # pragma: no cover - an agent without the ui module
    ui = None

try:
    from universal_extension.deco import dynamic_choice_command
except ImportError:  # pragma: no cover - an agent without Dynamic Choice commands

    def dynamic_choice_command(field_name):
        """Without the agent's decorator the methods stay plain methods."""
        return lambda method: method

# catalog:start (generated from src/fields/catalog.ts by npm run generate)
EXTENSION_NAME = "ue-aws-stepfunctions"
VERSION = "0.1.0"
BUNDLE_NAME = "ue-aws-stepfunctions.cjs"
OUTPUT_FIELDS = (
    "execution_arn",
    "execution_status",
    "generated_execution_name",
    "map_run_progress",
)
#: (name, label, limit in bytes of UTF-8): the agent hands each over as a file's path.
SCRIPT_FIELDS = (
    ("input", "Input", 262144),
    ("task_output", "Task Output", 262144),
)
#: (name, label): the agent hands each over as a record and/or <name>.<part> keys.
CREDENTIAL_FIELDS = (
    ("credentials", "AWS Credentials"),
    ("proxy_credentials", "Proxy Credentials"),
)
#: The keys of the extension output's invocation.fields.
DOCUMENT_FIELDS = (
    "action",
    "region",
    "endpoint_url",
    "credentials_user",
    "credentials_password",
    "credentials_token",
    "role_based_access",
    "role_arn",
    "role_external_id",
    "state_machine_arn",
    "state_machine",
    "execution",
    "execution_name",
    "input",
    "trace_header",
    "wait_for_success_or_failure",
    "polling_interval",
    "maximum_wait",
    "maximum_wait_action",
    "stop_execution_on_cancel",
    "rerun_behaviour",
    "target_execution_arn",
    "monitor_polling_interval",
    "monitor_maximum_wait",
    "stop_monitored_on_cancel",
    "error",
    "cause",
    "task_token",
    "task_output",
    "use_proxy",
    "proxy_type",
    "proxy",
    "proxy_ca_bundle_file",
    "proxy_credentials_user",
    "proxy_credentials_password",
)
# catalog:end

#: Agent-side settings (environment variables of the agent process).
NODE_SETTING = "UE_AWS_STEPFUNCTIONS_NODE"
CACHE_SETTING = "UE_AWS_STEPFUNCTIONS_CACHE"
CANCEL_WAIT_SETTING = "UE_AWS_STEPFUNCTIONS_CANCEL_WAIT"
LIST_TIMEOUT_SETTING = "UE_AWS_STEPFUNCTIONS_LIST_TIMEOUT"

MINIMUM_NODE_MAJOR = 20
DEFAULT_CANCEL_WAIT_SECONDS = 30.0
#: Longest a picker's list may take before the program is stopped (the form waits for it).
DEFAULT_LIST_TIMEOUT_SECONDS = 60.0
OUTPUT_FIELDS_POLL_SECONDS = 0.1

#: Copies of the bundle kept in the private cache, one per archive version, newest first.
KEEP_BUNDLE_COPIES = 3
#: An older copy found or made within this time is not removed (a task may be about to run it).
COPY_IN_USE_SECONDS = 600
#: A run folder whose bridge process is gone is removed once it is this old (seconds).
STALE_RUN_FOLDER_SECONDS = 600
#: The run folders are looked over at most this often (seconds): with a thousand tasks
#: waiting, a look costs about 5 ms; the time of the last is the marker file's.
STALE_RUN_FOLDER_CHECK_SECONDS = 60
STALE_RUN_FOLDER_MARKER = ".run-folders-checked"

#: The program reads its standard input for this line when UE_CANCEL_ON_STDIN=1: a cancel
#: that needs no console (a console break cannot be sent where the agent has none).
CANCEL_LINE = b"cancel\n"

#: The program's exit code for field values that cannot be used (the bridge uses it too).
EXIT_DATA_VALIDATION = 20
#: The bridge's own exit codes (the program never gives 29 or 30).
EXIT_NODE_UNAVAILABLE = 29
EXIT_BRIDGE_ERROR = 30
EXIT_CANCELLED = 27


class BridgeError(Exception):
    """A failure of the bridge itself, with the exit code and status word it maps to."""

    def __init__(self, message, code=EXIT_BRIDGE_ERROR):
        super(BridgeError, self).__init__(message)
        self.code = code

    @property
    def word(self):
        return "NODE_UNAVAILABLE" if self.code == EXIT_NODE_UNAVAILABLE else "BRIDGE_ERROR"


class FieldsError(Exception):
    """Field values the agent handed over that cannot be passed on (exit code 20)."""

    def __init__(self, problems):
        noun = "field is" if len(problems) == 1 else "fields are"
        super(FieldsError, self).__init__(
            "%d %s invalid:\n  %s" % (len(problems), noun, "\n  ".join(problems))
        )
        self.problems = problems


def log(level, message):
    """One log line on the task's standard error, in the program's format."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    _write_stderr("%s.%03dZ %s bridge: %s\n" % (stamp, int(now % 1 * 1000), level, message))


def _write_stderr(text):
    """Text on the task's standard error. One that cannot be written (closed, None, its reader
    gone) is lost, as the program's own log then is: the task goes on to its result."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


def _host_tag():
    """This host's name, letters and digits only: run folders carry it, so that a cache
    folder shared by several hosts (UE_AWS_STEPFUNCTIONS_CACHE on a network share) never
    has one host judge another's process ids."""
    name = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
    return re.sub(r"[^A-Za-z0-9]", "", name)[:24] or "host"


def _unique(prefix):
    """A name no other task uses at the same moment: process id, host, random part."""
    return "%s%d-%s-%s" % (prefix, os.getpid(), _host_tag(), os.urandom(6).hex())


def _temp_root():
    """The system's folder for temporary files (tempfile is imported only where needed)."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        if os.environ.get(name):
            return os.environ[name]
    if os.name == "nt":
        import tempfile

        return tempfile.gettempdir()
    return "/tmp"


def absolute_temp(env):
    """Makes the temporary folder Node will use absolute in the program's environment.

    Node's os.tmpdir() reads TMPDIR, TMP, TEMP (Windows: TEMP, TMP) and keeps a relative
    one as it is; the program starts in its run folder, where it would name a folder no
    other task sees (no shared status checks). The first one set, when relative, is taken
    from the agent's working directory, as for the bridge's folder, when a folder is
    there; an absolute one, or none, is left as it is.
    """
    for name in ("TEMP", "TMP") if os.name == "nt" else ("TMPDIR", "TMP", "TEMP"):
        value = env.get(name)
        if value:
            break
    else:
        return
    if os.path.isabs(value):
        return
    try:
        resolved = os.path.abspath(value)
    except OSError:
        return  # the agent's working directory has been removed
    if os.path.isdir(resolved):
        env[name] = resolved


def bridge_document(code, description):
    """The document returned when the program gave none (its keys, nothing reached).

    Every field key is there, as null: the bridge echoes no value (the program decides
    what may be shown), so the document stays valid against the program's schema.
    """
    return json.dumps(
        {
            "exit_code": code,
            "status_description": description,
            "changed": False,
            "invocation": {
                "extension": EXTENSION_NAME,
                "version": VERSION,
                "fields": dict((key, None) for key in DOCUMENT_FIELDS),
            },
            "result": None,
        }
    )


# --- Node.js -------------------------------------------------------------------------


def _write_atomically(path, data, mode=0o600):
    """Write bytes to path through a temporary file and a rename in the same folder."""
    tmp = os.path.join(os.path.dirname(path), _unique(".tmp-"))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _node_version(node, cache_root):
    """The version text of a node executable; remembered per file, so it costs one run."""
    real = os.path.realpath(node)
    info = os.stat(real)
    key = "%s|%d|%d" % (real, info.st_size, int(info.st_mtime))
    memo_path = os.path.join(cache_root, "node-versions.json")
    try:
        with open(memo_path, "r") as memo_file:
            memo = json.load(memo_file)
    except (OSError, ValueError):
        memo = {}
    if isinstance(memo, dict) and isinstance(memo.get(key), str):
        return memo[key]
    try:
        out = subprocess.run(
            [node, "--version"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BridgeError("%s cannot be run: %s" % (node, error), EXIT_NODE_UNAVAILABLE)
    version = out.decode("utf-8", "replace").strip()
    if not isinstance(memo, dict):
        memo = {}
    memo[key] = version
    try:
        _write_atomically(memo_path, json.dumps(memo).encode("utf-8"))
    except OSError:
        pass  # Only a cache: the next task asks node again.
    return version


#: The names node has on Windows, in the order tried: what CreateProcess starts by itself.
#: PATHEXT is not read: a node.bat or node.cmd would run through cmd.exe, which parses the
#: arguments again and stands between the bridge and node (a kill ends cmd.exe, not node).
#: libuv, which Node's own spawn uses, and the C runtime's spawn functions try the same two.
WINDOWS_NODE_NAMES = ("node.com", "node.exe")


def _path_folders(path, windows):
    """The folders a PATH value lists. On Windows, double quotes are taken out as the
    command shell does (``"C:\\Program Files\\nodejs"``), and a semicolon between them
    belongs to the folder's name; no Windows file name holds a double quote."""
    if not windows:
        return path.split(":")
    folders = [""]
    quoted = False
    for char in path:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            folders.append("")
        else:
            folders[-1] += char
    return folders


def _absolute_folder(folder, windows):
    """Whether a PATH folder names the same place whatever the working directory is: on
    Windows a drive with its root (C:\\) or a share (\\\\server\\share); not \\tools, which
    is on the working directory's drive, though os.path.isabs says so before Python 3.13."""
    if not windows:
        return os.path.isabs(folder)
    import ntpath

    drive, rest = ntpath.splitdrive(folder)
    return drive[:2] in ("\\\\", "//") or (drive != "" and rest[:1] in ("\\", "/"))


def _runnable_file(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def which_node(path, windows=None, is_file=None):
    """The first node in the absolute folders of the PATH value path; None when none has one.

    windows and is_file stand for this system (os.name, a runnable file) unless given. An
    empty or relative entry would name the agent's working directory, which is no place to
    take a program from: it is skipped. Not shutil.which: on Windows, before Python 3.12, it
    looks in the working directory first whatever path says.
    """
    windows = os.name == "nt" if windows is None else windows
    is_file = _runnable_file if is_file is None else is_file
    if windows:
        import ntpath

        join, names = ntpath.join, WINDOWS_NODE_NAMES
    else:
        join, names = os.path.join, ("node",)
    for folder in _path_folders(path, windows):
        if not _absolute_folder(folder, windows):
            continue
        for name in names:
            candidate = join(folder, name)
            if is_file(candidate):
                return candidate
    return None


def setting_path(text, windows=None):
    """The path an agent setting holds, without surrounding blanks and, on Windows (windows
    stands for os.name unless given), without double quotes: ``set NAME="C:\\Program
    Files\\nodejs"`` in the command shell keeps them in the value, and no Windows file name
    holds one."""
    if os.name == "nt" if windows is None else windows:
        text = text.replace('"', "")
    return text.strip()


def find_node(cache_root, environ=None):
    """Path of Node.js 20 or newer: the agent setting first, then PATH."""
    environ = os.environ if environ is None else environ
    configured = setting_path(environ.get(NODE_SETTING, ""))
    if configured:
        where = "%s=%s" % (NODE_SETTING, configured)
        # The file checked is the file started, from the run's own folder: a relative
        # setting is taken from the agent's working directory once, here.
        try:
            node = os.path.abspath(configured)
        except OSError:
            node = configured  # The working directory is gone: the setting names no file.
        if os.path.isdir(node):
            node = os.path.join(node, "node.exe" if os.name == "nt" else "node")
        if not os.path.isabs(node) or not os.path.isfile(node):
            raise BridgeError(
                "Node.js %d or newer is needed; %s names no file" % (MINIMUM_NODE_MAJOR, where),
                EXIT_NODE_UNAVAILABLE,
            )
    else:
        path = environ.get("PATH")
        shown = path if path else "PATH is empty" if path == "" else "PATH is not set"
        where = "%s (not set), then node on PATH (%s)" % (NODE_SETTING, shown)
        node = which_node(path or "")
        if node is None:
            raise BridgeError(
                "Node.js %d or newer is needed and was not found; looked at %s"
                % (MINIMUM_NODE_MAJOR, where),
                EXIT_NODE_UNAVAILABLE,
            )
    version = _node_version(node, cache_root)
    match = re.match(r"^v(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise BridgeError(
            "%s (found through %s) does not answer --version like Node.js (%r)"
            % (node, where, version[:80]),
            EXIT_NODE_UNAVAILABLE,
        )
    if int(match.group(1)) < MINIMUM_NODE_MAJOR:
        raise BridgeError(
            "Node.js %d or newer is needed; %s (found through %s) is %s"
            % (MINIMUM_NODE_MAJOR, node, where, version),
            EXIT_NODE_UNAVAILABLE,
        )
    return node


# --- The bundled program -------------------------------------------------------------


def _windows_user(environ):
    """The agent's user name, for the private folder's name on Windows: USERNAME, else the
    name Windows gives the process (os.getlogin asks GetUserNameW there), so that accounts
    without the variable do not all share one folder."""
    name = environ.get("USERNAME", "").strip()
    if name:
        return name
    try:
        return os.getlogin()
    except OSError:
        return "user"


def cache_root(environ=None):
    """The private folder for copies of the bundle and per-run files (0700, ours only)."""
    environ = os.environ if environ is None else environ
    root = setting_path(environ.get(CACHE_SETTING, ""))
    if not root:
        owner = str(os.getuid()) if hasattr(os, "getuid") else _windows_user(environ)
        root = os.path.join(_temp_root(), "%s-%s" % (EXTENSION_NAME, owner))
    try:
        # The program starts in its run folder, so every path handed to it must be absolute:
        # a relative TMPDIR or setting is taken from the agent's working directory once, here
        # (which fails when that folder has been removed).
        root = os.path.abspath(root)
        os.makedirs(root, mode=0o700, exist_ok=True)
    except OSError as error:
        raise BridgeError("cannot create the bridge's folder %s: %s" % (root, error))
    if hasattr(os, "getuid"):
        info = os.stat(root)
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise BridgeError(
                "the bridge's folder %s must belong to this user with mode 0700 "
                "(owner %d, mode %o); remove it or set %s"
                % (root, info.st_uid, info.st_mode & 0o777, CACHE_SETTING)
            )
    return root


def _archive_of_this_module():
    """(zip path, folder inside it) when this module was imported from inside a zip."""
    loader = globals().get("__loader__")
    archive = getattr(loader, "archive", None)
    if archive and os.path.isfile(archive):
        return archive, getattr(loader, "prefix", "") or ""
    # Walk up from __file__ until a file (the zip) is reached.
    path = os.path.abspath(__file__)
    inner = []
    while True:
        parent, name = os.path.split(path)
        if parent == path:
            return None, None
        inner.insert(0, name)
        path = parent
        if os.path.isfile(path):
            return path, "/".join(inner[:-1])


def bundle_path(root):
    """A path node can run: beside this file, or a private copy made once per version."""
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.join(here, BUNDLE_NAME)
    if os.path.isfile(beside):
        return beside
    archive, prefix = _archive_of_this_module()
    if archive is None:
        raise BridgeError("the bundled program %s is missing beside %s" % (BUNDLE_NAME, here))
    # Whether a failure came while writing the copy (a full or read-only folder), not
    # while reading the archive.
    writing = False
    try:
        info = os.stat(archive)
        # One copy per version of the archive: its version, size and modification time.
        folder = os.path.join(
            root, "%s-%x-%x" % (VERSION, info.st_size, int(info.st_mtime))
        )
        target = os.path.join(folder, BUNDLE_NAME)
        if os.path.isfile(target):
            _mark_used(folder)
            return target
        import zipfile

        member = (prefix.replace("\\", "/").rstrip("/") + "/" if prefix else "") + BUNDLE_NAME
        with zipfile.ZipFile(archive) as zipped:
            entry = zipped.getinfo(member)
            writing = True
            try:
                os.makedirs(folder, mode=0o700)
            except FileExistsError:
                pass
            # Many tasks may start at once: each writes its own temporary file and renames
            # it into place; a rename replaces atomically, and every copy is identical.
            tmp = os.path.join(folder, _unique(".copy-"))
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    writing = False
                    with zipped.open(entry) as source:
                        # Only the reads of the archive are not writing.
                        while True:
                            writing = False
                            chunk = source.read(1024 * 1024)
                            writing = True
                            if not chunk:
                                break
                            out.write(chunk)
                if os.path.getsize(tmp) != entry.file_size:
                    raise OSError("the copy is %d bytes, not %d" % (os.path.getsize(tmp), entry.file_size))
                os.chmod(tmp, 0o500)
                try:
                    os.replace(tmp, target)
                except OSError:
                    # Windows renames onto no read-only file, nor one node has open: another
                    # task has put its identical copy there meanwhile.
                    if not (os.path.isfile(target) and os.path.getsize(target) == entry.file_size):
                        raise
                    _discard(tmp)
            except BaseException:
                _discard(tmp)
                raise
            prune_copies(root, os.path.basename(folder))
            return target
    except Exception as error:  # noqa: BLE001 - OSError, KeyError, BadZipFile, ...
        if writing:
            raise BridgeError(
                "cannot copy the bundled program %s into the bridge's folder %s: %s (%s may "
                "name another folder)" % (BUNDLE_NAME, root, error, CACHE_SETTING)
            )
        raise BridgeError(
            "cannot read the bundled program %s from the extension archive %s: %s"
            % (BUNDLE_NAME, archive, error)
        )


def _discard(path):
    """Remove a temporary file of ours if it is there (Windows removes no read-only file:
    it is made writable first); a failure only leaves the file behind."""
    try:
        os.chmod(path, 0o600)
        os.remove(path)
    except OSError:
        pass


def _send_cancel_line(process):
    """Write the cancel line to the program's standard input; None once written, else why
    not (the program has closed it, or has ended)."""
    try:
        process.stdin.write(CANCEL_LINE)
        process.stdin.flush()
    except (OSError, ValueError, AttributeError) as error:
        # BrokenPipeError (an OSError); ValueError: the bridge closed it as the program
        # ended; AttributeError: no pipe at all.
        return "%s: %s" % (type(error).__name__, error)
    return None


def _close_input(process):
    """Close the program's standard input once it has ended (a failure means it is gone)."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except (OSError, ValueError):
        pass


def _kill_now(process):
    """End a program this bridge started at once: its whole process group on POSIX (it
    was started in a group of its own); a failure means it is gone already."""
    try:
        if os.name == "nt":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass


_COPY_FOLDER = re.compile(r"^.+-([0-9a-f]+)-([0-9a-f]+)$")


def _mark_used(folder):
    """Date a copy's folder now: prune_copies leaves a copy used lately alone."""
    try:
        os.utime(folder, None)
    except OSError:
        pass  # Only a date: the copy is kept anyway while it is among the newest.


def prune_copies(root, current, keep=KEEP_BUNDLE_COPIES):
    """Remove the copies of older archive versions, keeping the newest few and `current`.

    Newest by the archive's modification time in the folder name. A copy a task found or
    made within COPY_IN_USE_SECONDS stays too (its folder's date, see _mark_used): that
    task may not have started node on it yet, and node would find no program. Once node
    runs, removing its file is harmless on POSIX; where it is not (Windows) the removal
    fails and the copy stays. A failed cleanup never fails the task.
    """
    now = time.time()
    try:
        copies = []
        for name in os.listdir(root):
            match = _COPY_FOLDER.match(name)
            if match and os.path.isfile(os.path.join(root, name, BUNDLE_NAME)):
                copies.append((int(match.group(2), 16), name))
        copies.sort(reverse=True)
        kept = [name for _, name in copies[:keep]]
        old = [name for _, name in copies if name not in kept and name != current]
    except Exception as error:  # noqa: BLE001 - housekeeping never fails the task
        log("WARN", "could not list the old copies of the bundle in %s: %s" % (root, error))
        return
    for name in old:
        folder = os.path.join(root, name)
        try:
            if now - os.stat(folder).st_mtime < COPY_IN_USE_SECONDS:
                continue
            for entry in os.listdir(folder):
                path = os.path.join(folder, entry)
                os.chmod(path, 0o600)  # The copy is read-only, which Windows does not remove.
                os.remove(path)
            os.rmdir(folder)
        except Exception as error:  # noqa: BLE001 - housekeeping never fails the task
            log("WARN", "could not remove the old copy of the bundle %s: %s" % (folder, error))


# --- Fields --------------------------------------------------------------------------


def _runtime_value(value):
    """A field value in the program's runtime shape; None means not set."""
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value if item is not None and item != ""]
        return items or None
    if isinstance(value, dict):
        return value or None
    return str(value)


class _ScriptProblem(Exception):
    """Why a Script field's file cannot be used."""


#: Longest field value a message shows whole; a longer one is cut (it may be a script's
#: text of up to 256 KiB that was handed over in place of a path).
SHOWN_VALUE_LIMIT = 160


def _shown(value):
    """A field value as a message shows it: whole when short, else a cut prefix; on one line."""
    if len(value) > SHOWN_VALUE_LIMIT:
        value = "%s... (%d characters)" % (value[:80], len(value))
    return value.replace("\r", "\\r").replace("\n", "\\n")


#: What open() answers for a value that cannot be a path at all (too long a name, a part
#: that is no folder, characters Windows refuses): like a missing file, the value may be
#: the script's text itself.
_NOT_A_PATH = frozenset(
    getattr(errno, name) for name in ("ENAMETOOLONG", "ENOTDIR", "EINVAL") if hasattr(errno, name)
)


def read_script(label, limit, value):
    """The text of the file a Script field names; None when not set (no path, empty file).

    Reads at most limit + 1 bytes, so a huge file costs no memory; the text must be UTF-8.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _ScriptProblem(
            "expected the path of the script file the agent wrote, got a %s" % type(value).__name__
        )
    where = "the script file %s" % _shown(value)
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(value, flags)
    except IsADirectoryError:
        raise _ScriptProblem("%s is a directory; expected a file" % where)
    except (OSError, ValueError) as error:
        # ValueError: a NUL byte, no path at all.
        if isinstance(error, (FileNotFoundError, ValueError)) or error.errno in _NOT_A_PATH:
            text = _script_text_itself(label, limit, value)
            if text is not None:
                return text
            if isinstance(error, ValueError):
                raise _ScriptProblem("expected the path of the script file the agent wrote")
            raise _ScriptProblem("%s does not exist; expected a readable file" % where)
        raise _ScriptProblem(
            "%s cannot be read (%s); expected a readable file" % (where, error.strerror or error)
        )
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _ScriptProblem("%s is a directory; expected a file" % where)
        raise _ScriptProblem("%s is not a regular file; expected a file" % where)
    with os.fdopen(fd, "rb") as source:
        try:
            data = source.read(limit + 1)
        except OSError as error:
            raise _ScriptProblem(
                "%s cannot be read (%s); expected a readable file"
                % (where, error.strerror or error)
            )
    if len(data) > limit:
        raise _ScriptProblem(
            "%s is %d bytes; %s takes at most %d bytes of UTF-8"
            % (where, max(info.st_size, len(data)), label, limit)
        )
    if not data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _ScriptProblem(
            "%s is not UTF-8 text (byte %d is not valid UTF-8); expected UTF-8 text"
            % (where, error.start + 1)
        )


def _script_text_itself(label, limit, value):
    """The value itself when it is no file's path but JSON text (both Script fields hold
    JSON): an agent that hands over the script's text rather than a temporary file's path
    still works. None when it is not JSON; JSON text over the field's limit is refused."""
    bare = value.strip()
    if not bare.startswith(("{", "[", '"')) and bare not in ("true", "false", "null"):
        try:
            float(value)
        except ValueError:
            return None
    try:
        json.loads(value)
    except ValueError:
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise _ScriptProblem(
            "the script's text handed over in place of a file's path is %d bytes; %s takes at "
            "most %d bytes of UTF-8" % (size, label, limit)
        )
    log(
        "INFO",
        "%s: the agent handed over the script's text, not a file's path; using it as it is"
        % label,
    )
    return value


#: The Credential parts passed on; keyLocation and passphrase never leave the bridge.
CREDENTIAL_PARTS = ("user", "password", "token")


def _part(value):
    """A credential part as text; None means not set ("")."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def credential_value(name, label, fields, problems):
    """A Credential from its record, its flattened <name>.<part> keys, or both (which must
    agree); None when not set. Problems never show a value."""
    record = fields.get(name)
    flat = dict(
        (part, fields[name + "." + part])
        for part in CREDENTIAL_PARTS
        if name + "." + part in fields
    )
    if not isinstance(record, dict):
        if record not in (None, "") and not flat:
            problems.append(
                "%s (%s): expected a credential record (user, password, token), got a %s"
                % (label, name, type(record).__name__)
            )
            return None
        record = {}
    differ = [
        "%s.%s" % (name, part)
        for part in CREDENTIAL_PARTS
        if part in record and part in flat and _part(record[part]) != _part(flat[part])
    ]
    if differ:
        problems.append(
            "%s (%s): the credential record and the flattened keys %s disagree; expected the "
            "same credential in both" % (label, name, ", ".join(differ))
        )
        return None
    parts = dict(
        (part, _part(record.get(part)) or _part(flat.get(part))) for part in CREDENTIAL_PARTS
    )
    if not any(parts.values()):
        return None
    value = {"user": parts["user"], "password": parts["password"]}
    if parts["token"]:
        value["token"] = parts["token"]
    return value


def translate_fields(fields):
    """The agent's fields as the program's fields file holds them (SPEC 3.2, 3.3).

    Raises FieldsError naming every Script or Credential field that cannot be used.
    """
    fields = fields or {}
    scripts = dict((name, (label, limit)) for name, label, limit in SCRIPT_FIELDS)
    credentials = dict(CREDENTIAL_FIELDS)
    values = {}
    problems = []
    for key, value in fields.items():
        key = str(key)
        if key in OUTPUT_FIELDS or key in scripts or key in credentials:
            continue  # Output-only fields are set by the program; the others come below.
        owner, dot, _ = key.rpartition(".")
        if dot and owner in credentials:
            continue  # A flattened credential part (keyLocation and passphrase are dropped).
        converted = _runtime_value(value)
        if converted is not None:
            values[key] = converted
    for name, (label, limit) in scripts.items():
        try:
            text = read_script(label, limit, fields.get(name))
        except _ScriptProblem as problem:
            problems.append("%s (%s): %s" % (label, name, problem))
            continue
        if text is not None:
            values[name] = text
    for name, label in credentials.items():
        value = credential_value(name, label, fields, problems)
        if value is not None:
            values[name] = value
    if problems:
        raise FieldsError(problems)
    return values


def task_context(uip):
    """UE_TASK_NAME (where the agent gives one) and UE_TASK_INSTANCE_ID from self.uip.

    No execution count: an agent passes none; the program finds its run from AWS.
    """
    variables = getattr(uip, "task_variables", None)
    name = variables.get("ops_task_name") if isinstance(variables, dict) else None
    instance = getattr(uip, "instance_id", None)
    context = {}
    if name:
        context["UE_TASK_NAME"] = str(name)
    if instance:
        context["UE_TASK_INSTANCE_ID"] = str(instance)
    return context


#: The program's per-task inputs: the bridge sets them for each run; the agent's own never
#: reach the program (a stray UE_FIELD_* or UE_EXECUTION_COUNT would change the task).
TASK_INPUT_PREFIXES = ("UE_FIELD_", "UE_TASK_")
TASK_INPUTS = (
    "UE_FIELDS_FILE",
    "UE_EXTENSION_OUTPUT_FILE",
    "UE_OUTPUT_FIELDS_FILE",
    "UE_EXECUTION_COUNT",
    "UE_CANCEL_ON_STDIN",
    "UE_REMOVE_FIELDS_FILE",
)


def program_environment(environ):
    """The agent's environment for the program, less the program's per-task inputs.

    Agent-wide settings (UE_AWS_CONNECT_TIMEOUT_MS, UE_WAIT_SHARING, ...) pass through, so
    an operator can set them once in the agent's environment.
    """
    return dict(
        (k, v)
        for k, v in environ.items()
        if k not in TASK_INPUTS and not k.startswith(TASK_INPUT_PREFIXES)
    )


# --- Running the program -------------------------------------------------------------


def _output_target(stream):
    """What the program writes to in place of a stream of ours: the same file, when it has one.

    Passing our own file descriptor relays the program's output as it is written, byte for
    byte, with no copying here; a stream without one (replaced in Python) gets a pipe.
    """
    try:
        stream.flush()
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return subprocess.PIPE


def _relay(pipe, target):
    """Copy a child's output to a stream without a file descriptor, line by line. The pipe
    is read to its end even when the stream cannot be written (None, closed): a pipe left
    unread would stop the program once it is full."""
    for line in iter(pipe.readline, b""):
        try:
            target.write(line.decode("utf-8", "replace"))
            target.flush()
        except (AttributeError, OSError, ValueError):
            pass
    pipe.close()


class OutputFieldsRelay(object):
    """Relays the program's output-only field updates, each once its line is whole, through
    `update` (the agent's call; None where the agent offers none)."""

    def __init__(self, update=None):
        self.pending = b""
        self.update = update
        #: The last value relayed of each field (what the bridge knows of the execution).
        self.seen = {}

    def feed(self, data, final=False):
        """Relay the complete lines in data and what came before (all of them when final)."""
        self.pending += data
        lines = self.pending.split(b"\n")
        self.pending = b"" if final else lines.pop()
        for line in lines:
            if line.strip():
                self._relay_line(line.decode("utf-8", "replace"))

    def _relay_line(self, line):
        try:
            update = json.loads(line)
        except ValueError as error:
            log("WARN", "an output-field line is not JSON (%s): %s" % (error, line))
            return
        if not isinstance(update, dict):
            log("WARN", "an output-field line is not a JSON object: %s" % line)
            return
        known = dict((k, v) for k, v in update.items() if k in OUTPUT_FIELDS)
        unknown = sorted(k for k in update if k not in OUTPUT_FIELDS)
        if unknown:
            log("WARN", "output fields the template does not define are not relayed: %s"
                % ", ".join(unknown))
        self.seen.update(known)
        if known and self.update is not None:
            try:
                self.update(known)
            except Exception as error:  # noqa: BLE001 - relaying must not end the task
                log("WARN", "the output-field update was refused: %s" % error)


class _FileTail(object):
    """Reads what was appended to a file since the last call (where no pipe can be used)."""

    def __init__(self, path):
        self.path = path
        self.position = 0

    def read(self):
        try:
            with open(self.path, "rb") as source:
                source.seek(self.position)
                data = source.read()
        except OSError:
            return b""
        self.position += len(data)
        return data


def _fields_pipe():
    """(read end, write end) of a pipe the program can open as /dev/fd/<write end>.

    None where that cannot work (Windows; a system without /dev/fd or poll()): the
    program then appends to a file the bridge reads every 0.1 s.
    """
    if os.name == "nt" or not hasattr(select, "poll"):
        return None
    read_end, write_end = os.pipe()
    if os.path.exists("/dev/fd/%d" % write_end):
        return read_end, write_end
    os.close(read_end)
    os.close(write_end)
    return None


def _end_descriptor(process):
    """A descriptor that becomes readable when the program ends, and what to close after.

    A pidfd where the system has one (Linux 5.3, Python 3.9 or newer); otherwise a pipe
    whose write end a thread closes once the program has ended.
    """
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            return pidfd_open(process.pid)
        except OSError:
            pass
    read_end, write_end = os.pipe()

    def wait():
        try:
            process.wait()
        finally:
            os.close(write_end)

    waiter = threading.Thread(target=wait)
    waiter.daemon = True
    waiter.start()
    return read_end


def _remove_folder(path):
    """Remove the run folder: its files, then itself (shutil only for anything else)."""
    try:
        for name in os.listdir(path):
            os.remove(os.path.join(path, name))
        os.rmdir(path)
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


#: run-<pid>-<host>-<hex>, list-<pid>-<host>-<hex>: the folders _unique names for a run
#: or a listing.
_RUN_FOLDER = re.compile(r"^(?:run|list)-(\d+)-([A-Za-z0-9]+)-[0-9a-f]+$")


def _process_exists(pid):
    """Whether a process with this id exists (POSIX: signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, under another user.
    return True


def seconds_setting(name, default):
    """A time in seconds from the agent's environment: the default when unset; a value that
    is not a number of seconds above 0 and at most a day is said in a warning naming the
    variable, and the default is used (a cancel or a picker must work all the same)."""
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    # NaN fails both comparisons; inf fails the second.
    if value is not None and 0 < value <= 86400:
        return value
    log(
        "WARN",
        "%s must be a number of seconds above 0 and at most 86400, got %r; using %g"
        % (name, raw[:40], default),
    )
    return default


def remove_stale_run_folders(root):
    """Remove the run folders of bridges that were killed before they could (kill -9 of
    the agent's Python): their fields files hold credentials.

    A folder goes only when no process has the id its name carries and it is older than
    STALE_RUN_FOLDER_SECONDS: a live task's folder carries its living bridge's id (a
    reused id only keeps a dead one longer), and the age leaves alone a folder that was
    just made by a bridge this check cannot see (another PID namespace). Tasks starting
    at once may remove the same folder; whatever one of them finds gone is skipped. At
    most once every STALE_RUN_FOLDER_CHECK_SECONDS per cache folder. Not on Windows, where
    os.kill cannot check a process without ending it. Never fails the task.
    """
    if os.name == "nt":
        return
    now = time.time()
    marker = os.path.join(root, STALE_RUN_FOLDER_MARKER)
    try:
        if now - os.stat(marker).st_mtime < STALE_RUN_FOLDER_CHECK_SECONDS:
            return
    except OSError:
        pass  # The first look in this folder.
    try:
        with open(marker, "a"):
            pass
        os.utime(marker, None)
    except OSError:
        pass  # Only a marker: the next task looks again.
    try:
        names = os.listdir(root)
    except OSError as error:
        log("WARN", "could not look for left-over run folders in %s: %s" % (root, error))
        return
    host = _host_tag()
    for name in names:
        match = _RUN_FOLDER.match(name)
        path = os.path.join(root, name)
        try:
            # Only this host's folders: another host's process ids mean nothing here.
            pid = int(match.group(1)) if match and match.group(2) == host else None
            if pid is None or pid == os.getpid() or _process_exists(pid):
                continue
            try:
                info = os.lstat(path)
            except OSError:
                continue  # Removed by another task meanwhile.
            if not stat.S_ISDIR(info.st_mode) or now - info.st_mtime < STALE_RUN_FOLDER_SECONDS:
                continue
            _remove_folder(path)
        except Exception as error:  # noqa: BLE001 - housekeeping never fails the task
            log("WARN", "could not remove the left-over run folder %s: %s" % (path, error))
            continue
        if not os.path.lexists(path):
            log("INFO", "removed %s, left by a bridge that ended without removing it" % path)


def _write_log(data):
    """Relay the program's log (standard error) to ours."""
    if not data:
        return
    _write_stderr(data.decode("utf-8", "replace"))


#: The exit code of a Windows console program ended by a console break it does not handle
#: (Node before the program listens for SIGBREAK), an NTSTATUS value.
STATUS_CONTROL_C_EXIT = 0xC000013A
#: The exit code Popen.kill gives on Windows (TerminateProcess).
WINDOWS_KILL_EXIT_CODE = 1


def cut_short_by_cancel(code, killed, windows=None):
    """How a cancel ended the program when it did so by a signal or a kill rather than the
    program exiting by itself (which has written its document); None otherwise.

    code is the program's exit code as Popen gives it; killed, the reason the cancel killed
    the program (None when it did not); windows stands for os.name unless given. On POSIX a
    signal is a negative code. On Windows a kill gives exit code 1 and a console break that
    came before the program listened for it STATUS_CONTROL_C_EXIT: any other code, even
    after a kill, is the program's own exit, which came first.
    """
    windows = os.name == "nt" if windows is None else windows
    if windows:
        if killed is not None and code == WINDOWS_KILL_EXIT_CODE:
            return "the program %s and was killed" % killed
        if code & 0xFFFFFFFF == STATUS_CONTROL_C_EXIT:
            return "the program was ended by the console break before it could stop anything"
        return None
    if code >= 0:
        return None
    if killed is not None:
        return "the program %s and was killed" % killed
    return "the program was ended by %s before it could stop anything" % _signal_name(-code)


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


class Extension(UniversalExtension):
    """Runs the bundled Node.js program as the task."""

    def __init__(self):
        super(Extension, self).__init__()
        self._lock = threading.Lock()
        self._process = None
        self._cancelled = False
        #: The program has been asked to stop (by the first extension_cancel).
        self._signalled = False
        #: Why the cancel killed the program ("did not stop within 30 s ..."), once it has.
        self._killed = None

    def extension_start(self, fields):
        try:
            return self._start(fields)
        except FieldsError as error:
            description = "DATA_VALIDATION_ERROR: %s" % error
            log("ERROR", description)
            return ExtensionResult(
                rc=EXIT_DATA_VALIDATION,
                message=description,
                unv_output=bridge_document(EXIT_DATA_VALIDATION, description),
            )
        except BridgeError as error:
            description = "%s: %s" % (error.word, error)
            log("ERROR", description)
            return ExtensionResult(
                rc=error.code, message=description, unv_output=bridge_document(error.code, description)
            )
        except Exception as error:  # noqa: BLE001 - every failure ends in a result
            description = "BRIDGE_ERROR: the bridge failed: %s: %s" % (type(error).__name__, error)
            log("ERROR", description)
            import traceback

            _write_stderr(traceback.format_exc())
            return ExtensionResult(
                rc=EXIT_BRIDGE_ERROR,
                message=description,
                unv_output=bridge_document(EXIT_BRIDGE_ERROR, description),
            )

    def _output_field_update(self):
        """The agent's output-only field update call: ui.update_output_fields, else the 1.x
        API's self.update_extension_status; None (with a warning) when it has neither."""
        update = getattr(ui, "update_output_fields", None) if ui is not None else None
        if not callable(update):
            update = getattr(self, "update_extension_status", None)
        if not callable(update):
            log(
                "WARN",
                "this agent offers no output-field update call: output-only fields stay empty",
            )
            return None
        return update

    def _in_run_folder(self, fields, prefix, work):
        """work(node, bundle, run_dir, values) in a private run folder, removed afterwards."""
        values = translate_fields(fields)
        root = cache_root()
        remove_stale_run_folders(root)
        node = find_node(root)
        bundle = bundle_path(root)
        run_dir = os.path.join(root, _unique(prefix))
        try:
            os.mkdir(run_dir, 0o700)
        except OSError as error:
            raise BridgeError(
                "cannot create a run folder in the bridge's folder %s: %s (%s may name another "
                "folder)" % (root, error, CACHE_SETTING)
            )
        try:
            return work(node, bundle, run_dir, values)
        finally:
            _remove_folder(run_dir)

    def _program_launch(self, run_dir, values):
        """(environment, Popen options, document file) of a run of the program.

        Writes the 0600 fields file: secrets go there and nowhere else. The program removes
        it once it has read it (UE_REMOVE_FIELDS_FILE=1), before any call to AWS, so the
        secrets are not on disk while a task waits; nothing here reads it again.
        """
        fields_file = os.path.join(run_dir, "fields.json")
        document_file = os.path.join(run_dir, "extension-output.json")
        try:
            fd = os.open(fields_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(values, out)
        except OSError as error:
            # A full disk, say: the folder is named, the values never (they hold secrets).
            raise BridgeError(
                "cannot write the program's fields file in the bridge's folder %s: %s (%s may "
                "name another folder)"
                % (os.path.dirname(run_dir), error, CACHE_SETTING)
            )
        env = program_environment(os.environ)
        env.update(task_context(getattr(self, "uip", None)))
        env["UE_FIELDS_FILE"] = fields_file
        env["UE_REMOVE_FIELDS_FILE"] = "1"
        env["UE_EXTENSION_OUTPUT_FILE"] = document_file
        absolute_temp(env)
        # The program keeps its code cache here, in the bridge's own 0700 folder.
        env.setdefault(
            "NODE_COMPILE_CACHE", os.path.join(os.path.dirname(run_dir), "node-compile-cache")
        )
        # glibc hands freed blocks of 64 KiB and more back at once: about 1.5 MiB less peak RSS.
        env.setdefault("MALLOC_MMAP_THRESHOLD_", "65536")
        options = {}
        if os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            options["start_new_session"] = True
        return env, options, document_file

    def _start(self, fields):
        return self._in_run_folder(fields, "run-", self._run)

    def _run(self, node, bundle, run_dir, values):
        output_fields_file = os.path.join(run_dir, "output-fields.jsonl")
        env, options, document_file = self._program_launch(run_dir, values)
        # A cancel also comes as a line on the program's standard input (extension_cancel).
        env["UE_CANCEL_ON_STDIN"] = "1"
        # The output-only field updates come through a pipe the program appends to as
        # /dev/fd/N (SPEC 3.3 holds: it is a path the program opens and appends to).
        fields_pipe = _fields_pipe()
        if fields_pipe is not None:
            env["UE_OUTPUT_FIELDS_FILE"] = "/dev/fd/%d" % fields_pipe[1]
            options["pass_fds"] = (fields_pipe[1],)
        else:
            open(output_fields_file, "wb").close()
            env["UE_OUTPUT_FIELDS_FILE"] = output_fields_file
        relay = OutputFieldsRelay(self._output_field_update())
        streams = (sys.stdout, sys.stderr)
        targets = [_output_target(stream) for stream in streams]
        end = None
        process = None
        try:
            with self._lock:
                if self._cancelled:
                    description = "CANCELLED: the task was cancelled before the program started"
                    return ExtensionResult(
                        rc=EXIT_CANCELLED, message=description,
                        unv_output=bridge_document(EXIT_CANCELLED, description),
                    )
                try:
                    process = subprocess.Popen(
                        [node, bundle],
                        stdin=subprocess.PIPE,
                        stdout=targets[0],
                        stderr=targets[1],
                        cwd=run_dir,
                        env=env,
                        **options
                    )
                except OSError as error:
                    raise BridgeError("cannot start %s %s: %s" % (node, bundle, error))
                self._process = process
                if fields_pipe is not None:
                    # Before extension_cancel can reap the program: the pidfd is its own.
                    end = _end_descriptor(process)
            relays = []
            for pipe, stream in ((process.stdout, streams[0]), (process.stderr, streams[1])):
                if pipe is not None:
                    thread = threading.Thread(target=_relay, args=(pipe, stream))
                    thread.daemon = True
                    thread.start()
                    relays.append(thread)
            if fields_pipe is not None:
                os.close(fields_pipe[1])
                fields_pipe = (fields_pipe[0], None)
                self._follow_pipe(fields_pipe[0], end, relay)
            else:
                self._follow_file(process, output_fields_file, relay)
            code = process.wait()
            for thread in relays:
                thread.join()
            how = cut_short_by_cancel(code, self._killed) if self._cancelled else None
            if how is not None:
                return self._cancel_cut_short(how, relay.seen)
            return self._result(code, document_file)
        finally:
            for fd in (fields_pipe or ()) + (end,):
                if fd is not None:
                    os.close(fd)
            if process is not None:
                _close_input(process)

    @staticmethod
    def _follow_pipe(fields_read, end, relay):
        """Sleep in poll() until an update or the program's end; relay each update."""
        poller = select.poll()
        poller.register(fields_read, select.POLLIN)
        poller.register(end, select.POLLIN)
        ended = False
        while not ended:
            for fd, _ in poller.poll():
                if fd == end:
                    ended = True
                    continue
                data = os.read(fields_read, 65536)
                if data:
                    relay.feed(data)
                else:
                    poller.unregister(fields_read)
        # The program has ended: what it wrote is in the pipe. Read it without waiting
        # (a process it started may still hold the pipe open).
        os.set_blocking(fields_read, False)
        while True:
            try:
                data = os.read(fields_read, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            relay.feed(data)
        relay.feed(b"", final=True)

    @staticmethod
    def _follow_file(process, path, relay):
        """Read the output-fields file every 0.1 s until the program ends (no pipe here)."""
        tail = _FileTail(path)
        ended = threading.Event()
        waiter = threading.Thread(target=lambda: (process.wait(), ended.set()))
        waiter.daemon = True
        waiter.start()
        while not ended.wait(OUTPUT_FIELDS_POLL_SECONDS):
            relay.feed(tail.read())
        relay.feed(tail.read(), final=True)

    @staticmethod
    def _cancel_cut_short(how, seen):
        """The result of a cancel that ended the program by a signal (how, from
        cut_short_by_cancel): before the program had installed its handlers, or a kill (after
        the bounded wait, or because the program could not be asked to stop). The program
        wrote no document then: exit code 27 and a document of the bridge's own saying what
        is known.
        """
        arn = seen.get("execution_arn")
        status = seen.get("execution_status")
        if not isinstance(arn, str) or not arn:
            left = "the execution, if one was started, may still be running"
        elif status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"):
            left = "execution %s had ended %s" % (arn, status)
        else:
            left = "execution %s may still be running" % arn
        description = "CANCELLED: %s; %s" % (how, left)
        log("WARN", description)
        return ExtensionResult(
            rc=EXIT_CANCELLED, message=description,
            unv_output=bridge_document(EXIT_CANCELLED, description),
        )

    def _result(self, code, document_file):
        try:
            with open(document_file, "rb") as source:
                text = source.read().decode("utf-8", "replace")
        except OSError:
            text = None
        if code < 0:
            description = "BRIDGE_ERROR: the program was ended by %s" % _signal_name(-code)
            log("ERROR", description)
            return ExtensionResult(
                rc=EXIT_BRIDGE_ERROR, message=description,
                unv_output=text if text else bridge_document(EXIT_BRIDGE_ERROR, description),
            )
        if text is None:
            description = (
                "BRIDGE_ERROR: the program ended with exit code %d without writing its "
                "extension output document" % code
            )
            log("ERROR", description)
            return ExtensionResult(
                rc=EXIT_BRIDGE_ERROR, message=description,
                unv_output=bridge_document(EXIT_BRIDGE_ERROR, description),
            )
        try:
            document = json.loads(text)
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            description = (
                "BRIDGE_ERROR: the program (exit code %d) wrote an extension output document "
                "that is not JSON: %s" % (code, error)
            )
            log("ERROR", description)
            # The text is returned as it is, so nothing the program wrote is lost.
            return ExtensionResult(rc=EXIT_BRIDGE_ERROR, message=description, unv_output=text)
        message = document.get("status_description")
        return ExtensionResult(
            rc=code, message=message if isinstance(message, str) else "", unv_output=text
        )

    # --- The pickers (Dynamic Choice fields) ------------------------------------------

    @dynamic_choice_command("state_machine")
    def choose_state_machine(self, fields):
        """The State Machine picker: the account's state machines in the task's region."""
        return self._choices(fields, "state-machines")

    @dynamic_choice_command("execution")
    def choose_execution(self, fields):
        """The Execution picker: the State Machine's executions the Action can use."""
        return self._choices(fields, "executions")

    def _choices(self, fields, what):
        """ExtensionResult(rc, message, values) of ``node <bundle> --list <what>``.

        The program does the listing with the same fields file as a task; a failure comes
        back with its exit code, its status description and no values.
        """
        try:
            return self._in_run_folder(
                fields,
                "list-",
                lambda node, bundle, run_dir, values: self._list(
                    node, bundle, run_dir, values, what
                ),
            )
        except FieldsError as error:
            code, description = EXIT_DATA_VALIDATION, "DATA_VALIDATION_ERROR: %s" % error
        except BridgeError as error:
            code, description = error.code, "%s: %s" % (error.word, error)
        except Exception as error:  # noqa: BLE001 - every failure ends in a result
            code = EXIT_BRIDGE_ERROR
            description = "BRIDGE_ERROR: the bridge failed: %s: %s" % (type(error).__name__, error)
        log("ERROR", description)
        return ExtensionResult(rc=code, message=description, values=[])

    def _list(self, node, bundle, run_dir, values, what):
        env, options, document_file = self._program_launch(run_dir, values)
        limit = seconds_setting(LIST_TIMEOUT_SETTING, DEFAULT_LIST_TIMEOUT_SECONDS)
        try:
            process = subprocess.Popen(
                [node, bundle, "--list", what],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=run_dir,
                env=env,
                **options
            )
        except OSError as error:
            raise BridgeError("cannot start %s %s: %s" % (node, bundle, error))
        try:
            listed, logged = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_now(process)
            process.communicate()
            raise BridgeError(
                "listing %s took longer than %g s (%s); the program was stopped"
                % (what, limit, LIST_TIMEOUT_SETTING)
            )
        _write_log(logged)
        code = process.returncode
        try:
            with open(document_file, "rb") as source:
                document = json.loads(source.read().decode("utf-8", "replace"))
            message = document.get("status_description") if isinstance(document, dict) else None
        except (OSError, ValueError):
            message = None
        if code != 0:
            if not isinstance(message, str):
                ended = _signal_name(-code) if code < 0 else "exit code %d" % code
                message = "BRIDGE_ERROR: listing %s ended with %s and no extension output" % (
                    what, ended
                )
                code = EXIT_BRIDGE_ERROR if code < 0 else code
            log("ERROR", message)
            return ExtensionResult(rc=code, message=message, values=[])
        try:
            choices = [item["choice"] for item in json.loads(listed.decode("utf-8"))]
        except (ValueError, TypeError, KeyError) as error:
            raise BridgeError("the program listed %s in an unknown form: %s" % (what, error))
        return ExtensionResult(
            rc=0, message=message if isinstance(message, str) else "", values=choices
        )

    def extension_cancel(self):
        """Forward the cancel to the program and wait a bounded time for it to end.

        The program is asked once: it takes a second signal for "end now, give up the
        orderly stop", so a repeated cancel (the agent's or a user's) only waits.
        """
        with self._lock:
            self._cancelled = True
            process = self._process
            again = self._signalled
            if process is not None:
                self._signalled = True
        if process is None or process.poll() is not None:
            return
        wait = seconds_setting(CANCEL_WAIT_SETTING, DEFAULT_CANCEL_WAIT_SECONDS)
        if again:
            log("INFO", "cancel: the program was asked to stop already; waiting for it")
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass  # The first cancel kills it at the end of its own wait.
            return
        log("INFO", "cancel: asking the program to stop (waiting up to %g s)" % wait)
        # First the line on its standard input, which needs no console; then the signal,
        # which reaches the program's whole group and a program still loading.
        unsent = _send_cancel_line(process)
        try:
            if os.name == "nt":
                # Python before 3.9 sends a break even to a program that has ended; a break
                # for a group that no longer exists may reach every process of the console,
                # the agent's own too (microsoft/terminal#335). The line may have ended it.
                if process.poll() is not None:
                    return
                process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(process.pid, signal.SIGTERM)
        except Exception as error:  # noqa: BLE001 - see below
            # A console break fails where the agent's Python has no console (a Windows
            # agent runs as a service), and os.kill then raises SystemError, not OSError
            # (python/cpython#112190, #58689). The line on standard input asks all the same.
            if process.poll() is not None:
                return  # Already gone.
            failure = "%s: %s" % (type(error).__name__, error)
            if unsent is not None:
                # Neither way reached the program: waiting would not help.
                reason = "could not be asked to stop (%s; standard input: %s)" % (failure, unsent)
                log("ERROR", "cancel: the program %s; killing it" % reason)
                self._kill(process, reason)
                return
            log(
                "WARN",
                "cancel: the %s could not be sent (%s); the program was asked on its standard input"
                % ("console break" if os.name == "nt" else "SIGTERM", failure),
            )
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            log("ERROR", "cancel: the program did not stop within %g s; killing it" % wait)
            self._kill(
                process, "did not stop within %g s of the cancel (%s)" % (wait, CANCEL_WAIT_SETTING)
            )

    def _kill(self, process, reason):
        """End the program at once; reason goes in the result."""
        self._killed = reason
        _kill_now(process)
