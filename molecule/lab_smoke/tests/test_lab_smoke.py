"""testinfra checks of the lab_smoke scenario, run on each lab machine."""
import json

# Inter-machine addresses follow the platforms' order in molecule.yml.
PEER_ADDRESSES = {"smoke1": "10.77.0.1", "smoke2": "10.77.0.2"}


def test_role_wrote_the_motd(host):
    motd = host.file("/etc/motd")
    assert motd.is_file
    assert motd.content_string == "This machine belongs to the hyperion.kernel VM lab.\n"
    assert host.file("/var/lib/lab_smoke/motd.sha256").is_file


def test_kernel_command_line_comes_from_grub(host):
    cmdline = host.file("/proc/cmdline").content_string.split()
    # BOOT_IMAGE= is set by GRUB only; the rest is the lab's GRUB drop-in.
    assert any(word.startswith("BOOT_IMAGE=") for word in cmdline)
    assert "hyperion_lab=1" in cmdline
    assert "console=ttyS0,115200" in cmdline


def test_machine_came_back_from_the_reboot(host):
    before = host.file("/var/lib/lab_smoke_boot_before").content_string.strip()
    now = host.file("/proc/sys/kernel/random/boot_id").content_string.strip()
    assert before
    assert before != now


def test_peer_link_is_multi_queue(host):
    name = host.backend.get_hostname()
    links = json.loads(host.check_output("ip -j -4 addr show"))
    peer_links = [link["ifname"] for link in links if any(a["local"] == PEER_ADDRESSES[name] for a in link.get("addr_info", []))]
    assert len(peer_links) == 1
    tx_queues = host.check_output("ls /sys/class/net/%s/queues" % peer_links[0]).split()
    assert len([queue for queue in tx_queues if queue.startswith("tx-")]) >= 2


def test_peer_network_reaches_the_other_machine(host):
    name = host.backend.get_hostname()
    other = [addr for peer, addr in PEER_ADDRESSES.items() if peer != name][0]
    probe = "import socket; socket.create_connection(('%s', 22), timeout=10).close()" % other
    assert host.run("python3 -c \"%s\"" % probe).rc == 0
