"""json, re, hashlib and collections over the fixture files: deterministic."""
import collections
import hashlib
import json
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "data"

with open(f"{root}/poem.txt", encoding="utf-8") as f:
    poem = f.read()
words = re.findall(r"[a-z]+", poem.lower())
counts = collections.Counter(words)
print("words", len(words), "distinct", len(counts))
print("common", counts.most_common(5))
print("numbers", [int(n) for n in re.findall(r"\b\d+\b", poem)])
print("subbed", re.sub(r"(\w+) (\w+)", r"\2 \1", "quick brown fox jumps"))

with open(f"{root}/table.csv", "rb") as f:
    raw = f.read()
print("sha256", hashlib.sha256(raw).hexdigest())
print("md5", hashlib.md5(raw).hexdigest())
print("sha1", hashlib.sha1(poem.encode()).hexdigest())
print("blake2b", hashlib.blake2b(b"airlock", digest_size=16).hexdigest())

lines = raw.decode().splitlines()
Row = collections.namedtuple("Row", lines[0].split(","))
rows = [Row(*line.split(",")) for line in lines[1:]]
by_score = sorted(rows, key=lambda r: -int(r.score))
doc = {"top": by_score[0]._asdict(), "names": [r.name for r in by_score],
       "total": sum(int(r.score) for r in rows), "ratio": 2 / 3,
       "nested": {"list": [1, 2.5, None, True], "text": "tab\there \u00e9"}}
text = json.dumps(doc, sort_keys=True, indent=1)
print(text)
print("roundtrip", json.loads(text) == doc)
d = collections.defaultdict(list)
for r in rows:
    d[len(r.name)].append(r.name)
print("by length", sorted(d.items()))
print("deque", list(collections.deque(range(10), maxlen=3)))
print("ordered", list(collections.OrderedDict.fromkeys("abracadabra")))
sys.exit(0 if len(rows) == 6 else 3)
