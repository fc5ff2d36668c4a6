# Profiling target for asyncio task mode.  Modes (argv[1]):
#   tree   a task tree that stays still: "main" gathers "group" and
#          "waiter"; "group" runs a TaskGroup (3.11+; gather before) of
#          "worker-1" and "worker-2", each in worker -> handle -> sleep;
#          "waiter" awaits the task "leaf" directly (await task).
#   shares one task "mixed" alternating 0.3 s of CPU in spin() with 0.7 s
#          suspended in nap() -> asyncio.sleep, so its wall time is about
#          30 % spin, 70 % nap; it prints "phase KIND START END" (monotonic
#          seconds) after each phase, so that a test on a loaded machine
#          (where a wake-up comes late) knows the real shares.
#   idle N N tasks parked in idle() -> asyncio.sleep(3600).
# --uvloop runs it on uvloop; --pytask uses the pure-Python Task.  Prints
# "ready" once everything is in place, then runs until killed.
import asyncio
import sys
import time

args = sys.argv[1:]
if "--pytask" in args:
    asyncio.tasks.Task = asyncio.Task = asyncio.tasks._PyTask


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def create(coro, name):
    if sys.version_info >= (3, 8):
        return asyncio.ensure_future(coro) if False else \
            asyncio.get_event_loop().create_task(coro, name=name)
    return asyncio.get_event_loop().create_task(coro)


async def handle(n):
    await asyncio.sleep(3600)  # EXPECT: handle


async def worker(n):
    await handle(n)  # EXPECT: worker


async def group():
    if hasattr(asyncio, "TaskGroup"):
        async with asyncio.TaskGroup() as tg:  # EXPECT: group
            tg.create_task(worker(1), name="worker-1")
            tg.create_task(worker(2), name="worker-2")
    else:
        await asyncio.gather(create(worker(1), "worker-1"),  # EXPECT: group
                             create(worker(2), "worker-2"))


async def leaf():
    await asyncio.sleep(3600)  # EXPECT: leaf


async def waiter(t):
    await t  # EXPECT: waiter


async def tree():
    g = create(group(), "group")
    w = create(waiter(create(leaf(), "leaf")), "waiter")
    asyncio.get_event_loop().call_later(0.3, ready)
    await asyncio.gather(g, w)  # EXPECT: tree


def spin(until):
    x = 0
    while time.monotonic() < until:
        x += 1
    return x


async def nap():
    await asyncio.sleep(0.7)


def phase(kind, start):
    sys.stdout.write("phase %s %.6f %.6f\n" % (kind, start, time.monotonic()))
    sys.stdout.flush()


async def mixed():
    asyncio.get_event_loop().call_soon(ready)
    while True:
        t = time.monotonic()
        spin(t + 0.3)
        phase("spin", t)
        t = time.monotonic()
        await nap()
        phase("nap", t)


async def idle():
    await asyncio.sleep(3600)


async def many(n):
    for i in range(n):
        create(idle(), "idle-%d" % i)
    asyncio.get_event_loop().call_later(0.2, ready)
    await asyncio.sleep(3600)


def main():
    mode = args[0] if args else "tree"
    if mode == "tree":
        coro = tree()
    elif mode == "shares":
        coro = mixed()
    else:
        coro = many(int(args[1]))
    if "--uvloop" in args:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(create(coro, "main"))


main()
