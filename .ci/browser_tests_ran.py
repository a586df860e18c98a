"""Fails unless every JUnit report holds at least one browser test that ran and passed."""

import sys
import xml.etree.ElementTree as ET  # noqa: S405 - our own pytest reports


def passed_browser_tests(report: str) -> int:
    count = 0
    for case in ET.parse(report).iter("testcase"):  # noqa: S314
        is_browser = "test_browser" in case.get("classname", "") or "[chromium]" in case.get("name", "")
        outcome = {child.tag for child in case}
        if is_browser and not outcome & {"skipped", "failure", "error"}:
            count += 1
    return count


def main(reports: list[str]) -> int:
    status = 0
    for report in reports:
        count = passed_browser_tests(report)
        print(f"{report}: {count} browser tests passed")
        if count == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
