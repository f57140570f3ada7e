#!/usr/bin/env python3
"""Checks a glasslog inclusion proof with nothing but SHA-256 (RFC 9162 section 2.1.3.2).
Usage: verify_inclusion.py <entry_base64> <leaf_index> <tree_size> <root_base64> [proof_base64 ...]
The root comes from a checkpoint whose signature you checked; see README."""
import base64, hashlib, sys

def main(entry_b64, index, size, root_b64, *proof):
    h = lambda b: hashlib.sha256(b).digest()
    r = h(b"\x00" + base64.b64decode(entry_b64))
    fn, sn = int(index), int(size) - 1
    for p in map(base64.b64decode, proof):
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while fn and not fn & 1: fn, sn = fn >> 1, sn >> 1
        else:
            r = h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == base64.b64decode(root_b64)

if __name__ == "__main__":
    ok = main(*sys.argv[1:])
    print("inclusion proof verifies" if ok else "INCLUSION PROOF DOES NOT VERIFY")
    sys.exit(0 if ok else 1)
