#!/usr/bin/env python3
"""A real SMTP server for the notice tests: aiosmtpd on 127.0.0.1:PORT, writing every message
it accepts to DIR as N.json: the envelope ("mail_from", "rcpt_tos"), the raw message ("data"),
"attachments" (file name, type, size, first bytes),
and, decoded by Python's email package, "subject", "to", "message_id" and the text "body".
Prints "ready PORT" once it listens; runs until killed. Needs `python3 -m pip install aiosmtpd`.
"""
import email
import email.policy
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


def body_of(message):
    """The text body: the whole message, or the plain-text part of a multipart one."""
    if message.is_multipart():
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""
    return message.get_content()


def attachments_of(message):
    """Each attached file: its name, type, size and its bytes in hex (the first 8)."""
    out = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True) or b""
        out.append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(data),
            "head": data[:8].hex(),
        })
    return out


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = len([f for f in os.listdir(directory) if f.endswith(".json")])

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": raw.decode("utf-8", "replace"),
            "subject": str(message["Subject"]),
            "to": str(message["To"]),
            "message_id": str(message["Message-ID"]),
            "body": body_of(message),
            "attachments": attachments_of(message),
        }
        path = os.path.join(self.directory, f"{self.count:06d}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, path)
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
