#!/usr/bin/python3
"""The reference in Python: email.message_from_bytes (policy.default) of every
file named, and a walk of its parts decoding each leaf's content (text to
str). Prints "N messages, B bytes, S seconds"."""
import email
import email.policy
import sys
import time

t0 = time.monotonic()
total = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    total += len(data)
    msg = email.message_from_bytes(data, policy=email.policy.default)
    _ = msg["subject"], msg["from"]
    for part in msg.walk():
        if not part.is_multipart():
            try:
                part.get_content()
            except (LookupError, ValueError, KeyError):
                part.get_payload(decode=True)
print("%d messages, %d bytes, %.3f seconds" % (len(sys.argv) - 1, total, time.monotonic() - t0))
