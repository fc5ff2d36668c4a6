# Event-loop target with only short callbacks and a known busy share: every
# 10 ms (on an absolute schedule, so lateness does not add up) one callback
# spins for SHARE x 10 ms of wall time, so the loop is busy SHARE of the
# time (plus asyncio's own few microseconds a tick) and never stalls.
#   async_busy.py [SHARE]     default 0.3
import asyncio
import sys
import time

PERIOD = 0.01
SHARE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def callback(loop, when):
    spin(PERIOD * SHARE)
    when += PERIOD
    loop.call_at(when, callback, loop, when)


def main():
    loop = asyncio.new_event_loop()
    loop.call_soon(callback, loop, loop.time())
    loop.call_soon(lambda: (sys.stdout.write("ready\n"), sys.stdout.flush()))
    loop.run_forever()


if __name__ == "__main__":
    main()
