# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the host configuration roles: the checks and renderings of the core, on the controller.

They raise a clear error for bad input, so a role fails before it changes the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils import kernel_params, qdisc_boot, qdisc_intent, runtime_knobs, validation, zram_plan
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import tx_queue_count
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


def _guard(function):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except HyperionError as exc:
            raise AnsibleFilterError(str(exc))
    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def kgdboc_tty(value):
    """The serial tty of a kgdboc value ('ttyS0' from 'kbd,ttyS0,115200'; None for the keyboard alone), after
    checking its form."""
    return kernel_params.parse_kgdboc(value)['tty']


def kgdboc_problems(value, ttys, kernel_config, release):
    """The reasons kgdboc VALUE cannot work on a host (empty when it can)."""
    return kernel_params.check_kgdboc_host(value, ttys, kernel_config, release)


def kernel_extra_params(params, known_names, host_module_params=()):
    """Extra parameters from inventory, checked, as kernel_cmdline entries."""
    return kernel_params.check_extra_params(params, known_names, host_module_params)


def kernel_cmdline_policy(kgdboc, kgdbwait, extra, sysrq_always_enabled=False, sysrq=None):
    """The kernel_cmdline params of the boot_params role's policy."""
    return kernel_params.cmdline_params(kgdboc, kgdbwait, extra, sysrq_always_enabled, sysrq)


def runtime_knob_plan(items, role, wanted, unmanaged=None, target_config=None, facts=None):
    """What a role writes for its runtime knobs (command line, sysctl.d, tmpfiles.d, live), from its variables and
    the profile's items."""
    return runtime_knobs.plan_knobs(role, wanted, unmanaged or (), items, target_config, facts)


def zram_size_mib(expression, ram_mib):
    """The size a zram-generator size expression gives, refused when larger than RAM."""
    try:
        ram = float(ram_mib)
    except (TypeError, ValueError):
        raise HyperionError('the host\'s RAM must be a number of MiB, got %r' % (ram_mib,))
    return zram_plan.check_size(expression, ram)


def zram_ratio_expression(minimum, maximum):
    return zram_plan.ratio_expression(minimum, maximum)


def zram_compression(primary, recompression, multi_comp, params='type=idle'):
    """{'setting': compression-algorithm value, 'warning': text or None}."""
    setting, warning = zram_plan.compression_setting(primary, recompression, multi_comp, params)
    return {'setting': setting, 'warning': warning}


def zram_generator_conf(device, size, algorithm, swap_priority, options='discard'):
    priority = validation.bounded_int(swap_priority, 'swap priority', -1, 32767, "swapon's priorities")
    return zram_plan.generator_conf(device, size, algorithm, priority, options)


def zram_algorithms(items, primary=None, recompression=None, multi_comp=True):
    """{'primary', 'recompression'}: the role's variables where the resolved profile items agree, else the items."""
    return zram_plan.algorithm_choice(items, primary, recompression, bool(multi_comp))


def zram_role_inputs(values):
    """True when the zram role's variables (a dict of them) are fit to use; else the error naming the variable."""
    return zram_plan.check_role_inputs(values)


def zram_offered_algorithms(state, device, target_is_running):
    """{'algorithms', 'source'}: what the target kernel's zram offers (sysfs of the running one, else its config)."""
    return zram_plan.offered_algorithms(state, device, bool(target_is_running))


def zram_check_offered(primary, recompression, multi_comp, offered):
    """The algorithms checked; an error when the kernel does not offer one of them."""
    return zram_plan.check_offered(primary, recompression, bool(multi_comp), offered)


def zram_live_safe(state, reserve_kib):
    """Whether the zram swap may be stopped and rebuilt now: its pages fit in MemAvailable with RESERVE_KIB to spare."""
    return zram_plan.live_rebuild_is_safe(state, reserve_kib)


def zram_takeover_probe(text, package, takeover_packages):
    """{'units', 'remove_packages', 'install_package'}: what the zram role's probe of other setups found."""
    return zram_plan.takeover_probe(text, package, takeover_packages)


def qdisc_batch(qdiscs, device):
    """The tc -batch text that builds a qdisc plan on a device with the kernel default."""
    return qdisc_boot.batch_text(device, qdiscs)


def default_route_qdisc(item, default_qdisc, device, links, explicit=None):
    """What the default route interface needs for the resolved item qdisc:@default_route:root."""
    tx_queues = links if isinstance(links, int) and not isinstance(links, bool) else tx_queue_count(links, device)
    return qdisc_intent.default_route_plan(item, default_qdisc, device, tx_queues, explicit)


class FilterModule(object):
    def filters(self):
        functions = (kgdboc_tty, kgdboc_problems, kernel_extra_params, kernel_cmdline_policy, runtime_knob_plan, zram_size_mib,
                     zram_ratio_expression, zram_compression, zram_generator_conf, zram_algorithms, zram_role_inputs,
                     zram_offered_algorithms, zram_check_offered, zram_live_safe, zram_takeover_probe, qdisc_batch,
                     default_route_qdisc)
        return dict((f.__name__, _guard(f)) for f in functions)
