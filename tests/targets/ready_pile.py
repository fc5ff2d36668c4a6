"""Tasks that pile up ready: N spinner tasks (argv[1], default 30) loop on
`await asyncio.sleep(0)`, each step putting its next one in the loop's
ready queue, while one blocker task holds the loop in time.sleep most of
the time: at any moment the N spinners are all in loop._ready (ready),
the blocker runs, and one more task sleeps on a long asyncio.sleep
(waiting).  argv[2] "py" runs them as pure-Python tasks (asyncio.tasks.
_PyTask: bound methods in the queue instead of the C wrappers); "uvloop"
runs them on uvloop's loop, whose ready queue is C's.  Prints
"ready" once every task ran a step; runs until killed.  Python 3.6+."""
import asyncio
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 30
PURE = "py" in sys.argv[2:]
UVLOOP = "uvloop" in sys.argv[2:]
steps = [0] * N


async def spinner(k):
    while True:
        steps[k] += 1
        await asyncio.sleep(0)


async def blocker():
    told = False
    while True:
        if not told and all(steps):
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            told = True
        time.sleep(0.05)
        await asyncio.sleep(0)


async def sleeper():
    await asyncio.sleep(3600)


def main():
    if UVLOOP:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    make = loop.create_task
    if PURE:
        make = lambda c: asyncio.tasks._PyTask(c, loop=loop)
    for k in range(N):
        make(spinner(k))
    make(sleeper())
    loop.run_until_complete(make(blocker()))


main()
