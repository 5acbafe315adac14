"""testinfra checks of the rollout scenario, from outside, on the fleet deploy.yml converged.

The host configuration that deploy.yml applies (boot_params, zram, network, tuning) is checked here
on the Hyperion test kernel; molecule/host_config checks the same roles on Debian's kernel.
"""
import json
import os
import sys

# The collection's own reader of the test kernel build, as converge.yml uses it through the
# hyperion.kernel.test_kernel lookup (molecule and make put the collection on this path).
sys.path[:0] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]
from ansible_collections.hyperion.kernel.plugins.module_utils.build_result import package_dir, read_build_result  # noqa: E402

CANARY = "ro-canary"
RELEASE = read_build_result(package_dir(os.environ))["release"]


def _name(host):
    return host.backend.get_hostname()


def _grubenv(host):
    lines = host.check_output("grub-editenv list").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_runs_the_test_kernel_and_boots_it_by_default(host):
    assert host.check_output("uname -r") == RELEASE
    env = _grubenv(host)
    # GRUB's entry id path: gnulinux-advanced-<root uuid>>gnulinux-<release>-advanced-<root uuid>.
    assert ">gnulinux-%s-advanced-" % RELEASE in env["saved_entry"], env
    assert env.get("next_entry", "") == ""


def test_the_previous_kernel_stays_for_rollback(host):
    state = json.loads(host.file("/etc/ansible/facts.d/hyperion_rollout.fact").content_string)
    assert state["current_release"] == RELEASE
    previous = state["previous_release"]
    assert previous != RELEASE and not previous.endswith("-noroot")
    assert host.file("/boot/vmlinuz-%s" % previous).is_file
    assert host.package("linux-image-%s" % previous).is_installed


def test_the_kernel_that_could_not_boot_is_not_the_default(host):
    env = _grubenv(host)
    assert "noroot" not in env["saved_entry"]


def test_panic_reboots_and_the_site_policy_is_on_the_command_line(host):
    words = host.file("/proc/cmdline").content_string.split()
    assert "panic=10" in words
    if _name(host) == CANARY:  # lab policy
        assert "kgdboc=ttyS0,115200" in words
        assert host.file("/sys/module/kgdboc/parameters/kgdboc").content_string.strip() == "ttyS0,115200"
    else:  # gaming cafe policy: no debugger on the serial port
        assert not any(w.startswith("kgdboc=") for w in words)
    assert "kgdbwait" not in words


def test_sysrq_follows_the_site_policy(host):
    wanted = "1" if _name(host) == CANARY else "176"
    assert host.file("/proc/sys/kernel/sysrq").content_string.strip() == wanted


def test_zram_zstd_with_lz4hc_recompression(host):
    zram = "/sys/block/zram0"
    assert "[zstd]" in host.file(zram + "/comp_algorithm").content_string
    # The test kernel has CONFIG_ZRAM_MULTI_COMP: the second stream is real here.
    assert "[lz4hc]" in host.file(zram + "/recomp_algorithm").content_string
    swaps = [line.split() for line in host.file("/proc/swaps").content_string.splitlines()[1:]]
    assert [s[4] for s in swaps if s[0] == "/dev/zram0"] == ["100"]
    assert host.service("hyperion-zram-recompress.timer").is_enabled
    assert host.file("/sys/module/zswap/parameters/enabled").content_string.strip() == "N"


def test_bbr_and_cake(host):
    assert host.file("/proc/sys/net/ipv4/tcp_congestion_control").content_string.strip() == "bbr"
    assert host.file("/proc/sys/net/core/default_qdisc").content_string.strip() == "cake"


def test_thp_madvise(host):
    assert "[madvise]" in host.file("/sys/kernel/mm/transparent_hugepage/enabled").content_string
    assert "[defer+madvise]" in host.file("/sys/kernel/mm/transparent_hugepage/defrag").content_string
