"""testinfra helpers that more than one scenario's tests use on lab machines (links and qdisc trees)."""
import json


def device_with_address(host, prefix):
    """The one link whose IPv4 address starts with PREFIX."""
    links = json.loads(host.check_output("ip -j -4 addr show"))
    found = [link["ifname"] for link in links
             if any(a["local"].startswith(prefix) for a in link.get("addr_info", []))]
    assert len(found) == 1, found
    return found[0]


def qdiscs(host, device):
    return json.loads(host.check_output("tc -j qdisc show dev %s" % device))


def qdisc_root(device_qdiscs):
    return [q for q in device_qdiscs if q.get("root")][0]


def qdisc_tree(host, device):
    """The qdisc tree as root kind and handle plus each child's parent and kind."""
    device_qdiscs = qdiscs(host, device)
    root = qdisc_root(device_qdiscs)
    return root["kind"], root["handle"], sorted((q.get("parent"), q["kind"]) for q in device_qdiscs if not q.get("root"))


def check_plan_survives_a_link_flap_and_returns_when_lost(host, device):
    """The network role's plan on DEVICE stays through down/up and comes back from its unit once deleted."""
    planned = qdisc_tree(host, device)
    host.check_output("ip link set dev %s down && ip link set dev %s up" % (device, device))
    assert qdisc_tree(host, device) == planned
    # Deleting the root gives the link the kernel's default tree back (on a multi-queue link
    # that is an mq root again, with default_qdisc on every queue), not the plan.
    host.check_output("tc qdisc del dev %s root" % device)
    assert qdisc_tree(host, device) != planned
    host.check_output("systemctl restart hyperion-qdisc@%s.service" % device)
    assert qdisc_tree(host, device) == planned
