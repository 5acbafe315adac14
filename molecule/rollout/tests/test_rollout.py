"""testinfra checks of the rollout scenario, from outside, on the fleet deploy.yml converged.

The fleet installed the test kernel from repo1's signed repository. The host configuration that
deploy.yml applies (boot_params, zram, network, tuning) is checked here on the Hyperion test kernel,
the canary with the lab's own plans; molecule/host_config checks the same roles on Debian's kernel.
"""
import json
import os
import shlex
import sys

import pytest

# The collection's own reader of the test kernel build, as converge.yml uses it through the
# hyperion.kernel.test_kernel lookup (molecule and make put the collection on this path).
sys.path[:0] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]
from ansible_collections.hyperion.kernel.plugins.plugin_utils.build_result import package_dir, read_build_result  # noqa: E402
# Helpers shared with the other lab scenario's tests (molecule/shared/lab_checks.py).
sys.path.insert(0, os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd()), "molecule", "shared"))
from lab_checks import check_plan_survives_a_link_flap_and_returns_when_lost, device_with_address, qdisc_root, qdisc_tree, qdiscs  # noqa: E402

ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
CANARY = "ro-canary"
REPOSITORY = "repo1"
RELEASE = read_build_result(package_dir(os.environ))["release"]
UPLINK_NET = "10.0.2."
PEER_NET = "10.77.0."


def _name(host):
    return host.backend.get_hostname()


@pytest.fixture(autouse=True)
def _one_kind_of_machine(request, host):
    """Checks of the repository run on repo1 only, the fleet's on the fleet; elsewhere they are skipped."""
    on_repository = request.node.get_closest_marker("repository") is not None
    if on_repository != (_name(host) == REPOSITORY):
        pytest.skip("a check of %s" % ("repo1" if on_repository else "the fleet"))


def _canary_only(host):
    if _name(host) != CANARY:
        pytest.skip("a check of the canary's lab plans")


def _build():
    """The test kernel's build record: one source for what was built and what checks of it skip."""
    return read_build_result(package_dir(os.environ))


@pytest.mark.repository
def test_repo_serves_a_signed_index(host):
    assert host.service("nginx").is_running
    verify = host.run("GNUPGHOME=/var/lib/hyperion-kernel/gnupg gpg --batch --verify "
                      "/srv/hyperion-kernel/apt/dists/hyperion/InRelease")
    assert verify.rc == 0, verify.stderr


def test_installed_from_the_signed_repository(host):
    sources = host.file("/etc/apt/sources.list.d/hyperion-kernel.sources").content_string
    assert "Signed-By: /etc/apt/keyrings/hyperion-kernel.asc" in sources
    policy = host.check_output("apt-cache policy linux-image-%s" % RELEASE)
    assert "http://10.77.0." in policy and "***" in policy


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
    assert previous != RELEASE
    assert host.file("/boot/vmlinuz-%s" % previous).is_file
    assert host.package("linux-image-%s" % previous).is_installed


def test_panic_reboots_and_the_site_policy_is_on_the_command_line(host):
    words = host.file("/proc/cmdline").content_string.split()
    assert "panic=10" in words
    if _name(host) == CANARY:  # lab policy, kgdboc in the combined form of molecule.yml
        assert "kgdboc=kms,kbd,ttyS0,115200" in words
        # The kernel took it: the built-in kgdboc keeps the configuration it registered with.
        assert host.file("/sys/module/kgdboc/parameters/kgdboc").content_string.strip() == "kms,kbd,ttyS0,115200"
        assert "KGDB: Registered I/O driver kgdboc" in host.check_output("dmesg")
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


# What the Hyperion kernel adds out of tree, checked on the running kernel as the health gate checks
# it: the BORE scheduler with the burst smoothness the tuning role set before the trial boot (the
# old kernel had no BORE), and ADIOS on the lab's NVMe disk. A test kernel built without the patches
# must report these items as skipped with the build's reason, never as passing.
BORE_AND_ADIOS_ITEMS = ("CONFIG_SCHED_BORE", "CONFIG_MQ_IOSCHED_ADIOS", "bore:burst_smoothness", "sysctl:kernel.sched_bore",
                        "iosched:nvme")


