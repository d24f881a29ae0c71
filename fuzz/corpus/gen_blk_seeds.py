#!/usr/bin/env python3
"""Writes seeds for fuzz_blk: a drive-kind byte (bit 0: writable), then a
guest memory image (from 0x10000) whose request queue holds a few chains:
reads, a write, a flush, GET_ID, and a read past the end of the drive."""
import struct, sys, os

BASE = 0x10000
T_IN, T_OUT, T_FLUSH, T_GET_ID = 0, 1, 4, 8
NEXT, WRITE = 1, 2

def image(requests):
    """requests: (type, sector, data_len) each; data follows the header."""
    mem = bytearray(0x800)
    heads, d = [], 0
    for type_, sector, length in requests:
        at = len(mem)
        mem += struct.pack("<IIQ", type_, 0, sector)
        data_at = len(mem)
        mem += bytes(i & 0xff for i in range(length))
        status_at = len(mem)
        mem += b"\xee"
        chain = [(at, 16, 0)]
        if length:
            chain.append((data_at, length, 0 if type_ == T_OUT else WRITE))
        chain.append((status_at, 1, WRITE))
        heads.append(d)
        for k, (addr, n, flags) in enumerate(chain):
            last = k == len(chain) - 1
            struct.pack_into("<QIHH", mem, 16 * d, BASE + addr, n,
                             flags | (0 if last else NEXT), d + 1)
            d += 1
    struct.pack_into("<HH", mem, 0x100, 0, len(heads))
    for k, h in enumerate(heads):
        struct.pack_into("<H", mem, 0x104 + 2 * k, h)
    return bytes(mem)

seeds = {
    "read": b"\0" + image([(T_IN, 0, 512), (T_IN, 127, 1024)]),
    "write": b"\1" + image([(T_OUT, 7, 1024), (T_IN, 0, 4096)]),
    "misc": b"\1" + image([(T_FLUSH, 0, 0), (T_GET_ID, 0, 20),
                           (T_IN, 1 << 60, 512), (T_OUT, 129, 512)]),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__) + "/fuzz_blk"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
