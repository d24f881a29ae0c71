#!/usr/bin/env python3
"""Writes seeds for fuzz_vsock: guest memory images (from 0x10000) in which
the guest connects to the control port, and sends a READY message on it."""
import struct, sys, os

BASE = 0x10000
CONTROL, STDOUT = 0xa1000000, 0xa1000002

def hdr(op, src_port, dst_port, length=0):
    return struct.pack("<QQIIIHHIII", 3, 2, src_port, dst_port, length, 1, op, 0, 65536, 0)

def image(tx_packets, rx_bufs=2):
    mem = bytearray(0x1000)
    def desc(q, i, addr, length, flags, nxt=0):
        struct.pack_into("<QIHH", mem, q * 0x400 + i * 16, addr, length, flags, nxt)
    def avail(q, heads):
        struct.pack_into("<HH", mem, q * 0x400 + 0x100, 0, len(heads))
        for k, h in enumerate(heads):
            struct.pack_into("<H", mem, q * 0x400 + 0x104 + 2 * k, h)
    for i in range(rx_bufs):  # rx buffers at 0x18000 + i * 0x1000
        desc(0, i, 0x18000 + i * 0x1000, 0x1000, 2)
    avail(0, list(range(rx_bufs)))
    at = 0xc00
    heads = []
    for n, (h, payload) in enumerate(tx_packets):
        mem[at:at + len(h)] = h
        desc(1, 2 * n, BASE + at, len(h), 1 if payload else 0, 2 * n + 1)
        at += len(h)
        if payload:
            mem[at:at + len(payload)] = payload
            desc(1, 2 * n + 1, BASE + at, len(payload), 0)
            at += len(payload)
        heads.append(2 * n)
    avail(1, heads)
    return bytes(mem[:at])

ready = struct.pack("<IHHII", 0x474d4c41, 1, 1, 0, 0)
seeds = {
    "connect": image([(hdr(1, 1024, CONTROL), b"")]),
    "ready": image([(hdr(1, 1024, CONTROL), b""), (hdr(5, 1024, CONTROL, len(ready)), ready)]),
    "stdout": image([(hdr(1, 1026, STDOUT), b""), (hdr(5, 1026, STDOUT, 5), b"hello")]),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__) + "/fuzz_vsock"
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
