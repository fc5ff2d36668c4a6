# Profiling target for asyncio await chains (tests/functional/
# test_tasks_chains.py).  Modes (argv[1]):
#   agen      task "consume" in `async for` over gen(), whose body awaits
#             gen_nested_call() -> asyncio.sleep (suspended)
#             "ctx" in `async with cm()`, an asynccontextmanager whose body
#             awaits asyncio.sleep before it yields (3.7+); "closer" in
#             `await g.aclose()` of an async generator whose finally
#             awaits asyncio.sleep
#   agen_run  the same, gen_nested_call() spinning on the CPU (running)
#   rec [N]   task "rec" in rec(N) -> rec(N-1) ... rec(0) -> asyncio.sleep
#             (N 5 by default)
#   rec_run   the same, rec(0) spinning (the running task)
#   gather    "main" gathers c1() and c2() (Task-2, Task-3); c1 awaits
#             deep(), which spins (Task-2 is the running task)
#   queue     two queues: "jobs" (maxsize 2, full) with producers
#             "prod-1", "prod-2" blocked in put(), and "results" (empty)
#             with consumers "cons-1", "cons-2" blocked in get(); prints
#             "queue NAME 0xADDR SIZE" for each
#   sync      "ev" in Event.wait, "lock" in Lock.acquire (held by
#             "holder"), "sem" in Semaphore.acquire, "cond" in
#             Condition.wait, "orphan" on a future nobody will set;
#             prints "prim NAME 0xADDR" for each
#   sleep     "sleeper" in asyncio.sleep(SECONDS) (argv[2], default 100);
#             prints "slept_at MONOTONIC" when it starts the sleep
#   sock      "reader" in loop.sock_recv() on one end of a socketpair,
#             "stream" in StreamReader.read() on another; prints "fd NAME
#             FD" for each
#   timeout   "wf" in wait_for(ev.wait(), 100), "to" in `async with
#             asyncio.timeout(100)` (3.11+) around ev.wait()
# --uvloop runs it on uvloop.  Prints "ready" once everything is in place
# (for the running modes: from the spinning coroutine), then runs until
# killed.
import asyncio
import contextlib
import sys
import time

args = sys.argv[1:]
mode = args[0] if args else "agen"


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def ready():
    say("ready")


def create(coro, name):
    loop = asyncio.get_event_loop()
    if sys.version_info >= (3, 8):
        return loop.create_task(coro, name=name)
    return loop.create_task(coro)


def spin():
    ready()
    x = 0
    while True:
        x += 1


async def gen_nested_call():
    if mode == "agen_run":
        spin()
    await asyncio.sleep(3600)  # EXPECT: nested


async def gen():
    for i in range(3):
        await gen_nested_call()  # EXPECT: gen
        yield i


async def consume_gen():
    async for _ in gen():  # EXPECT: consume
        pass


async def cm_body():
    await asyncio.sleep(3600)  # EXPECT: cm
    yield


cm = getattr(contextlib, "asynccontextmanager", lambda f: None)(cm_body)


async def in_cm():
    async with cm():  # EXPECT: in_cm
        pass


async def fin_gen():
    try:
        yield 1
    finally:
        await asyncio.sleep(3600)  # EXPECT: fin


async def closer():
    g = fin_gen()
    await g.__anext__()
    await g.aclose()  # EXPECT: closer


async def rec(n):
    if n == 0:
        if mode == "rec_run":
            spin()
        await asyncio.sleep(3600)  # EXPECT: rec0
    else:
        await rec(n - 1)  # EXPECT: rec


async def deep():
    await asyncio.sleep(0)
    spin()  # EXPECT: deep


async def c1():
    await asyncio.sleep(0)
    await deep()  # EXPECT: c1


async def c2():
    await asyncio.sleep(3600)  # EXPECT: c2


async def producer(q, i):
    while True:
        await q.put(i)  # EXPECT: put


async def consumer(q):
    while True:
        await q.get()  # EXPECT: get


async def holder(lock):
    async with lock:
        await asyncio.sleep(3600)


async def waits(what):
    await what  # EXPECT: waits


async def in_cond(cond):
    async with cond:
        await cond.wait()  # EXPECT: cond


async def in_wait_for(ev):
    await asyncio.wait_for(ev.wait(), 100)  # EXPECT: wait_for


async def in_timeout(ev):
    async with asyncio.timeout(100):
        await ev.wait()  # EXPECT: timeout


async def sock_reader(sock):
    await asyncio.get_event_loop().sock_recv(sock, 10)  # EXPECT: sock


async def stream_reader(sock):
    reader, writer = await asyncio.open_connection(sock=sock)
    await reader.read(10)  # EXPECT: stream


async def sleeper(secs):
    say("slept_at", "%.6f" % time.monotonic())
    await asyncio.sleep(secs)  # EXPECT: sleeper


keep = []


async def main():
    loop = asyncio.get_event_loop()
    if mode in ("agen", "agen_run"):
        create(consume_gen(), "consume")
        if mode == "agen" and cm:
            create(in_cm(), "ctx")
            create(closer(), "closer")
    elif mode in ("rec", "rec_run"):
        create(rec(int(args[1]) if len(args) > 1 and args[1].isdigit()
                   else 5), "rec")
    elif mode == "gather":
        await asyncio.gather(c1(), c2())
    elif mode == "queue":
        jobs, results = asyncio.Queue(2), asyncio.Queue()
        jobs.put_nowait("a")
        jobs.put_nowait("b")
        say("queue", "jobs", hex(id(jobs)), jobs.qsize())
        say("queue", "results", hex(id(results)), results.qsize())
        for i in (1, 2):
            create(producer(jobs, i), "prod-%d" % i)
            create(consumer(results), "cons-%d" % i)
    elif mode == "sync":
        ev, lock, sem = asyncio.Event(), asyncio.Lock(), asyncio.Semaphore(0)
        cond, fut = asyncio.Condition(), loop.create_future()
        for name, obj in (("ev", ev), ("lock", lock), ("sem", sem),
                          ("cond", cond), ("orphan", fut)):
            say("prim", name, hex(id(obj)))
        create(holder(lock), "holder")
        await asyncio.sleep(0)
        create(waits(ev.wait()), "ev")
        create(waits(lock.acquire()), "lock")
        create(waits(sem.acquire()), "sem")
        create(in_cond(cond), "cond")
        create(waits(fut), "orphan")
    elif mode == "sleep":
        create(sleeper(float(args[1]) if len(args) > 1 and
                       not args[1].startswith("-") else 100.0), "sleeper")
    elif mode == "sock":
        import socket
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        a.setblocking(False)
        say("fd", "reader", a.fileno())
        say("fd", "stream", c.fileno())
        keep.extend([a, b, c, d])
        create(sock_reader(a), "reader")
        create(stream_reader(c), "stream")
    elif mode == "timeout":
        ev = asyncio.Event()
        create(in_wait_for(ev), "wf")
        if hasattr(asyncio, "timeout"):
            create(in_timeout(ev), "to")
    if mode not in ("agen_run", "rec_run", "gather"):
        loop.call_later(0.3, ready)
    await asyncio.sleep(3600)


if "--uvloop" in args:
    import uvloop
    loop = uvloop.new_event_loop()
else:
    loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(create(main(), "main"))