def _running_check(host, build):
    """profile_check's results by item id for the running test kernel, with the build's skips."""
    overrides = dict(build["profile_skips"], **{"uname:release": RELEASE, "CONFIG_LOCALVERSION": "-hyperion"})
    result = host.ansible("hyperion.kernel.profile_check",
                          json.dumps({"profile": "hyperion-2.2.4", "overrides": overrides, "fail_on": "never"}),
                          check=False, become=True)
    assert not result.get("failed"), result.get("msg")
    return dict((item["id"], item) for item in result["items"])


def test_bore_and_adios_run_with_the_profile_settings(host):
    build = _build()
    status = _running_check(host, build)
    if not build["patches"]:
        assert status["CONFIG_SCHED_BORE"]["status"] == "not_applicable", status["CONFIG_SCHED_BORE"]
        assert build["accepted_missing"]["CONFIG_SCHED_BORE"] in status["CONFIG_SCHED_BORE"]["detail"]
        pytest.skip("the test kernel was built without the BORE and ADIOS patches: %s" % build["accepted_missing"]["CONFIG_SCHED_BORE"])
    for item in BORE_AND_ADIOS_ITEMS:
        assert status[item]["status"] == "pass", status[item]
    assert status["bore:burst_smoothness"]["actual"] == "2"
    assert "[adios]" in host.file("/sys/block/nvme0n1/queue/scheduler").content_string
    if _name(host) == CANARY:  # the lab's tuning_adios (molecule.yml); ADIOS's own defaults elsewhere
        iosched = "/sys/block/nvme0n1/queue/iosched/"
        assert (host.file(iosched + "read_priority").content_string.strip(),
                host.file(iosched + "bq_refill_below_ratio").content_string.strip()) == ("-5", "15")


def test_the_record_of_the_full_pass_matches_and_sees_drift(host):
    """The record run 2 left is what run 3's fast path took: it matches the canary as it is (its two
    qdisc plans included), and one changed watched file is enough to bring the full pass back. Runs
    before the canary's link tests, which take its qdiscs down and up again."""
    _canary_only(host)
    record = json.loads(host.file("/var/lib/hyperion-kernel/converged.json").content_string)
    watched = "/etc/default/grub"
    assert record["release"] == RELEASE
    assert watched in record["files"] and "/boot/vmlinuz-%s" % RELEASE in record["files"]
    assert len(record["qdisc_plans"]) == 2, record["qdisc_plans"]

    def convergence(**extra):
        return host.ansible("hyperion.kernel.convergence_info",
                            json.dumps(dict({"fingerprint": record["fingerprint"]}, **extra)), check=False, become=True)
    result = convergence(max_age_days=7)
    assert result["converged"] is True, result["reasons"]
    # The same record dated back to January stands no more under the role's default maximum age.
    aged = dict(record, recorded_at="2026-01-01T00:00:00Z")
    host.check_output("printf '%%s' %s > /root/converged-aged.json" % shlex.quote(json.dumps(aged)))
    try:
        assert convergence(path="/root/converged-aged.json")["converged"] is True
        result = convergence(path="/root/converged-aged.json", max_age_days=7)
        assert result["reasons"] == ["the full pass of 2026-01-01T00:00:00Z is older than 7 days"]
    finally:
        host.check_output("rm -f /root/converged-aged.json")
    # The lab's machines are reached as root, as the other checks here run systemctl.
    host.check_output("cp -p %s /root/grub.saved && echo '# drift' >> %s" % (watched, watched))
    try:
        result = convergence()
        assert result["converged"] is False and result["reasons"] == ["%s changed" % watched]
    finally:
        host.check_output("mv /root/grub.saved %s" % watched)
    assert convergence()["converged"] is True


