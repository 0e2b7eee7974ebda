#!/usr/bin/env bash
# Fails when any Surefire or Failsafe report of the last Maven run counts a skipped test: the full suite runs every
# test it has, or says which one it could not run. Prints the totals as one line ("tests: N passed, 0 failed").
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob globstar
reports=(**/target/surefire-reports/TEST-*.xml **/target/failsafe-reports/TEST-*.xml)
((${#reports[@]})) || { echo "check-no-skips: no test reports found" >&2; exit 1; }
python3 - "${reports[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
total = failed = skipped = 0
skips = []
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for s in suites:
        total += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        for case in s.iter("testcase"):
            if case.find("skipped") is not None:
                skips.append(f'{case.get("classname")}.{case.get("name")}')
skipped = len(skips)
print(f"tests: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
if skips:
    print("skipped tests (the full suite must run every test):", *skips, sep="\n  ", file=sys.stderr)
    sys.exit(1)
if failed:
    sys.exit(1)
PY
