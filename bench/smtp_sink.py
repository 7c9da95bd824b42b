"""
A real SMTP server for tests and the benchmark: aiosmtpd on 127.0.0.1, in a thread, on a free port.

It records what it accepts, and can misbehave on purpose: refuse the next N messages with a
temporary error (451, or 421 and hang up), refuse every recipient permanently (550), take its time
before answering each recipient (``rcpt_delay``: a server that checks its recipients, before the
message is sent), or before answering the end of DATA (``delay``: one that scans the message before
it accepts it), so that a worker killed meanwhile never sees the message accepted: a client that
vanishes before the "250" is answered cancels the handler, and the message is not recorded, as a
real server would not queue it. (A client killed as that delay ends may still have its socket open
while the kernel tears the process down: the server accepts, and the client never knows. No
client can close that window, the one RFC 1047 describes; docs/RELIABILITY.md measures it.)

As a script, for the benchmark: ``python -m bench.smtp_sink --port 2525`` accepts
everything, records nothing, and prints how many messages it took every second; with ``--record
DIR`` it writes each message it accepts to DIR before it answers "250", as a real server queues a
message before it says so. ``SmtpSinkProcess`` runs it so, for tests whose own process is busy
(a thread of theirs would wait for the test's GIL between accepting and answering).
"""

import argparse
import asyncio
import collections
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: far too much for a test's captured log.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SinkHandler:
    def __init__(self, *, delay=0.0, record=True, record_dir=None, rcpt_delay=0.0):
        self.delay = delay
        self.rcpt_delay = rcpt_delay
        self.record = record
        self.record_dir = record_dir
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
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)  # cancelled if the client hangs up meanwhile
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 The client went away"  # (it hung up as the delay ended)
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                self.refused_attempts += 1
                if self.temporary_code.startswith("421"):
                    server.transport.close()  # 421: the server closes the session
                return self.temporary_code
            self.accepted += 1
            self.sessions.add(session.peer)
            if self.record_dir is not None:
                # Written whole, then renamed: a reader sees a message complete or not at all.
                path = Path(self.record_dir) / f"{self.accepted:06d}.eml"
                path.with_suffix(".tmp").write_bytes(envelope.content)
                path.with_suffix(".tmp").rename(path)
            if self.record:
                message = message_from_bytes(envelope.content, policy=default_policy)
                self.messages.append(message)
        return "250 2.0.0 OK: queued"


class SmtpSink:
    """``with SmtpSink() as sink:`` … ``sink.url`` is an ``EMAIL_URL`` for Django."""

    def __init__(self, *, delay=0.0, record=True, port=None, record_dir=None, rcpt_delay=0.0):
        self.handler = SinkHandler(delay=delay, record=record, record_dir=record_dir, rcpt_delay=rcpt_delay)
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
        """
        {occasion reference: how many times it arrived}, from the X-Retention-Occasion header (an
        HMAC of the occasion key: ``composing.occasion_reference`` turns a key into it).
        """
        return collections.Counter(m["X-Retention-Occasion"] for m in self.messages)

    def message_ids(self):
        """{occasion reference: [the Message-ID of each copy that arrived, in order]}."""
        found = collections.defaultdict(list)
        for message in self.messages:
            found[message["X-Retention-Occasion"]].append(message["Message-ID"])
        return dict(found)

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepted >= count:
                return True
            time.sleep(0.05)
        return self.accepted >= count


class SmtpSinkProcess:
    """
    The sink in a process of its own, recording to a directory: ``with SmtpSinkProcess(tmp_path,
    delay=…) as sink:`` … the same ``url``, ``accepted``, ``messages``, ``by_occasion``,
    ``message_ids`` and ``wait_for`` as ``SmtpSink``.
    """

    def __init__(self, directory, *, delay=0.0, rcpt_delay=0.0):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.delay = delay
        self.rcpt_delay = rcpt_delay
        self.process = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", "--port", str(self.port),
             "--delay", str(self.delay), "--rcpt-delay", str(self.rcpt_delay),
             "--record", str(self.directory)],
            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
        )
        assert "listening" in self.process.stdout.readline()
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    def _files(self):
        return sorted(self.directory.glob("*.eml"))

    @property
    def accepted(self):
        return len(self._files())

    @property
    def messages(self):
        return [message_from_bytes(path.read_bytes(), policy=default_policy) for path in self._files()]

    by_occasion = SmtpSink.by_occasion
    message_ids = SmtpSink.message_ids
    wait_for = SmtpSink.wait_for


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering the end of DATA")
    parser.add_argument("--rcpt-delay", type=float, default=0.0, help="seconds before answering each RCPT")
    parser.add_argument("--record", metavar="DIR", help="write each accepted message to DIR")
    args = parser.parse_args()
    sink = SmtpSink(port=args.port, delay=args.delay, rcpt_delay=args.rcpt_delay, record=False,
                    record_dir=args.record).start()
    print(f"listening on {sink.url}", flush=True)
    last = -1
    try:
        while True:
            time.sleep(1)
            if sink.accepted != last and not args.record:
                last = sink.accepted
                print(f"{time.time():.3f} accepted {last}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
