"""A local SMTP sink for the benchmark: accepts every message on 127.0.0.1, discards its body
and counts it. Standard library only (asyncio): HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

    python3 bench/smtp_sink.py [--port 0] [--count-file F]

prints ``PORT <n>`` once listening; after each message, writes the number of messages received
so far into ``--count-file``. ``start()`` runs it as a child process for the other scripts.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile


class Sink:
    def __init__(self, count_file):
        self.count = 0
        self.count_file = count_file

    def received(self):
        self.count += 1
        if self.count_file:
            tmp = f"{self.count_file}.tmp"
            with open(tmp, "w", encoding="ascii") as handle:
                handle.write(str(self.count))
            os.replace(tmp, self.count_file)

    async def session(self, reader, writer):
        def reply(text):
            writer.write(text.encode() + b"\r\n")

        reply("220 bench-sink ESMTP")
        try:
            while line := await reader.readline():
                verb = line.decode("latin-1").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    reply("250-bench-sink\r\n250-8BITMIME\r\n250 SIZE 104857600")
                elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    while await reader.readline() not in (b".\r\n", b".\n", b""):
                        pass
                    self.received()
                    reply("250 OK queued")
                elif verb == "QUIT":
                    reply("221 Bye")
                    break
                else:
                    reply("502 Command not implemented")
                await writer.drain()
        finally:
            writer.close()

    async def serve(self, port):
        server = await asyncio.start_server(self.session, "127.0.0.1", port)
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        async with server:
            await server.serve_forever()


class SinkProcess:
    """The sink as a child process: ``port``, ``count()``, ``stop()``."""

    def __init__(self):
        fd, self.count_file = tempfile.mkstemp(prefix="bench_sink_", suffix=".count")
        os.close(fd)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--count-file", self.count_file],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.port = int(self.proc.stdout.readline().split()[1])

    def count(self):
        with open(self.count_file, encoding="ascii") as handle:
            return int(handle.read() or 0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        os.unlink(self.count_file)


def start():
    return SinkProcess()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--count-file")
    args = parser.parse_args()
    asyncio.run(Sink(args.count_file).serve(args.port))


if __name__ == "__main__":
    main()
