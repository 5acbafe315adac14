"""The VM lab's pure parts: no machine is started here."""
import json
import os
import socket
import subprocess
import sys
import zipfile

import pytest
import yaml

from hyperion_lab import image, machines, mirror
from hyperion_lab.common import LabError, tail
from hyperion_lab.inventory import molecule_instance_config, write_inventory_files

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join(REPO, "workbench", "lab", "bin", "hyperion-lab")


def run_cli(tmp_path, *args):
    """The real CLI with run state and cache in tmp_path, so that nothing of a running lab is touched."""
    env = dict(os.environ, HYPERION_LAB_RUN=str(tmp_path / "run"), HYPERION_LAB_CACHE=str(tmp_path / "cache"))
    return subprocess.run([CLI] + list(args), capture_output=True, text=True, env=env, check=False)


# Memory


def test_memory_refusal_states_the_figures():
    with pytest.raises(LabError) as error:
        machines.check_memory(count=30, memory_mib=1024, available_mib=20480, reserve_mib=2048)
    message = str(error.value)
    assert "30 machines x 1024 MiB = 30720 MiB" in message
    assert "only 18432 MiB are usable" in message
    assert "at most 18 machines" in message


def test_memory_that_fits_is_accepted():
    assert machines.check_memory(count=3, memory_mib=1024, available_mib=20480, reserve_mib=2048) == 3072


def test_mem_available_is_read_from_meminfo():
    meminfo = "MemTotal:       24576000 kB\nMemFree:        1000 kB\nMemAvailable:   20971520 kB\n"
    assert machines.mem_available_mib(meminfo) == 20480


def test_plan_refuses_before_anything_starts(tmp_path):
    result = run_cli(tmp_path, "up", "-n", "4", "--memory", str(10 ** 7))
    assert result.returncode == 1
    assert "not enough memory: 4 machines x 10000000 MiB" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
    assert not (tmp_path / "cache").exists()


# Names and other bad input


def test_default_names_start_with_the_demo_fleet():
    assert machines.default_names(5) == ["lab1", "cafe1", "cafe2", "node4", "node5"]


@pytest.mark.parametrize("names, fragment", [
    (["a", "a"], "given twice: a"),
    (["Bad_Name"], "bad machine name 'Bad_Name'"),
    ([], "no machines"),
    (["m%d" % i for i in range(40)], "at most 32"),
])
def test_bad_machine_names_are_refused(names, fragment):
    with pytest.raises(LabError, match=fragment):
        machines.validate_names(names)


def test_unknown_suite_is_refused(tmp_path):
    result = run_cli(tmp_path, "up", "--suite", "hamm")
    assert result.returncode == 1
    assert "unknown suite 'hamm': choose one of trixie, bookworm" in result.stderr
    assert not (tmp_path / "run").exists()


def test_ssh_to_a_lab_that_is_down_is_refused(tmp_path):
    result = run_cli(tmp_path, "ssh", "lab1")
    assert result.returncode == 1
    assert "lab 'demo' is not up" in result.stderr


def test_ssh_to_an_unknown_machine_names_the_known_ones(tmp_path):
    lab = tmp_path / "run" / "demo"
    lab.mkdir(parents=True)
    state = {"machines": [{"name": "lab1"}, {"name": "cafe1"}]}
    (lab / "state.json").write_text(json.dumps(state), encoding="utf-8")
    result = run_cli(tmp_path, "ssh", "cafe9")
    assert result.returncode == 1
    assert "no machine 'cafe9' in lab 'demo'; its machines are: lab1 cafe1" in result.stderr


def test_count_and_names_must_agree(tmp_path):
    result = run_cli(tmp_path, "up", "-n", "2", "--names", "a,b,c")
    assert result.returncode == 1
    assert "-n 2 does not match the 3 names given" in result.stderr


# Ports


def test_reserved_port_is_held_until_released():
    port, held = machines.reserve_port()
    try:
        assert not machines.port_is_free(port)
    finally:
        held.close()
    assert machines.port_is_free(port)


def test_reserved_port_avoids_ports_already_taken():
    first, held = machines.reserve_port()
    held.close()
    second, held = machines.reserve_port(taken=[first])
    held.close()
    assert second != first


def test_udp_port_for_the_peer_network():
    port, held = machines.reserve_port(socket.SOCK_DGRAM)
    try:
        assert not machines.port_is_free(port, socket.SOCK_DGRAM)
    finally:
        held.close()


# Image cache key


def test_cache_key_is_stable_for_the_same_inputs():
    assert image.cache_key("trixie") == image.cache_key("trixie")


