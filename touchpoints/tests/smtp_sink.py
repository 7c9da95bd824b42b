"""
A real SMTP server for tests and the benchmark: aiosmtpd on 127.0.0.1, in a thread, on a free port.

It records what it accepts, and can misbehave on purpose: refuse the next N messages with a
temporary error (451, or 421 and hang up), refuse every recipient permanently (550), or take its
time before answering the end of DATA (``delay``), so that a worker killed meanwhile never sees
the message accepted: a client that vanishes before the "250" is answered cancels the handler,
and the message is not recorded, as a real server would not queue it.

As a script, for the benchmark: ``python -m touchpoints.tests.smtp_sink --port 2525`` accepts
everything, records nothing, and prints how many messages it took every second.
"""

import argparse
import asyncio
import collections
import logging
import socket
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: far too much for a test's captured log.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SinkHandler:
    def __init__(self, *, delay=0.0, record=True):
        self.delay = delay
        self.record = record
        self.lock = threading.Lock()
        self.messages = []
        self.accepted = 0
        self.temporary_failures = 0
        self.temporary_code = "451 4.3.0 Temporary failure, please try again later"
        self.refuse_all = False
        self.refused_attempts = 0
        self.sessions = set()  # the client ends of the connections that delivered something

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_all:
            with self.lock:
                self.refused_attempts += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)  # cancelled if the client hangs up meanwhile
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                self.refused_attempts += 1
                if self.temporary_code.startswith("421"):
                    server.transport.close()  # 421: the server closes the session
                return self.temporary_code
            self.accepted += 1
            self.sessions.add(session.peer)
            if self.record:
                message = message_from_bytes(envelope.content, policy=default_policy)
                self.messages.append(message)
        return "250 2.0.0 OK: queued"


class SmtpSink:
    """``with SmtpSink() as sink:`` … ``sink.url`` is an ``EMAIL_URL`` for Django."""

    def __init__(self, *, delay=0.0, record=True, port=None):
        self.handler = SinkHandler(delay=delay, record=record)
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     timeout=60)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Misbehaving on purpose ----------------------------------------------------------------------

    def fail_temporarily(self, times, code="451 4.3.0 Temporary failure, please try again later"):
        with self.handler.lock:
            self.handler.temporary_failures = times
            self.handler.temporary_code = code

    def refuse_recipients(self, refuse=True):
        self.handler.refuse_all = refuse

    def slow_down(self, seconds):
        self.handler.delay = seconds

    # What arrived ----------------------------------------------------------------------------------

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def accepted(self):
        return self.handler.accepted

    @property
    def sessions(self):
        """How many SMTP connections delivered at least one message."""
        return len(self.handler.sessions)

    @property
    def refused_attempts(self):
        return self.handler.refused_attempts

    def by_occasion(self):
        """{occasion key: how many times it arrived}, from the X-Retention-Occasion header."""
        return collections.Counter(m["X-Retention-Occasion"] for m in self.messages)

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepted >= count:
                return True
            time.sleep(0.05)
        return self.accepted >= count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    sink = SmtpSink(port=args.port, delay=args.delay, record=False).start()
    print(f"listening on {sink.url}", flush=True)
    last = -1
    try:
        while True:
            time.sleep(1)
            if sink.accepted != last:
                last = sink.accepted
                print(f"{time.time():.3f} accepted {last}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
