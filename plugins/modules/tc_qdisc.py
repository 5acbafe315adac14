#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: tc_qdisc
short_description: Manage the root and child qdiscs of one network device (cake, taprio, etf, fq, fq_codel, mq)
version_added: 0.1.0
description:
  - Makes the qdisc tree of O(device) match a plan of a root qdisc and, under a multi-queue root (C(mq), C(taprio)),
    child qdiscs on its classes.
  - The live tree is read with C(tc -j qdisc show dev DEVICE) and compared with the plan qdisc by qdisc (kind,
    parent, handle) and option by option in base units, so C(bandwidth 100Mbit) matches a cake that reports
    C(12500000) bytes per second and C(target 3ms) matches an fq_codel that reports C(2999) microseconds.
  - "The differences become C(tc qdisc replace) and C(tc qdisc del) commands, roots before children. A qdisc of the
    planned kind gets only the planned options changed in place, so options the plan leaves out keep their values.
    A root or child of another kind (or another handle) is created again, and so are an etf whose options differ
    (etf cannot be changed), an fq_codel whose C(flows) differ and a taprio whose C(num_tc), C(map), C(queues),
    C(clockid) or C(mode) differ (the kernel refuses to change them on a running schedule); a new root starts with
    the kernel's default children."
  - Children that the plan does not name are left as they are.
  - The whole plan is validated before the device is changed. Unknown kinds or options, bad units, a number
    outside the range tc or the kernel accepts (see O(qdiscs[].options)), a taprio whose queues do not fit the
    device's tx queues or overlap, gate masks or C(map) entries beyond C(num_tc), a taprio C(cycle_time) shorter
    than the sum of its intervals, an etf with a clock other than C(CLOCK_TAI) or on a parent that is not a taprio
    class, a taprio whose C(mode) lacks what it needs (see O(qdiscs[].options)), a full offload on a link whose
    driver cannot run it (see O(taprio_offload_drivers)), and a device that does not exist are each a clear error
    naming the qdisc and option, and nothing is changed.
  - "A qdisc of another kind, another handle or options that cannot change is not deleted first: C(tc qdisc
    replace) grafts the new one, which the kernel builds and checks before it swaps it in, so a refusal leaves the
    old one in place. When the new qdisc wants the old one's handle it goes in under a spare handle (C(fff0:)
    downwards) first. The one exception is a taprio taking the place of a taprio (or of the qdisc holding its
    handle): the old one must be deleted first, because its removal resets the device's traffic classes."
  - After the commands ran, the device is read again and must match the plan, else the module fails.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  device:
    description:
      - The network interface, for example C(eth0) or C(enp3s0); at most 15 characters, without C(/), C(:) or white
        space (the kernel's C(dev_valid_name)).
    type: str
    required: true
  state:
    description:
      - V(present) makes the tree match O(qdiscs).
      - V(absent) deletes the root qdisc (and with it every child), so the kernel's default qdisc comes back;
        a device that already has its default root is left alone. O(qdiscs) must be empty.
    type: str
    choices: [present, absent]
    default: present
  taprio_offload_drivers:
    description:
      - Drivers to trust with a taprio in mode V(full-offload) besides the ones this collection knows.
      - "A full offload is refused before anything changes unless the driver of O(device) (the name
        C(/sys/class/net/DEVICE/device/driver) links to) runs a taprio schedule in hardware. The collection knows
        the drivers of Linux 6.12.118 whose C(ndo_setup_tc) handles C(TC_SETUP_QDISC_TAPRIO): C(igc), C(fsl_enetc),
        C(am65-cpsw-nuss), C(tsnep), C(lan966x-switch), the DSA switches C(sja1105), C(mscc_felix) and
        C(hellcreek), C(netdevsim) and the stmmac glue drivers (C(stmmaceth), C(intel-eth-pci), C(rk_gmac-dwmac),
        ...); the error lists them all. A driver a newer kernel added goes here."
      - A virtual link (dummy, veth, a bridge, a VLAN) has no driver and is always refused.
      - A listed driver on hardware without the feature (stmmac without EST) is still refused by the kernel, when
        tc runs.
      - Each a driver name of letters, digits, C(_), C(.) and C(-).
    type: list
    elements: str
    default: []
  qdiscs:
    description:
      - The plan, one entry per qdisc; exactly one has O(qdiscs[].parent=root).
    type: list
    elements: dict
    default: []
    suboptions:
      parent:
        description:
          - V(root), or a class of the root qdisc as C(MAJOR:MINOR) in hexadecimal like tc (V(100:1) is the first
            class of a root with handle C(100:); C(mq) and C(taprio) have one class per tx queue).
        type: str
        default: root
      handle:
        description:
          - The qdisc's handle (V(1:), V(100:)). Required on a root that has children. Without it the kernel picks
            one and the handle is not compared.
        type: str
      kind:
        description:
          - The qdisc. C(mq) and C(taprio) only at the root; C(etf) only under a C(taprio) class.
        type: str
        required: true
        choices: [cake, etf, fq, fq_codel, mq, taprio]
      options:
        description:
          - "tc's options in tc's words and units; C(-) and C(_) in names are the same. A flag takes V(true) or
            V(false)."
          - "C(cake): C(bandwidth) (rate from 8bit, that is 1 byte/s, to 2^64-1 bytes/s, tc's 64-bit rate; or
            V(unlimited): a rate of 0 is refused, as tc would send no rate and keep the old one), C(diffserv)
            (V(besteffort), V(diffserv3), V(diffserv4), V(diffserv8), V(precedence)), C(flowmode), C(nat), C(wash),
            C(ingress), C(ack_filter) (V(disabled), V(enabled), V(aggressive)), C(split_gso), C(rtt) (time from 1us
            to 2^32-1 us), C(overhead) (-64 to 256)."
          - "C(fq): C(maxrate) (rate up to 2^32-2 bytes/s, fq's 32-bit rate, 2^32-1 being unlimited), C(low_rate_threshold)
            (rate up to 2^32-1 bytes/s), C(limit), C(flow_limit), C(orphan_mask) (0 to 2^32-1), C(buckets) (a power
            of two from 2 to 262144), C(quantum) (bytes as a whole number without unit, as tc reads it, from 256 to
            1048576), C(initial_quantum) (bytes as a whole number, up to 2^32-1), C(refill_delay), C(horizon)
            (times up to 2^32-1 us)."
          - "C(fq_codel): C(target), C(interval) (times from 1us to 2^32-1 us), C(ce_threshold) (time up to 2^32-2
            us), C(ecn), C(limit) (1 to 2^32-1), C(flows) (1 to 65536; set only when the fq_codel is created, so a
            change creates it again), C(quantum) (bytes as a whole number without unit, 256 to 1048576),
            C(memory_limit) (size from 1 byte to 2^31 bytes), C(drop_batch) (1 to 2^32-1)."
          - "C(etf): C(clockid) (only V(CLOCK_TAI), the default), C(delta) (nanoseconds, 0 to 2^31-1),
            C(deadline_mode), C(skip_sock_check), C(offload) (the launch time in the network card: the driver must
            support it; no taprio mode requires it)."
          - "C(taprio): C(num_tc) (1 to 16), C(map) (traffic class of each priority, a list or tc's space-separated
            words), C(queues) (C(COUNT@OFFSET) per traffic class), C(base_time) (nanoseconds, 0 to 2^63-1),
            C(cycle_time) (nanoseconds, at least the sum of the intervals and at most 2^31-1, the kernel's
            limit), C(cycle_time_extension) (nanoseconds, 0 to 2^31-1), C(sched_entries) (list of C(command) V(S),
            V(H) or V(R), C(gatemask) in hexadecimal as in tc when a string, C(interval) in nanoseconds: at least one
            60-byte frame at the link speed, 48000 at 10 Mbit/s or an unknown speed, and at most 2^32-1; without
            C(cycle_time) the intervals add up to at most 2^31-1), C(clockid), C(mode), C(txtime_delay).
            C(num_tc), C(map), C(queues) and C(sched_entries) are always required."
          - "taprio C(mode) is tc's C(flags): V(software) (the default, no flags: the kernel runs the schedule with
            a timer on C(clockid), which is required), V(txtime-assist) (C(flags 0x1): taprio stamps each packet
            with the time its gate opens and etf children send it then) or V(full-offload) (C(flags 0x2): the
            network card runs the schedule on its own PTP clock; no C(clockid) and no C(txtime_delay), and only on a
            driver that can, see O(taprio_offload_drivers)). A changed mode creates the taprio again."
          - "Mode V(txtime-assist) needs C(clockid) V(CLOCK_TAI) (etf takes no other clock), C(txtime_delay)
            (tc's C(txtime-delay): nanoseconds from 1 to 2^32-1, how far ahead taprio stamps a packet, the longest it
            takes to reach the network card; the other modes refuse it) and an etf child with C(skip_sock_check)
            on each tx queue a traffic class with an open gate uses (class C(MAJOR:QUEUE+1)); its traffic classes
            may share tx queues (C(queues) V(1@0 1@0 1@0)). tc-taprio(8) advises a C(txtime_delay) above the etf's
            C(delta)."
          - "Rates as in tc: C(100Mbit), C(12500kbps) (a bare number is bit/s); sizes C(1514), C(64kb); times
            C(3ms), C(100us), C(1s) (a bare number is microseconds). The unit follows the number without a space
            (tc refuses C(100 mbit)); fractions are truncated to whole bytes or microseconds, as tc does."
        type: dict
        default: {}
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Returns the tc commands it would run in RV(actions) and changes nothing.
  diff_mode:
    support: full
    details: The device's qdisc tree before and after as text, one qdisc per line with its managed options in base units.
  platform:
    support: full
    platforms: posix
