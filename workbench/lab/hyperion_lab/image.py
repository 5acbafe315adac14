"""Build (or reuse) a pristine, GRUB-bootable Debian disk image for the lab.

The image is made without loop partitions, which this kind of host lacks: debootstrap fills a
directory, `mke2fs -d` copies it into the first partition of a raw disk at a byte offset, and one
boot under qemu with the kernel passed by the host runs grub-install and update-grub inside the
guest. From then on the image boots through GRUB like a real machine.

Images are cached under workbench/lab/cache/<suite>-<key>/, where key hashes every input: the suite, the
package list, the disk size, this file and the files copied into the guest.
"""
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid

from hyperion_lab.common import CACHE_DIR, GUEST_DIR, LOGIN_USER, RUN_DIR, LabError, log, run, tail, validate_suite
from hyperion_lab.mirror import debian_mirror

PACKAGES = (
    "systemd",
    "systemd-sysv",
    "udev",
    "dbus",
    "python3",
    "python3-apt",
    "openssh-server",
    # The lab is reached as an unprivileged user that escalates with sudo, as a real fleet is.
    "sudo",
    "grub-pc",
    "linux-image-amd64",
    "iproute2",
    "kmod",
    "procps",
    # initramfs-tools compresses with zstd when it is there (gzip otherwise, slower to boot).
    "zstd",
    # The zram role's swap. The guests reach no Debian mirror, so the role finds it installed; the
    # empty /etc/systemd/zram-generator.conf of workbench/lab/guest keeps its default device off until the role
    # writes its own, as on a machine that never used zram.
    "systemd-zram-generator",
)
DISK_SIZE_MIB = 8192
PARTITION_OFFSET = 1048576
FIRSTBOOT_TIMEOUT = 900
FIRSTBOOT_DONE = "hyperion-lab-firstboot: done"
# Units that only cost boot time and disk I/O on a throw-away test machine.
MASKED_UNITS = ("apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer", "fstrim.timer")
ENABLED_UNITS = ("systemd-networkd.service", "hyperion-lab-firstboot.service", "hyperion-lab-identity.service")


def _guest_files():
    """(relative path, mode) of every file the builder copies into the root file system."""
    files = []
    for top, _dirs, names in os.walk(GUEST_DIR):
        for name in names:
            path = os.path.join(top, name)
            files.append((os.path.relpath(path, GUEST_DIR), os.stat(path).st_mode & 0o777))
    return sorted(files)


def cache_key(suite, packages=PACKAGES, disk_size_mib=DISK_SIZE_MIB, builder_source=None, guest_files=None):
    """Hash of everything that decides the image's content: change any input, get a new image."""
    validate_suite(suite)
    digest = hashlib.sha256()
    digest.update(json.dumps({"suite": suite, "packages": sorted(packages), "disk_size_mib": disk_size_mib}, sort_keys=True).encode())
    if builder_source is None:
        with open(__file__, "rb") as handle:
            builder_source = handle.read()
    digest.update(hashlib.sha256(builder_source).digest())
    if guest_files is None:
        guest_files = []
        for relpath, mode in _guest_files():
            with open(os.path.join(GUEST_DIR, relpath), "rb") as handle:
                guest_files.append((relpath, mode, handle.read()))
    for relpath, mode, content in guest_files:
        digest.update(("%s %o %d\n" % (relpath, mode, len(content))).encode())
        digest.update(content)
    return digest.hexdigest()[:16]


def image_dir(suite, key=None):
    return os.path.join(CACHE_DIR, "%s-%s" % (suite, key or cache_key(suite)))


def cached_image(suite):
    """The manifest of a complete cached image for suite, or None."""
    directory = image_dir(suite)
    manifest_path = os.path.join(directory, "manifest.json")
    if not os.path.exists(manifest_path):
        return None
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    needed = (manifest["image"], manifest["private_key"])
    if not all(os.path.exists(path) for path in needed):
        return None
    return manifest


