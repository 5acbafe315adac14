# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The default_route_qdisc filter: the tx queues from ip -j -d link show, a refusal as a filter error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.filter.host_config import FilterModule

LINKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'vm',
                     'trixie-6.12.117+deb13-amd64', 'cmd', 'ip-j-d-link-show.json')
ITEM = {'id': 'qdisc:@default_route:root', 'match': 'exact', 'value': 'fq_codel', 'severity': 'recommended'}


@pytest.fixture
def default_route_qdisc():
    return FilterModule().filters()['default_route_qdisc']


def test_reads_the_tx_queues_of_the_device(default_route_qdisc):
    with open(LINKS) as handle:
        links = handle.read()
    assert default_route_qdisc(ITEM, 'cake', 'ens3', links)['qdiscs'] == [{'parent': 'root', 'kind': 'fq_codel'}]
    assert default_route_qdisc(ITEM, 'cake', 'hyp-mq0', links)['reason'].endswith('(8 tx queues), so hyp-mq0 gets fq_codel')
    assert default_route_qdisc(ITEM, 'fq_codel', 'ens3', 1)['source'] == 'default_qdisc'


def test_refusals_are_filter_errors(default_route_qdisc):
    with pytest.raises(AnsibleFilterError, match='not a root qdisc the network role can plan'):
        default_route_qdisc(dict(ITEM, value='pfifo_fast'), 'cake', 'ens3', 1)
    with pytest.raises(AnsibleFilterError, match='device eth9 does not exist'):
        default_route_qdisc(ITEM, 'cake', 'eth9', '[]')
