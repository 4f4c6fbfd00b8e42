"""Computes codes with the firmware's otp module. stdin: JSON list of [op, ...]; stdout: JSON list of results.

ops: ["hotp", key_hex, counter, digits, algo], ["totp", key_hex, unix, period, digits, algo],
["hmac", algo, key_hex, msg_hex], ["b32", text] (hex of the decoded bytes, or "ValueError").
"""

import binascii
import json
import sys

import otp


def run(op):
    kind = op[0]
    if kind == "hotp":
        return otp.hotp(binascii.unhexlify(op[1]), op[2], op[3], op[4])
    if kind == "totp":
        return otp.totp(binascii.unhexlify(op[1]), op[2], op[3], op[4], op[5])
    if kind == "hmac":
        return binascii.hexlify(otp.hmac(op[1], binascii.unhexlify(op[2]), binascii.unhexlify(op[3]))).decode()
    if kind == "b32":
        try:
            return binascii.hexlify(otp.b32decode(op[1])).decode()
        except ValueError:
            return "ValueError"
    raise ValueError(kind)


print(json.dumps([run(op) for op in json.loads(sys.stdin.read())]))