def test_cache_key_changes_with_each_input():
    base = {"builder_source": b"v1", "guest_files": [("etc/x", 0o644, b"x")]}
    keys = {
        image.cache_key("trixie", **base),
        image.cache_key("bookworm", **base),
        image.cache_key("trixie", packages=image.PACKAGES + ("vim",), **base),
        image.cache_key("trixie", disk_size_mib=4096, **base),
        image.cache_key("trixie", builder_source=b"v2", guest_files=base["guest_files"]),
        image.cache_key("trixie", builder_source=b"v1", guest_files=[("etc/x", 0o755, b"x")]),
        image.cache_key("trixie", builder_source=b"v1", guest_files=[("etc/x", 0o644, b"y")]),
    }
    assert len(keys) == 7


def test_cache_key_ignores_package_order():
    assert image.cache_key("trixie", packages=("a", "b")) == image.cache_key("trixie", packages=("b", "a"))


def test_cache_key_refuses_unknown_suite():
    with pytest.raises(LabError, match="unknown suite"):
        image.cache_key("potato")


def test_missing_cache_means_no_image(tmp_path, monkeypatch):
    monkeypatch.setattr(image, "CACHE_DIR", str(tmp_path))
    assert image.cached_image("trixie") is None


# Inventory files


def planned(names):
    return machines.plan("unit", names, "trixie", available_mib=10 ** 6)


def test_inventory_files_describe_every_machine(tmp_path):
    lab = planned(["lab1", "cafe1"])
    for port, machine in zip((2201, 2202), lab):
        machine.ssh_port = port
    records = write_inventory_files(str(tmp_path), "unit", lab, "/keys/id_ed25519")
    assert records["cafe1"]["peer_addr"] == "10.77.0.2"
    inventory = yaml.safe_load((tmp_path / "hosts.yml").read_text(encoding="utf-8"))
    hosts = inventory["all"]["children"]["hyperion_lab"]["hosts"]
    assert hosts["lab1"]["ansible_port"] == 2201
    assert hosts["cafe1"]["ansible_ssh_private_key_file"] == "/keys/id_ed25519"
    # A fleet's login: unprivileged, escalating with sudo where a play asks for it (root cannot log in).
    assert hosts["lab1"]["ansible_user"] == "ansible" and "ansible_become" not in hosts["lab1"]
    ssh_config = (tmp_path / "ssh_config").read_text(encoding="utf-8")
    assert "Host cafe1\n    HostName 127.0.0.1\n    Port 2202\n" in ssh_config
    assert "    User ansible\n" in ssh_config
    assert json.loads((tmp_path / "machines.json").read_text(encoding="utf-8"))["lab1"]["port"] == 2201


def test_generated_inventory_is_read_by_ansible(tmp_path):
    lab = planned(["lab1"])
    lab[0].ssh_port = 2222
    write_inventory_files(str(tmp_path), "unit", lab, "/keys/id_ed25519")
    inventory_cli = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    result = subprocess.run([inventory_cli, "-i", str(tmp_path / "hosts.yml"), "--host", "lab1"], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["ansible_port"] == 2222


def test_molecule_instance_config_has_the_driver_keys():
    records = {"smoke1": {"address": "127.0.0.1", "port": 2201, "user": "root", "identity_file": "/k", "peer_addr": "10.77.0.1", "serial_log": "s"}}
    assert molecule_instance_config(records) == [
        {"instance": "smoke1", "address": "127.0.0.1", "port": 2201, "user": "root", "identity_file": "/k"}
    ]


def test_machines_get_distinct_addresses_and_macs():
    lab = planned(["a", "b", "c"])
    assert len({m.peer_addr for m in lab}) == 3
    assert len({m.peer_mac for m in lab} | {m.uplink_mac for m in lab}) == 6


def test_qemu_command_line_carries_identity_and_lab_marker():
    machine = planned(["lab1"])[0]
    machine.ssh_port = 2222
    argv = machine.qemu_argv("239.255.77.1:5000")
    assert "guest=hyperion-lab-unit-lab1" in argv
    assert "user,id=uplink,hostfwd=tcp:127.0.0.1:2222-:22" in argv
    assert "type=1,serial=hyperion-lab host=lab1 peer_mac=52:54:00:a7:01:01 peer_addr=10.77.0.1/24" in argv
    # Every machine has an NVMe data disk besides its virtio root disk.
    assert argv[argv.index("nvme,drive=nvme0,serial=hyperion-lab-lab1") - 1] == "-device"
    assert "file=nvme.qcow2,format=qcow2,if=none,id=nvme0,cache=unsafe" in argv


# Mirror


def test_mirror_is_read_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb deb-src\nURIs: http://mirror.invalid/debian/\nSuites: bookworm\nComponents: main\n",
        encoding="utf-8",
    )
    assert mirror.debian_mirror(str(tmp_path), environ={}) == "http://mirror.invalid/debian"


def test_mirror_is_read_from_one_line_sources(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.invalid/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main\n",
        encoding="utf-8",
    )
    assert mirror.debian_mirror(str(tmp_path), environ={}) == "http://mirror.invalid/debian"


