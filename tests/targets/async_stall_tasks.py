"""Many tasks stalling the loop in one call: three worker tasks, each
named, call blocker() from two different lines in turn; blocker() blocks
the loop for 80 ms with time.sleep.  loupe trace must group these stalls as
one code path (no task names, lines folded to the function).
(tests/functional/test_trace_groups.py)"""
import asyncio
import sys
import time


def blocker():
    time.sleep(0.08)


async def worker(k):
    n = 0
    while True:
        await asyncio.sleep(0.3 + 0.05 * k)
        n += 1
        if n % 2:
            blocker()
        else:
            blocker()


async def main():
    for k in range(3):
        t = asyncio.ensure_future(worker(k))
        if hasattr(t, "set_name"):
            t.set_name("worker-%d" % k)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)


asyncio.get_event_loop().run_until_complete(main())
