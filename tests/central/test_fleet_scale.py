"""Series per agent, measured on the running fleet: the figures behind the README's scale section.

`scrape_samples_scraped` is what one scrape of an agent costs Prometheus; DESIGN.md asks an
office PC to stay in the hundreds of series, not thousands. Run with `-s` to see the table.
"""

from __future__ import annotations

import pytest
from central_kit import Fleet, get_bytes, wait_for

pytestmark = pytest.mark.slow


def test_series_per_agent_stay_in_the_hundreds(fleet: Fleet) -> None:
    wait_for(lambda: len(fleet.query("hostward_check_status")) > 0, 30, "audits scraped")
    wait_for(lambda: fleet.query('hostward_device_up{host="srv-room"}'), 30, "devices scraped")
    samples = {
        r["metric"]["host"]: int(r["value"][1])
        for r in fleet.query('max_over_time(scrape_samples_scraped{job="hostward"}[1m])')
    }
    series = {
        r["metric"]["host"]: int(r["value"][1])
        for r in fleet.query('count by (host) ({__name__=~"hostward_.*", job="hostward"})')
    }
    checks = {
        r["metric"]["host"]: int(r["value"][1])
        for r in fleet.query("count by (host) (hostward_check_status)")
    }
    size = {a.name: len(get_bytes(a.url + "metrics")) for a in fleet.agents}
    print("\nhost      role       samples/scrape  hostward_* series  check series  bytes/scrape")
    for agent in fleet.agents:
        n = agent.name
        print(f"{n:9} {agent.role:10} {samples[n]:14} {series[n]:18} {checks[n]:13} {size[n]:13}")
    assert set(samples) == {a.name for a in fleet.agents}
    for agent in fleet.agents:
        assert 50 <= series[agent.name] <= samples[agent.name] < 1000, (agent.name, samples, series)
    # Devices and backups add series: the machine-room server exports more than an office PC.
    assert samples["srv-room"] > max(samples["pc-ok"], samples["pc-bad"])
