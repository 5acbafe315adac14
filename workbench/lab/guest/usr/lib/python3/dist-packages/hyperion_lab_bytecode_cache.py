"""Lab machines only: reuse the compiled code of modules imported from zip archives.

Ansible runs every module from an AnsiballZ zip that lands in a new temporary directory each
time, and Python never caches bytecode for zip imports, so each module call compiles
ansible.module_utils anew: under qemu TCG a third to a half of a module call. This hook keeps the
code objects in /var/cache/hyperion-lab/bytecode, keyed by a hash of the source, the file's base
name and the interpreter's bytecode magic, and gives each reused code object the file name of the
import at hand, so tracebacks and __file__ read as without the cache. Installed at interpreter
start by hyperion-lab-bytecode-cache.pth; a cache that cannot be read or written means a normal
compile.
"""
# Every python3 of the machine imports this: only what the interpreter has loaded anyway at the
# top, the rest when a zip import compiles.
import os
import zipimport

CACHE_DIR = "/var/cache/hyperion-lab/bytecode"


def _with_filename(code, filename):
    import types
    consts = tuple(_with_filename(const, filename) if isinstance(const, types.CodeType) else const
                   for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cached_compile(pathname, source, _compile=zipimport._compile_source):
    import hashlib
    import importlib.util
    import marshal
    key = hashlib.sha256(importlib.util.MAGIC_NUMBER + os.path.basename(pathname).encode() + b"\0" + source).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        with open(path, "rb") as handle:
            return _with_filename(marshal.load(handle), pathname)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = _compile(pathname, source)
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        partial = "%s.%d" % (path, os.getpid())
        with open(partial, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(partial, path)
    except OSError:
        pass
    return code


def install():
    """Route zipimport's compile through the cache (root only: the cache is root's)."""
    if os.geteuid() == 0 and hasattr(zipimport, "_compile_source") and zipimport._compile_source is not _cached_compile:
        zipimport._compile_source = _cached_compile
