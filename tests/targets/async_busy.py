# Event-loop target with only short callbacks and a known busy share: every
# 10 ms (on an absolute schedule, so lateness does not add up) one callback
# spins for SHARE x 10 ms of wall time, so the loop is busy SHARE of the
# time (plus asyncio's own few microseconds a tick) and never stalls.
#   async_busy.py [SHARE [LOG]]     default 0.3
# On a box with more runnable jobs than CPUs a callback preempted in its
# spin lasts longer than it was built to: with LOG, every second the target
# appends "END BUSY SPAN" (time.monotonic() at the end of the second, the
# seconds its callbacks really took within it, the second's length) so that
# a test can compare with the share the loop really had.
import asyncio
import sys
import time

PERIOD = 0.01
SHARE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
LOG = sys.argv[2] if len(sys.argv) > 2 else None
window = {"start": time.monotonic(), "busy": 0.0}


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def account(start, end):
    window["busy"] += end - start
    if LOG and end - window["start"] >= 1.0:
        with open(LOG, "a") as f:
            f.write("%.6f %.6f %.6f\n" % (end, window["busy"], end - window["start"]))
        window["start"] = end
        window["busy"] = 0.0


def callback(loop, when):
    start = time.monotonic()
    spin(PERIOD * SHARE)
    account(start, time.monotonic())
    when += PERIOD
    loop.call_at(when, callback, loop, when)


def main():
    loop = asyncio.new_event_loop()
    loop.call_soon(callback, loop, loop.time())
    loop.call_soon(lambda: (sys.stdout.write("ready\n"), sys.stdout.flush()))
    loop.run_forever()


if __name__ == "__main__":
    main()
