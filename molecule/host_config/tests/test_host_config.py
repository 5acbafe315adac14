"""testinfra checks of the host_config scenario, from outside, after the reboot of side_effect.

hc-stock runs Debian's kernel with the gaming cafe policy and a host override of qdisc:@default_route:root
(fq); the rollout scenario checks the same roles on the Hyperion test kernel."""
import json
import os
import sys

import pytest

# Helpers shared with the other lab scenario's tests (molecule/shared/lab_checks.py).
sys.path.insert(0, os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd()), "molecule", "shared"))
from lab_checks import check_plan_survives_a_link_flap_and_returns_when_lost, device_with_address, qdisc_root, qdisc_tree, qdiscs  # noqa: E402

UPLINK_NET = "10.0.2."
PEER_NET = "10.77.0."


def test_the_machine_rebooted(host):
    before = host.file("/var/lib/host_config_boot_before").content_string.strip()
    assert before and before != host.file("/proc/sys/kernel/random/boot_id").content_string.strip()


def test_kernel_is_debians(host):
    assert not host.check_output("uname -r").endswith("-hyperion")


def test_kernel_command_line(host):
    words = host.file("/proc/cmdline").content_string.split()
    assert "nmi_watchdog=0" in words
    assert "zswap.max_pool_percent=10" in words
    assert not any(w == "kgdbwait" for w in words)
    # The gaming cafe policy: no debugger on the serial port.
    assert not any(w.startswith("kgdboc=") for w in words)
    # prepare.yml booted with the lab seat's sysrq_always_enabled: under the cafe's mask boot_params took it off,
    # in every form the kernel would honour, so the mask holds.
    assert not any(w[:len("sysrq_always_enabled")].replace("-", "_") == "sysrq_always_enabled" for w in words)


def test_sysrq_live_and_persistent(host):
    assert host.file("/proc/sys/kernel/sysrq").content_string.strip() == "176"
    assert host.file("/etc/sysctl.d/90-hyperion-sysrq.conf").contains("^kernel.sysrq *= *176$")


def test_zram_swap(host):
    zram = "/sys/block/zram0"
    assert "[zstd]" in host.file(zram + "/comp_algorithm").content_string
    swaps = host.file("/proc/swaps").content_string.splitlines()[1:]
    zram_swaps = [line.split() for line in swaps if line.startswith("/dev/zram0")]
    assert len(zram_swaps) == 1 and zram_swaps[0][4] == "100"
    mem_kib = int(host.check_output("awk '/MemTotal/ {print $2}' /proc/meminfo"))
    ratio = int(host.file(zram + "/disksize").content_string) / (mem_kib * 1024.0)
    assert 0.45 <= ratio <= 0.55
    assert host.file("/sys/module/zswap/parameters/enabled").content_string.strip() == "N"
    # The old zram-tools setup is gone.
    assert not host.package("zram-tools").is_installed
    assert host.package("systemd-zram-generator").is_installed


def test_no_recompression_without_multi_comp(host):
    # Debian's kernel has no CONFIG_ZRAM_MULTI_COMP: no second stream and no timer for one.
    assert not host.file("/sys/block/zram0/recomp_algorithm").exists
    assert not host.file("/etc/systemd/system/hyperion-zram-recompress.timer").exists


def test_congestion_control_and_default_qdisc(host):
    assert host.file("/proc/sys/net/ipv4/tcp_congestion_control").content_string.strip() == "bbr"
    assert host.file("/proc/sys/net/core/default_qdisc").content_string.strip() == "cake"


def test_uplink_runs_the_hosts_override_after_the_reboot(host):
    # The uplink carries the default route; molecule.yml overrides qdisc:@default_route:root to fq while
    # net.core.default_qdisc stays the profile's cake: without the role's plan it would come back as cake.
    uplink = device_with_address(host, UPLINK_NET)
    assert uplink in host.check_output("ip -j route show default")
    assert qdisc_root(qdiscs(host, uplink))["kind"] == "fq"
    assert host.service("hyperion-qdisc@%s.service" % uplink).is_enabled
    assert host.file("/etc/hyperion-kernel/qdisc/%s.tc" % uplink).content_string == "qdisc replace dev %s root fq\n" % uplink


def test_peer_link_plan(host):
    kind, handle, children = qdisc_tree(host, device_with_address(host, PEER_NET))
    assert kind == "mq" and handle == "1:"
    children = dict(children)
    assert children["1:1"] == "fq_codel" and children["1:2"] == "cake"


def test_plan_survives_a_link_flap_and_returns_when_lost(host):
    check_plan_survives_a_link_flap_and_returns_when_lost(host, device_with_address(host, PEER_NET))


def test_thp(host):
    assert "[madvise]" in host.file("/sys/kernel/mm/transparent_hugepage/enabled").content_string
    assert "[defer+madvise]" in host.file("/sys/kernel/mm/transparent_hugepage/defrag").content_string


def test_rotational_disks_get_bfq_through_udev(host):
    # The lab disk is virtio (non-rotational); flag it rotational and let udev's change event decide.
    try:
        host.check_output("echo 1 > /sys/block/vda/queue/rotational && udevadm trigger --action=change "
                          "--settle /sys/block/vda")
        assert "[bfq]" in host.file("/sys/block/vda/queue/scheduler").content_string
    finally:
        host.run("echo 0 > /sys/block/vda/queue/rotational")


def test_profile_check_items_of_these_roles_pass(host):
    report = json.loads(host.file("/var/lib/host_config_profile_check.json").content_string)
    status = dict((item["id"], item["status"]) for item in report["items"])
    for item in ("sysctl:kernel.sysrq", "cmdline:kgdboc", "zram:zram0:comp_algorithm", "swap:zram0:priority",
                 "modparam:zswap.enabled", "sysctl:net.ipv4.tcp_congestion_control", "sysctl:net.core.default_qdisc",
                 "qdisc:@default_route:root", "thp:defrag"):
        assert status[item] == "pass", item
    assert status["zram:zram0:recomp_algorithm"] == "not_applicable"
    # The check ran with the host's override: it expected fq there, as the role configured.
    qdisc = [item for item in report["items"] if item["id"] == "qdisc:@default_route:root"][0]
    assert qdisc["actual"] == "fq", qdisc


@pytest.mark.parametrize("path", ["/etc/systemd/zram-generator.conf", "/etc/udev/rules.d/60-hyperion-iosched.rules",
                                  "/etc/tmpfiles.d/hyperion-thp.conf", "/etc/default/grub.d/90-hyperion-boot-params.cfg"])
def test_managed_files(host, path):
    assert host.file(path).is_file
