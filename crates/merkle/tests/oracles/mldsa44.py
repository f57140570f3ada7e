"""An independent ML-DSA-44: OpenSSL's, through Python's `cryptography` (48 or later).

Reads {"cases": [{"seed", "message", "signature", "public"}]} (hex) on stdin. For each case it
derives the public key from the seed, verifies the given signature over the message (pure
ML-DSA-44, empty context), checks that a flipped signature fails, and signs the message itself.
Writes {"cases": [{"public_matches", "verifies", "flipped_verifies", "signature"}]}.
Exits 3 when this Python has no ML-DSA, so the caller can tell a missing oracle from a failure.
"""

import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import mldsa
except ImportError:
    sys.exit(3)


def verifies(public, signature, message):
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


def main():
    out = []
    for case in json.load(sys.stdin)["cases"]:
        key = mldsa.MLDSA44PrivateKey.from_seed_bytes(bytes.fromhex(case["seed"]))
        public = key.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        message = bytes.fromhex(case["message"])
        signature = bytes.fromhex(case["signature"])
        flipped = bytearray(signature)
        flipped[len(flipped) // 2] ^= 1
        out.append(
            {
                "public_matches": raw.hex() == case["public"],
                "verifies": verifies(public, signature, message),
                "flipped_verifies": verifies(public, bytes(flipped), message),
                "signature": key.sign(message).hex(),
            }
        )
    json.dump({"cases": out}, sys.stdout)


main()
