"""Find the Debian mirror the host's apt already uses: the lab hard-codes no archive host."""
import glob
import os

from hyperion_lab.common import LabError

MIRROR_ENV = "HYPERION_LAB_MIRROR"
APT_DIR = "/etc/apt"


def _one_line_uris(text):
    """URIs of `deb` lines in the classic sources.list format."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            # Options such as [arch=amd64 signed-by=...] may span several words.
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if words:
            yield words[0]


def _deb822_uris(text):
    """URIs of `Types: deb` stanzas in the deb822 .sources format."""
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
            yield from fields.get("uris", [])


def apt_uris(apt_dir=APT_DIR):
    uris = []
    for path in [os.path.join(apt_dir, "sources.list")] + sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*"))):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        if path.endswith(".sources"):
            uris.extend(_deb822_uris(text))
        elif path.endswith(".list"):
            uris.extend(_one_line_uris(text))
    return uris


def debian_mirror(apt_dir=APT_DIR, environ=None):
    """The archive URI: the environment wins, else the host's first Debian main archive."""
    environ = os.environ if environ is None else environ
    if environ.get(MIRROR_ENV):
        return environ[MIRROR_ENV].rstrip("/")
    for uri in apt_uris(apt_dir):
        # The main archive ends in /debian; debian-security and third-party repositories do not.
        if uri.rstrip("/").endswith("/debian"):
            return uri.rstrip("/")
    raise LabError(
        "no Debian archive found in %s/sources.list*: set %s to a Debian mirror URI" % (apt_dir, MIRROR_ENV)
    )
