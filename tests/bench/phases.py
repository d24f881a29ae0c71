"""Medians of airlock phase timings over a directory of --result files.

   phases.py DIR [KEY...]   one "KEY MEDIAN" pair per key, in microseconds
"""
import json
import os
import statistics
import sys

KEYS = ("jail", "create", "boot", "job_load", "run", "teardown", "total")


def main():
    d = sys.argv[1]
    keys = sys.argv[2:] or KEYS
    rs = [json.load(open(os.path.join(d, f)))["timings_us"]
          for f in os.listdir(d)]
    print("  ".join("%s %d" % (k, statistics.median(r[k] for r in rs))
                    for k in keys))


main()