requirements:
  - C(tc) and C(ip) from iproute2 with JSON output (C(-j)).
  - A kernel with the planned qdiscs (C(sch_cake), C(sch_taprio), C(sch_etf), C(sch_fq), C(sch_fq_codel), C(sch_mq)).
notes:
  - A taprio's schedule and C(txtime_delay) can change in place; its traffic classes, clock and mode cannot.
  - In check mode the after side of the diff is a prediction; options tc would set to their defaults on a new
    qdisc are not shown.
seealso:
  - module: hyperion.kernel.kernel_facts
  - module: hyperion.kernel.profile_check
'''

EXAMPLES = r'''
- name: CAKE at 100 Mbit/s with four tins and NAT awareness
  hyperion.kernel.tc_qdisc:
    device: eth0
    qdiscs:
      - parent: root
        handle: "1:"
        kind: cake
        options: {bandwidth: 100Mbit, diffserv: diffserv4, nat: true}

- name: taprio with three traffic classes and etf on the first two
  hyperion.kernel.tc_qdisc:
    device: enp3s0
    qdiscs:
      - parent: root
        handle: "100:"
        kind: taprio
        options:
          num_tc: 3
          map: [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
          queues: ["1@0", "1@1", "2@2"]
          base_time: 1000000000
          sched_entries:
            - {command: S, gatemask: "0x1", interval: 300000}
            - {command: S, gatemask: "0x2", interval: 300000}
            - {command: S, gatemask: "0x4", interval: 400000}
          clockid: CLOCK_TAI
      - {parent: "100:1", kind: etf, options: {clockid: CLOCK_TAI, delta: 300000}}
      - {parent: "100:2", kind: etf, options: {delta: 200000, deadline_mode: true, skip_sock_check: true}}

- name: taprio in software mode, the kernel opening and closing the gates (three traffic classes, eight tx queues)
  hyperion.kernel.tc_qdisc:
    device: enp3s0
    qdiscs:
      - parent: root
        handle: "100:"
        kind: taprio
        options:
          mode: software
          num_tc: 3
          map: [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
          queues: ["1@0", "1@1", "6@2"]
          sched_entries:
            - {gatemask: "0x5", interval: 500000}
            - {gatemask: "0x6", interval: 500000}
          clockid: CLOCK_TAI

- name: taprio in txtime-assist mode, its traffic classes sharing tx queue 0 and the etf there sending each packet
    at the txtime taprio gave it (tc-taprio(8)'s example)
  hyperion.kernel.tc_qdisc:
    device: enp3s0
    qdiscs:
      - parent: root
        handle: "100:"
        kind: taprio
        options:
          mode: txtime-assist
          txtime_delay: 200000
          num_tc: 3
          map: [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
          queues: ["1@0", "1@0", "1@0"]
          base_time: 1000000000
          sched_entries:
            - {gatemask: "0x1", interval: 300000}
            - {gatemask: "0x2", interval: 300000}
            - {gatemask: "0x4", interval: 400000}
          clockid: CLOCK_TAI
      - {parent: "100:1", kind: etf, options: {delta: 100000, skip_sock_check: true}}

- name: taprio in full offload on an i225/i226 (igc), the network card running the schedule on its PTP clock
  hyperion.kernel.tc_qdisc:
    device: enp4s0
    qdiscs:
      - parent: root
        handle: "100:"
        kind: taprio
        options:
          mode: full-offload
          num_tc: 4
          map: [3, 3, 2, 1, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
          queues: ["1@0", "1@1", "1@2", "1@3"]
          base_time: 200
          sched_entries:
            - {gatemask: "0x1", interval: 100000}
            - {gatemask: "0xe", interval: 400000}

- name: taprio in full offload on a NIC whose driver the collection does not list (out of tree, or newer)
  hyperion.kernel.tc_qdisc:
    device: enp5s0
    taprio_offload_drivers: [vendor_tsn]
    qdiscs:
      - parent: root
        handle: "100:"
        kind: taprio
        options:
          mode: full-offload
          num_tc: 2
          map: [1, 1, 0]
          queues: ["1@0", "1@1"]
          sched_entries:
            - {gatemask: "0x1", interval: 200000}
            - {gatemask: "0x3", interval: 800000}

- name: mq with fq on the first two tx queues
  hyperion.kernel.tc_qdisc:
    device: eth1
    qdiscs:
      - {parent: root, handle: "1:", kind: mq}
      - {parent: "1:1", kind: fq, options: {maxrate: 50mbit}}
      - {parent: "1:2", kind: fq_codel, options: {target: 3ms, interval: 60ms, ecn: true}}

- name: Back to the kernel's default qdisc
  hyperion.kernel.tc_qdisc:
    device: eth0
    state: absent
'''

RETURN = r'''
actions:
  description: The tc commands run (in check mode, the ones that would run), each as an argument list, in order.
  returned: always
  type: list
  elements: list
  sample: [["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "cake", "bandwidth", "200Mbit"]]
reasons:
  description: Why each command in RV(actions) is needed, in the same order.
  returned: always
  type: list
  elements: str
  sample: ["cake at root: bandwidth 12500000 (wanted 25000000)"]
qdiscs:
  description: The device's qdiscs after the run (in check mode, as read), root first, with the options tc reports.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: The qdisc kind.
      type: str
      sample: cake
    handle:
      description: The handle; C(0:) for a qdisc the kernel made by default.
      type: str
      sample: "1:"
    parent:
      description: C(root), C(ingress) or the parent class.
      type: str
      sample: root
    options:
      description: The options as C(tc -j) prints them (base units).
      type: dict
      sample: {"bandwidth": 12500000, "diffserv": "diffserv4", "nat": true}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import QdiscApplyError, apply_plan, read_link_speed
from ansible_collections.hyperion.kernel.plugins.module_utils.taprio_offload import read_link_driver


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            taprio_offload_drivers=dict(type='list', elements='str', default=[]),
            qdiscs=dict(type='list', elements='dict', default=[], options=dict(
                parent=dict(type='str', default='root'),
                handle=dict(type='str'),
                kind=dict(type='str', required=True, choices=['cake', 'etf', 'fq', 'fq_codel', 'mq', 'taprio']),
                options=dict(type='dict', default={}),
            )),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        outcome = apply_plan(module_command_runner(module), params['device'], params['qdiscs'], params['state'],
                             check_mode=module.check_mode, speed_mbit=read_link_speed(params['device']),
                             offload=(read_link_driver(params['device']), params['taprio_offload_drivers']))
    except QdiscApplyError as exc:
        module.fail_json(msg=str(exc), actions=exc.executed, changed=bool(exc.executed))
    except HyperionError as exc:
        module.fail_json(msg=str(exc), actions=[], changed=False)

    result = dict(changed=outcome['changed'], actions=outcome['actions'], reasons=outcome['reasons'],
                  qdiscs=outcome['qdiscs'])
    if module._diff:
        result['diff'] = dict(before=outcome['before'], after=outcome['after'],
                              before_header='%s (before)' % params['device'], after_header='%s (after)' % params['device'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
