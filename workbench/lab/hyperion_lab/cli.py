"""Command line of the VM lab: image, up, down, ssh, status, failures."""
import argparse
import json
import os
import signal
import sys

from hyperion_lab import failures as lab_failures
from hyperion_lab import image as lab_image
from hyperion_lab import machines as lab_machines
from hyperion_lab.common import DEFAULT_SUITE, IMAGE_COMMANDS, RUN_DIR, SUITES, LabError, log, missing_commands, require
from hyperion_lab.inventory import machine_records, molecule_instance_config


def _names(args):
    if args.names:
        names = [name for name in args.names.replace(",", " ").split() if name]
        if args.count is not None and args.count != len(names):
            raise LabError("-n %d does not match the %d names given (%s)" % (args.count, len(names), " ".join(names)))
        return names
    count = 3 if args.count is None else args.count
    if count < 1:
        raise LabError("-n must be at least 1, not %d" % count)
    return lab_machines.default_names(count)


def cmd_image(args):
    if not lab_image.cached_image(args.suite):
        require(IMAGE_COMMANDS)
    manifest = lab_image.ensure_image(args.suite)
    print(json.dumps(manifest, indent=2) if args.json else manifest["image"])


def cmd_up(args):
    names = _names(args)
    state = lab_machines.up(args.lab, names, args.suite, args.memory, args.cpus, args.timeout)
    machines = [lab_machines.Machine.from_dict(args.lab, data) for data in state["machines"]]
    records = machine_records(machines, state["private_key"])
    if args.json:
        print(json.dumps({"lab": args.lab, "machines": records, "instance_config": molecule_instance_config(records),
                          "inventory": os.path.join(lab_machines.lab_dir(args.lab), "hosts.yml")}, indent=2))
        return
    for name, record in records.items():
        print("%-10s ssh 127.0.0.1:%d  peer %s  serial %s" % (name, record["port"], record["peer_addr"], record["serial_log"]))
    print("inventory: %s" % os.path.join(lab_machines.lab_dir(args.lab), "hosts.yml"))


def cmd_down(args):
    labs = lab_machines.labs() if args.all else [args.lab]
    for lab in labs:
        lab_machines.down(lab)


def cmd_ssh(args):
    lab_machines.validate_lab_name(args.lab)
    state = lab_machines.load_state(args.lab)
    if state is None:
        raise LabError("lab %r is not up: run make lab-up first" % args.lab)
    known = [m["name"] for m in state["machines"]]
    if args.host not in known:
        raise LabError("no machine %r in lab %r; its machines are: %s" % (args.host, args.lab, " ".join(known)))
    argv = lab_machines.ssh_argv(args.lab, args.host, args.command)
    require(argv[:1])
    os.execvp(argv[0], argv)


def cmd_status(args):
    for lab in lab_machines.labs() if args.all else [args.lab]:
        state = lab_machines.load_state(lab)
        if state is None:
            print("%s: down" % lab)
            continue
        running = lab_machines.qemu_processes("%s%s-" % (lab_machines.MARKER, lab))
        for machine in state["machines"]:
            status = "running" if machine["pid"] in running else "stopped"
            print("%s/%-10s %-8s ssh 127.0.0.1:%s  peer %s" % (lab, machine["name"], status, machine["ssh_port"], machine["peer_addr"]))


def cmd_failures(args):
    if args.max < 1:
        raise LabError("--max must be at least 1, not %d" % args.max)
    for line in lab_failures.summary(args.logs, RUN_DIR, since=args.since, max_failures=args.max, max_crashes=args.max):
        print(line)


def parser():
    top = argparse.ArgumentParser(prog="hyperion-lab", description="Offline VM lab of hyperion.kernel (qemu TCG, Debian images).")
    sub = top.add_subparsers(dest="command", required=True)

    def lab_option(command):
        command.add_argument("--lab", default=lab_machines.DEFAULT_LAB, help="lab name: its state lives in workbench/lab/run/LAB (default: %(default)s)")

    def suite_option(command):
        command.add_argument("--suite", default=DEFAULT_SUITE, help="Debian suite: %s (default: %%(default)s)" % ", ".join(SUITES))

    command = sub.add_parser("image", help="build or reuse the cached image of a suite")
    suite_option(command)
    command.add_argument("--json", action="store_true", help="print the image manifest")
    command.set_defaults(func=cmd_image)

    command = sub.add_parser("up", help="start machines and wait until they answer SSH")
    lab_option(command)
    suite_option(command)
    command.add_argument("-n", "--count", type=int, help="number of machines (default 3: lab1 cafe1 cafe2)")
    command.add_argument("--names", help="machine names, comma or space separated")
    command.add_argument("--memory", type=int, default=lab_machines.DEFAULT_MEMORY_MIB, help="MiB per machine (default: %(default)s)")
    command.add_argument("--cpus", type=int, default=lab_machines.DEFAULT_CPUS, help="vCPUs per machine (default: %(default)s)")
    command.add_argument("--timeout", type=int, default=lab_machines.DEFAULT_BOOT_TIMEOUT,
                         help="seconds until every machine answers SSH (default: %(default)s)")
    command.add_argument("--json", action="store_true", help="print machines, molecule instance config and inventory path as JSON")
    command.set_defaults(func=cmd_up)

    command = sub.add_parser("down", help="stop a lab's machines and remove its overlays and state")
    lab_option(command)
    command.add_argument("--all", action="store_true", help="every lab with state under workbench/lab/run")
    command.set_defaults(func=cmd_down)

    command = sub.add_parser("ssh", help="open a shell (or run a command) on a machine")
    lab_option(command)
    command.add_argument("host")
    command.add_argument("command", nargs=argparse.REMAINDER, help="command to run instead of a shell")
    command.set_defaults(func=cmd_ssh)

    command = sub.add_parser("status", help="list a lab's machines")
    lab_option(command)
    command.add_argument("--all", action="store_true", help="every lab with state under workbench/lab/run")
    command.set_defaults(func=cmd_status)

    command = sub.add_parser("failures", help="the failed tasks of test outputs and the crash lines of the serial logs, in a few lines")
    command.add_argument("logs", nargs="*", help="output files of failed test targets (Ansible or molecule output)")
    command.add_argument("--since", type=float, default=0.0,
                         help="only serial logs written after this time (seconds since the epoch; default: all)")
    command.add_argument("--max", type=int, default=3, help="failed tasks per output and crash lines per machine (default: %(default)s)")
    command.set_defaults(func=cmd_failures)
    return top


def _terminated(signum, _frame):
    # SystemExit unwinds through `up`, whose clean-up stops every machine it started.
    raise SystemExit(128 + signum)


def main(argv=None):
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    try:
        args.func(args)
    except LabError as exc:
        log("error: %s" % exc)
        return 1
    except FileNotFoundError as exc:
        # A command that vanished after the checks, run without the wrappers of common: still a sentence.
        if not exc.filename or os.sep in str(exc.filename):
            raise
        log("error: %s" % missing_commands([exc.filename]))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