def test_profile_check_passes_every_supported_item(host):
    _canary_only(host)
    build = _build()
    overrides = dict(build["profile_skips"])
    # The test kernel's own release string, as the build gave it.
    overrides["CONFIG_LOCALVERSION"] = "-hyperion"
    result = host.ansible("hyperion.kernel.profile_check",
                          json.dumps({"profile": "hyperion-2.2.4", "config_path": "/boot/config-%s" % RELEASE,
                                      "overrides": overrides, "fail_on": "recommended", "strict": True}),
                          check=False, become=True)
    assert not result.get("failed"), result.get("msg")
    assert result["compliant"] is True
    counts = result["summary"]["counts"]
    assert counts["fail"] == 0 and counts["unknown"] == 0, result["summary"]
    assert counts["pass"] > 50, counts
    skipped = set(item["id"] for item in result["items"] if item["status"] == "not_applicable")
    assert set(build["accepted_missing"]) <= skipped


# The release notes' runtime promises the roles set, on the running test kernel after its reboot (the HRTICK
# feature from tmpfiles.d, schedstats and tcp_notsent_lowat from sysctl.d, threadirqs and DAMON reclaim from the
# command line). Lazy preemption came with 6.13 and the test kernel has no USB: those two report why they do not
# apply, as profile_check does on any kernel without them.
RUNTIME_ITEMS_PASS = ("cmdline:threadirqs", "modparam:damon_reclaim.enabled", "sysctl:kernel.sched_schedstats",
                      "sched_feature:HRTICK", "sysctl:net.ipv4.tcp_notsent_lowat")
RUNTIME_ITEMS_NOT_APPLICABLE = {"sched:preempt": "needs CONFIG_ARCH_HAS_PREEMPT_LAZY",
                                "modparam:usbcore.autosuspend": "needs CONFIG_USB"}


def test_runtime_promises_hold_on_the_running_test_kernel(host):
    status = _running_check(host, _build())
    for item in RUNTIME_ITEMS_PASS:
        assert status[item]["status"] == "pass", status[item]
    for item, reason in RUNTIME_ITEMS_NOT_APPLICABLE.items():
        assert (status[item]["status"], status[item]["detail"]) == ("not_applicable", reason), status[item]
    words = host.file("/proc/cmdline").content_string.split()
    assert "threadirqs" in words and "damon_reclaim.enabled=Y" in words
    assert not any(word.startswith(("preempt=", "usbcore.autosuspend=")) for word in words), words


def test_canary_extra_kernel_parameters(host):
    _canary_only(host)
    words = host.file("/proc/cmdline").content_string.split()
    assert "nmi_watchdog=0" in words and "zswap.max_pool_percent=10" in words


def test_canary_uplink_runs_cake_at_its_planned_rate(host):
    _canary_only(host)
    uplink = device_with_address(host, UPLINK_NET)
    root = qdisc_root(qdiscs(host, uplink))
    assert root["kind"] == "cake"
    assert root["options"]["bandwidth"] == 12500000  # 100Mbit in bytes per second
    assert root["options"]["diffserv"] == "diffserv4"
    assert host.service("hyperion-qdisc@%s.service" % uplink).is_enabled


def test_canary_peer_link_runs_taprio_with_etf(host):
    _canary_only(host)
    peer = device_with_address(host, PEER_NET)
    kind, handle, children = qdisc_tree(host, peer)
    assert (kind, handle) == ("taprio", "100:")
    # The plan's etf on the first queue; the kernel gives each other queue its default child (pfifo).
    assert [child for parent, child in children if parent == "100:1"] == ["etf"]


def test_canary_plan_survives_a_link_flap_and_returns_when_lost(host):
    _canary_only(host)
    check_plan_survives_a_link_flap_and_returns_when_lost(host, device_with_address(host, PEER_NET))


def test_idle_pages_are_recompressed_on_demand(host):
    _canary_only(host)
    # One run by hand: marks and recompresses idle pages, never fails.
    run = host.run("systemctl start hyperion-zram-recompress.service")
    assert run.rc == 0, run.stderr
    journal = host.check_output("journalctl -b -u hyperion-zram-recompress.service --no-pager -o cat")
    assert "zram0: recompressed idle pages" in journal
