"""robots.txt is obeyed by every request, however many reached the host before its rules did.

A real Scrapy crawl through the offline mirror (tests/robots_crawl.py) with the host's
robots.txt held back until four requests wait for it; the last is a page robots.txt forbids.
Scrapy 2.19's own middleware lets that one through (its shared Deferred hands the rules to the
first waiter only), which is why the crawl uses ``crawler.middlewares.RobotsEveryRequestMiddleware``;
the second test shows the stock behaviour, so a Scrapy that fixes it is noticed and the subclass
can go.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = "https://www.spp.gov.cn/spp/private/202012/t20201201_100001.shtml"


def crawl(middleware: str) -> dict:
    done = subprocess.run([sys.executable, "tests/robots_crawl.py", middleware], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_request_waiting_for_robots_txt_is_checked_against_it():
    found = crawl("crawler.middlewares.RobotsEveryRequestMiddleware")
    assert found["outcomes"][FORBIDDEN] == "Forbidden by robots.txt"
    assert FORBIDDEN not in found["asked"]
    # the allowed ones were asked for, after robots.txt, which was asked for once
    assert found["asked"][0] == "https://www.spp.gov.cn/robots.txt"
    assert found["asked"].count("https://www.spp.gov.cn/robots.txt") == 1
    assert len(found["outcomes"]) == 4 and len(found["asked"]) == 4


def test_scrapys_own_middleware_lets_a_late_waiter_through():
    found = crawl("scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware")
    assert found["outcomes"][FORBIDDEN] == "fetched", "Scrapy fixed it: RobotsEveryRequestMiddleware can go"
    assert FORBIDDEN in found["asked"]
