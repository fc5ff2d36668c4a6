"""An event loop behind its timers: task "sleeper" awaits
asyncio.sleep(0.2) while task "hog" blocks the loop in time.sleep for a
minute, so the sleep is over and the task not resumed.  Prints "ready"
once the loop is held.  (tests/functional/test_tasks_late.py)"""
import asyncio
import sys
import time


async def sleeper():
    await asyncio.sleep(0.2)


async def hog():
    await asyncio.sleep(0.01)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    time.sleep(60)


async def main():
    a = asyncio.ensure_future(sleeper())
    b = asyncio.ensure_future(hog())
    for t, n in ((a, "sleeper"), (b, "hog")):
        if hasattr(t, "set_name"):
            t.set_name(n)
    await asyncio.gather(a, b)


asyncio.get_event_loop().run_until_complete(main())
