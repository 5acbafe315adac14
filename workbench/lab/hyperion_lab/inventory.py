"""Files that let ssh, ansible and molecule reach a running lab."""
import json
import os

from hyperion_lab.common import LOGIN_USER

SSH_OPTIONS = (
    ("User", LOGIN_USER),
    ("IdentitiesOnly", "yes"),
    # Every lab machine is new and shares the image's host keys: nothing to check them against.
    ("StrictHostKeyChecking", "no"),
    ("UserKnownHostsFile", "/dev/null"),
    ("LogLevel", "ERROR"),
    ("ConnectTimeout", "10"),
    ("BatchMode", "yes"),
    ("ServerAliveInterval", "5"),
    ("ServerAliveCountMax", "3"),
)
# A reboot leaves the forwarded SSH connection dead without a reset: keep-alives end it.
ANSIBLE_SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3"


def machine_records(machines, private_key):
    """name -> how to reach it; machines.json and the molecule instance config come from this."""
    return {
        machine.name: {
            "address": "127.0.0.1",
            "port": machine.ssh_port,
            "user": LOGIN_USER,
            "identity_file": private_key,
            "peer_addr": machine.peer_addr.split("/", 1)[0],
            "serial_log": machine.serial_log,
        }
        for machine in machines
    }


def ssh_config_text(records):
    lines = []
    for name, record in records.items():
        lines.append("Host %s" % name)
        lines.append("    HostName %s" % record["address"])
        lines.append("    Port %d" % record["port"])
        lines.append("    IdentityFile %s" % record["identity_file"])
        lines.extend("    %s %s" % option for option in SSH_OPTIONS)
        lines.append("")
    return "\n".join(lines)


def inventory_text(lab, records):
    """A YAML inventory (written as JSON, which YAML reads) of the lab's machines in group hyperion_lab."""
    hosts = {
        name: {
            "ansible_host": record["address"],
            "ansible_port": record["port"],
            "ansible_user": record["user"],
            "ansible_ssh_private_key_file": record["identity_file"],
            "ansible_ssh_common_args": ANSIBLE_SSH_ARGS,
            "hyperion_lab_peer_addr": record["peer_addr"],
        }
        for name, record in records.items()
    }
    return json.dumps({"all": {"children": {"hyperion_lab": {"hosts": hosts, "vars": {"hyperion_lab_name": lab}}}}}, indent=2) + "\n"


def molecule_instance_config(records):
    """molecule's instance_config: one entry per instance, with the keys its delegated driver reads."""
    return [
        {"instance": name, "address": r["address"], "port": r["port"], "user": r["user"], "identity_file": r["identity_file"]}
        for name, r in records.items()
    ]


def write_inventory_files(directory, lab, machines, private_key):
    records = machine_records(machines, private_key)
    outputs = {
        "machines.json": json.dumps(records, indent=2) + "\n",
        "ssh_config": ssh_config_text(records),
        "hosts.yml": inventory_text(lab, records),
    }
    for name, text in outputs.items():
        path = os.path.join(directory, name)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)
    return records