def test_mirror_from_environment_wins(tmp_path):
    assert mirror.debian_mirror(str(tmp_path), environ={mirror.MIRROR_ENV: "http://env.invalid/debian/"}) == "http://env.invalid/debian"


def test_no_mirror_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match="set HYPERION_LAB_MIRROR"):
        mirror.debian_mirror(str(tmp_path), environ={})


# Serial log tail


def test_tail_drops_console_control_bytes(tmp_path):
    log = tmp_path / "serial.log"
    log.write_bytes(b"\x1b[2J\x1b[01;01Hline one\r\n" + b"".join(b"line %d\n" % i for i in range(2, 60)))
    lines = tail(str(log), 3).splitlines()
    assert lines == ["line 57", "line 58", "line 59"]
    assert "\x1b" not in tail(str(log), 100)


def test_tail_of_a_missing_log_says_so(tmp_path):
    assert "no serial log" in tail(str(tmp_path / "none.log"))


# TCG threading


def test_tcg_uses_a_thread_per_vcpu_only_while_they_fit(monkeypatch):
    monkeypatch.delenv("HYPERION_LAB_TCG_THREAD", raising=False)
    assert machines.tcg_thread(2, host_cpus=2) == "multi"
    assert machines.tcg_thread(6, host_cpus=2) == "single"


def test_tcg_threading_can_be_forced_but_not_to_nonsense(monkeypatch):
    monkeypatch.setenv("HYPERION_LAB_TCG_THREAD", "multi")
    assert machines.tcg_thread(6, host_cpus=2) == "multi"
    monkeypatch.setenv("HYPERION_LAB_TCG_THREAD", "many")
    with pytest.raises(LabError, match="single or multi"):
        machines.tcg_thread(6, host_cpus=2)


# Bytecode cache of the lab's guests (workbench/lab/guest/usr/lib/python3/dist-packages)

GUEST_SITE = os.path.join(REPO, "workbench", "lab", "guest", "usr", "lib", "python3", "dist-packages")

ZIP_IMPORT_PROBE = """
import json, sys, zipimport
import hyperion_lab_bytecode_cache as cache
cache.CACHE_DIR = sys.argv[1]
cache.install()
sys.path.insert(0, sys.argv[2])
import probe
print(json.dumps({"value": probe.answer(), "file": probe.__file__, "code_file": probe.answer.__code__.co_filename,
                  "hooked": zipimport._compile_source is cache._cached_compile}))
"""


def _zip_with_probe(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("probe.py", "def answer():\n    return 42\n")
    return str(path)


def _run_zip_probe(cache_dir, archive):
    result = subprocess.run([sys.executable, "-c", ZIP_IMPORT_PROBE, str(cache_dir), archive], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=GUEST_SITE), check=True)
    return json.loads(result.stdout)


def test_bytecode_cache_serves_a_zip_import_from_another_archive(tmp_path):
    """What Ansible does on every module call: the same module_utils, a new zip in a new place."""
    cache_dir = tmp_path / "bytecode"
    first = _run_zip_probe(cache_dir, _zip_with_probe(tmp_path / "call1.zip"))
    entries = sorted(os.listdir(cache_dir))
    assert first["hooked"] and first["value"] == 42 and len(entries) == 1
    second = _run_zip_probe(cache_dir, _zip_with_probe(tmp_path / "call2.zip"))
    # Served from the cache: no new entry, and the names are those of the second archive.
    assert sorted(os.listdir(cache_dir)) == entries
    assert second["value"] == 42
    assert second["file"] == second["code_file"] == str(tmp_path / "call2.zip" / "probe.py")


@pytest.fixture
def bytecode_cache(tmp_path, monkeypatch):
    """The guest module, imported here without install(): its cache in tmp_path/bytecode."""
    monkeypatch.syspath_prepend(GUEST_SITE)
    import hyperion_lab_bytecode_cache as cache
    monkeypatch.setattr(cache, "CACHE_DIR", str(tmp_path / "bytecode"))
    return cache


def test_bytecode_cache_compiles_changed_source_anew(bytecode_cache):
    calls = []

    def compile_source(pathname, source):
        calls.append(pathname)
        return compile(source, pathname, "exec", dont_inherit=True)

    bytecode_cache._cached_compile("/a.zip/m.py", b"x = 1\n", _compile=compile_source)
    bytecode_cache._cached_compile("/b.zip/m.py", b"x = 1\n", _compile=compile_source)
    bytecode_cache._cached_compile("/c.zip/m.py", b"x = 2\n", _compile=compile_source)
    assert calls == ["/a.zip/m.py", "/c.zip/m.py"]


def test_bytecode_cache_without_a_writable_directory_still_compiles(bytecode_cache, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(bytecode_cache, "CACHE_DIR", str(blocker / "bytecode"))
    namespace = {}
    exec(bytecode_cache._cached_compile("/a.zip/m.py", b"x = 3\n"), namespace)  # noqa: S102 - the code compiled above
    assert namespace["x"] == 3