def ensure_image(suite):
    """Reuse the cached image of suite or build it; return its manifest."""
    validate_suite(suite)
    os.makedirs(CACHE_DIR, exist_ok=True)
    manifest = cached_image(suite)
    if manifest:
        log("reusing %s image %s" % (suite, os.path.basename(os.path.dirname(manifest["image"]))))
        return manifest
    # One build at a time per cache: a second caller waits, then finds the first one's image.
    with open(os.path.join(CACHE_DIR, ".build.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = cached_image(suite)
        if manifest:
            return manifest
        return _build(suite)


def _build(suite):
    key = cache_key(suite)
    final_dir = image_dir(suite, key)
    work_dir = final_dir + ".building"
    shutil.rmtree(work_dir, ignore_errors=True)
    shutil.rmtree(final_dir, ignore_errors=True)
    os.makedirs(work_dir)
    started = time.monotonic()
    try:
        rootfs = os.path.join(work_dir, "rootfs")
        mirror = debian_mirror()
        log("building %s image %s-%s (debootstrap from the host's apt mirror)" % (suite, suite, key))
        _debootstrap(suite, rootfs, mirror, os.path.join(work_dir, "debootstrap.log"))
        log("debootstrap done after %.0f s" % (time.monotonic() - started))
        _make_key(work_dir)
        root_uuid = str(uuid.UUID(hashlib.sha256(key.encode()).hexdigest()[:32]))
        _customise(rootfs, work_dir, root_uuid)
        kernel, initrd, kernel_version = _kernel_files(rootfs)
        shutil.copy(kernel, os.path.join(work_dir, "vmlinuz"))
        shutil.copy(initrd, os.path.join(work_dir, "initrd.img"))
        raw = os.path.join(work_dir, "disk.raw")
        _make_disk(raw, rootfs, root_uuid)
        _remove_rootfs(rootfs)
        log("disk made after %.0f s; first boot installs GRUB" % (time.monotonic() - started))
        _first_boot(work_dir, raw)
        image = os.path.join(work_dir, "image.qcow2")
        run(["qemu-img", "convert", "-O", "qcow2", raw, image])
        for leftover in ("disk.raw", "vmlinuz", "initrd.img"):
            os.unlink(os.path.join(work_dir, leftover))
        manifest = {
            "suite": suite,
            "key": key,
            "kernel_version": kernel_version,
            "root_uuid": root_uuid,
            "packages": list(PACKAGES),
            "build_seconds": round(time.monotonic() - started),
            "image": os.path.join(final_dir, "image.qcow2"),
            "private_key": os.path.join(final_dir, "id_ed25519"),
        }
        with open(os.path.join(work_dir, "manifest.json"), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
        os.rename(work_dir, final_dir)
    except BaseException:
        # A half-built image must never look cached; keep the logs of a failure for a look.
        _remove_rootfs(os.path.join(work_dir, "rootfs"))
        for leftover in ("disk.raw", "image.qcow2"):
            if os.path.exists(os.path.join(work_dir, leftover)):
                os.unlink(os.path.join(work_dir, leftover))
        raise
    log("built %s image in %d s" % (suite, manifest["build_seconds"]))
    _prune(suite, keep=final_dir)
    return manifest


def _remove_rootfs(rootfs):
    """Delete a build's root file system, never what an interrupted debootstrap left mounted in it."""
    with open("/proc/mounts", encoding="utf-8") as handle:
        mounts = [line.split()[1] for line in handle]
    for mount_point in sorted((m for m in mounts if m == rootfs or m.startswith(rootfs + "/")), reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False)
    shutil.rmtree(rootfs, ignore_errors=True)


def _images_in_use():
    """Backing images of the labs that have run state: they must outlive a newer build."""
    in_use = set()
    for path in glob.glob(os.path.join(RUN_DIR, "*", "state.json")):
        try:
            with open(path, encoding="utf-8") as handle:
                in_use.add(os.path.dirname(json.load(handle)["image"]))
        except (OSError, ValueError, KeyError):
            continue
    return in_use


def _prune(suite, keep):
    """Older images of a suite (other inputs) would only fill the disk."""
    in_use = _images_in_use()
    for directory in glob.glob(os.path.join(CACHE_DIR, suite + "-*")):
        if directory != keep and directory not in in_use and not directory.endswith(".building"):
            log("removing outdated image %s" % os.path.basename(directory))
            shutil.rmtree(directory, ignore_errors=True)


def _debootstrap(suite, rootfs, mirror, log_path):
    argv = ["debootstrap", "--variant=minbase", "--components=main", "--include=" + ",".join(PACKAGES), suite, rootfs, mirror]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
    with open(log_path, "w", encoding="utf-8") as handle:
        result = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
    if result.returncode != 0:
        raise LabError("debootstrap of %s failed (exit %d); the end of %s:\n%s" % (suite, result.returncode, log_path, tail(log_path, 20)))


def _make_key(work_dir):
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hyperion-lab", "-f", os.path.join(work_dir, "id_ed25519")])


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def _customise(rootfs, work_dir, root_uuid):
    for relpath, mode in _guest_files():
        target = os.path.join(rootfs, relpath)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(GUEST_DIR, relpath), target)
        os.chmod(target, mode)
    _write(os.path.join(rootfs, "etc/hyperion-lab/firstboot"), "GRUB is installed on the first boot\n")
    _write(os.path.join(rootfs, "etc/fstab"), "UUID=%s / ext4 errors=remount-ro 0 1\n" % root_uuid)
    _write(os.path.join(rootfs, "etc/hostname"), "hyperion-lab\n")
    _write(os.path.join(rootfs, "etc/hosts"), "127.0.0.1\tlocalhost\n127.0.1.1\thyperion-lab\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    # qemu's user-mode network answers DNS on this guest-side address.
    _write(os.path.join(rootfs, "etc/resolv.conf"), "nameserver 10.0.2.3\n")
    with open(os.path.join(work_dir, "id_ed25519.pub"), encoding="utf-8") as handle:
        public_key = handle.read()
    # Logins as on a real fleet: the lab's key opens the unprivileged LOGIN_USER, which may sudo without a
    # password; root has no key and sshd refuses it (workbench/lab/guest/etc/ssh/sshd_config.d).
    run(["chroot", rootfs, "useradd", "--create-home", "--shell", "/bin/bash", "--comment", "fleet login", LOGIN_USER])
    home = "home/" + LOGIN_USER
    os.makedirs(os.path.join(rootfs, home, ".ssh"), mode=0o700, exist_ok=True)
    _write(os.path.join(rootfs, home, ".ssh/authorized_keys"), public_key, 0o600)
    run(["chroot", rootfs, "chown", "-R", "%s:%s" % (LOGIN_USER, LOGIN_USER), "/" + home + "/.ssh"])
    _write(os.path.join(rootfs, "etc/sudoers.d/hyperion-lab"), "%s ALL=(ALL:ALL) NOPASSWD: ALL\n" % LOGIN_USER, 0o440)
    run(["systemctl", "--root=" + rootfs, "enable"] + list(ENABLED_UNITS))
    run(["systemctl", "--root=" + rootfs, "mask"] + list(MASKED_UNITS))
    # Later grub-pc upgrades inside a machine must know where GRUB lives instead of asking.
    run(["chroot", rootfs, "debconf-set-selections"], input="grub-pc grub-pc/install_devices multiselect /dev/vda\n")


def _kernel_files(rootfs):
    kernels = sorted(glob.glob(os.path.join(rootfs, "boot", "vmlinuz-*")))
    if not kernels:
        raise LabError("no kernel in %s/boot: did linux-image-amd64 install?" % rootfs)
    version = os.path.basename(kernels[-1])[len("vmlinuz-"):]
    initrd = os.path.join(rootfs, "boot", "initrd.img-" + version)
    if not os.path.exists(initrd):
        raise LabError("no initramfs for kernel %s in %s/boot" % (version, rootfs))
    return kernels[-1], initrd, version


def _make_disk(raw, rootfs, root_uuid):
    with open(raw, "wb") as handle:
        handle.truncate(DISK_SIZE_MIB * 1024 * 1024)
    run(["sfdisk", "--quiet", raw], input="label: dos\nstart=%d, type=83, bootable\n" % (PARTITION_OFFSET // 512))
    fs_size = "%dM" % (DISK_SIZE_MIB - PARTITION_OFFSET // 1048576)
    run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "hyperion-root", "-U", root_uuid, "-d", rootfs, "-E", "offset=%d" % PARTITION_OFFSET, raw, fs_size])


def _first_boot(work_dir, raw):
    serial_log = os.path.join(work_dir, "firstboot-serial.log")
    argv = [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "1024",
        "-nodefaults", "-display", "none", "-no-reboot",
        "-drive", "file=%s,format=raw,if=virtio,cache=unsafe" % raw,
        "-kernel", os.path.join(work_dir, "vmlinuz"), "-initrd", os.path.join(work_dir, "initrd.img"),
        "-append", "root=/dev/vda1 rw console=ttyS0,115200",
        "-serial", "file:" + serial_log,
        "-nic", "none",
    ]
    try:
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=FIRSTBOOT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LabError("first boot (GRUB install) did not finish within %d s; serial log:\n%s" % (FIRSTBOOT_TIMEOUT, tail(serial_log))) from exc
    with open(serial_log, "rb") as handle:
        finished = FIRSTBOOT_DONE.encode() in handle.read()
    if result.returncode != 0 or not finished:
        raise LabError("first boot did not install GRUB (qemu exit %d %s); serial log:\n%s" % (result.returncode, result.stdout.strip(), tail(serial_log)))
