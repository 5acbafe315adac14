"""What failed in a long test run, in a few lines: the failed Ansible tasks of its output and the
crash lines of the lab machines' serial logs.

A CI run keeps only the end of its output, and a failed molecule scenario ends with its destroy
step, so the task that failed and a guest that crashed are long gone from that end. `make test`
prints this summary last.
"""
import json
import os
import re

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# What the test lanes put before each line: "18:24:39 [lane 1: molecule-rollout] ".
LANE_PREFIX = re.compile(r"^\d\d:\d\d:\d\d \[lane [^\]]*\] ")
HEADER_START = re.compile(r"^\s*(?:PLAY|TASK|RUNNING HANDLER) \[")
TASK = re.compile(r"^\s*(?:TASK|RUNNING HANDLER) \[(?P<name>.*?)\]\s*\**\s*$")
PLAY = re.compile(r"^\s*PLAY \[(?P<name>.*?)\]\s*\**\s*$")
FAILED = re.compile(r"^\s*fatal: \[(?P<host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)!(?: => (?P<rest>.*))?$")
# A failed item of a loop: "failed: [host] (item=2) => {...}".
ITEM_FAILED = re.compile(r"^\s*failed: \[(?P<host>[^\]]+)\] \((?P<item>item=.*?)\)(?: => (?P<rest>.*))?$")
# Molecule draws a frame around the output of each Ansible run: "  │ " before each line.
MOLECULE_FRAME = re.compile(r"^ *│ ?")
MSG_JSON = re.compile(r'"msg": "((?:[^"\\]|\\.)*)"')
MSG_YAML = re.compile(r"^\s*msg: (.*)$")

# What a Linux console prints when the kernel dies or is about to: the first line of each report.
CRASH_MARKERS = (
    "Kernel panic",
    "Oops:",
    "BUG:",
    "double fault",
    "general protection fault",
    "watchdog: BUG: soft lockup",
    "rcu: INFO: rcu_",
    "Fatal exception",
    "end Kernel panic",
)


def clean(line):
    """One output line without terminal colours and without the lane prefix."""
    return MOLECULE_FRAME.sub("", LANE_PREFIX.sub("", ANSI.sub("", line.rstrip("\r\n"))))


def _message(first, block):
    """The failure's message: its msg field where the result has one, else the result itself."""
    # Molecule wraps long lines at spaces and indents the rest: join them back with one space.
    joined = " ".join(part.strip() for part in [first] + block if part.strip())
    found = MSG_JSON.search(joined)
    if found:
        try:
            return json.loads('"%s"' % found.group(1))
        except ValueError:
            return found.group(1)
    for index, line in enumerate(block):
        found = MSG_YAML.match(line)
        if found:
            # A long YAML value goes on over the lines indented deeper than its key.
            indent = len(line) - len(line.lstrip())
            parts = [found.group(1)]
            for more in block[index + 1:]:
                if more.strip() and len(more) - len(more.lstrip()) <= indent:
                    break
                parts.append(more.strip())
            text = " ".join(part for part in parts if part)
            if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
                text = text[1:-1]
            return text
    return joined


def failed_tasks(lines):
    """Each failed (and not ignored) task of an Ansible or molecule output, in order.

    Returns dicts with play, task, host, kind (FAILED or UNREACHABLE) and message.
    """
    failures = []
    play = task = None
    pending = None
    header = None
    for raw in lines:
        line = clean(raw)
        if header is not None:
            # A play or task name that molecule wrapped: its rest comes on indented lines.
            if line.startswith("  ") and len(header) < 1000:
                line = header + " " + line.strip()
            header = None
        if HEADER_START.match(line) and not (PLAY.match(line) or TASK.match(line)):
            header = line
            continue
        if pending is not None:
            if line.startswith("...ignoring"):
                pending = None
                continue
            # The result goes on over indented lines (blank ones too, inside YAML block scalars).
            if not line.strip() or line[0].isspace() or line == "}":
                pending["block"].append(line)
                continue
            failures.append(pending)
            pending = None
        match = PLAY.match(line)
        if match:
            play, task = match.group("name"), None
            continue
        match = TASK.match(line)
        if match:
            task = match.group("name")
            continue
        match = FAILED.match(line) or ITEM_FAILED.match(line)
        if match:
            found = match.groupdict()
            pending = {"play": play, "task": task, "host": found["host"], "kind": found.get("kind", "FAILED"),
                       "first": found["rest"] or "", "block": [], "item": found.get("item")}
    if pending is not None:
        failures.append(pending)
    return [{"play": f["play"], "task": f["task"], "host": f["host"], "kind": f["kind"],
             "message": ("(%s) " % f["item"] if f["item"] else "") + _message(f["first"], f["block"])} for f in failures]


def crash_lines(path, since=0.0):
    """The lines of a serial log that report a kernel crash, if the log changed after `since`."""
    try:
        if os.path.getmtime(path) < since:
            return []
        with open(path, "rb") as handle:
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    found = []
    for line in data.splitlines():
        text = "".join(ch for ch in ANSI.sub("", line) if ch == "\t" or ch.isprintable()).strip()
        if any(marker in text for marker in CRASH_MARKERS):
            found.append(text)
    return found


def serial_logs(run_dir):
    """Every serial log the lab keeps: those of running labs and the copies of stopped ones."""
    paths = []
    for root, _dirs, files in os.walk(run_dir):
        for name in files:
            if name == "serial.log" or name.endswith("-serial.log"):
                paths.append(os.path.join(root, name))
    return sorted(paths)


def shorten(text, width):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def summary(log_paths, run_dir, since=0.0, max_failures=3, max_crashes=3, width=300):
    """The summary as lines: the last failed tasks of each log, then the serial logs' crash lines."""
    out = []
    for path in log_paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except OSError as exc:
            out.append("%s: cannot read (%s)" % (path, exc.strerror))
            continue
        failures = failed_tasks(lines)
        name = os.path.basename(path)
        if not failures:
            last = [line for line in map(clean, lines) if line.strip()][-max_failures:]
            out.append("%s: no failed Ansible task; it ended with:" % name)
            out.extend("  " + shorten(line, width) for line in last)
            continue
        skipped = len(failures) - max_failures
        if skipped > 0:
            out.append("%s: %d earlier failed task(s) not shown" % (name, skipped))
        shown = failures[-max_failures:]
        for index, failure in enumerate(shown):
            where = failure["task"] or "(no task)"
            if failure["play"]:
                where = "%s / %s" % (failure["play"], where)
            # Only the last failure surely stopped the run: a block's rescue may have caught the others.
            label = name if index == len(shown) - 1 else name + " (earlier, maybe rescued)"
            out.append("%s: %s [%s] %s: %s" % (label, where, failure["host"], failure["kind"],
                                               shorten(failure["message"], width)))
    for path in serial_logs(run_dir):
        lines = crash_lines(path, since)
        if not lines:
            continue
        skipped = len(lines) - max_crashes
        if skipped > 0:
            out.append("serial %s: %d earlier crash line(s) not shown" % (machine_label(path), skipped))
        for line in lines[-max_crashes:]:
            out.append("serial %s: %s" % (machine_label(path), shorten(line, width)))
    return out


def machine_label(path):
    """lab/machine of a serial log: run/<lab>/<machine>/serial.log or run/logs/<lab>/<machine>-serial.log."""
    directory, name = os.path.split(path)
    if name == "serial.log":
        directory, machine = os.path.split(directory)
    else:
        machine = name[:-len("-serial.log")]
    return "%s/%s" % (os.path.basename(directory), machine)
