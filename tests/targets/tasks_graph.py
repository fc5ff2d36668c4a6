# Profiling target for the asyncio task graph (tests/functional/
# test_tasks_graph.py): the scenarios of CPython's
# Lib/test/test_external_inspection.py that make a graph, each left still.
# Mode (argv[1]):
#   gather     "main" gathers c1() (-> deep -> sleep) and c2(), which
#              returns at once: one task left under main.
#   taskgroup  (3.11+) "main" runs a TaskGroup of "c2_root" (c2 -> c3 ->
#              c4 -> sleep) and "sub_main_1", "sub_main_2", both awaiting
#              c2_root: c2_root is awaited by main and both.
#   diamond    "A" and "B" both await the task "child"; "main" gathers A
#              and B.
#   staggered  "main" in staggered_race([c1, c2]), c1 -> deep -> sleep.
#   thread     a loop on a thread "async-worker": "worker_main" awaits
#              "worker task" (sleep); the main thread sleeps.  With
#              "running", "worker task" blocks in time.sleep instead.
#   threads N  N threads each running a loop whose task "main-I" starts
#              "sleeper-I" (sleep) and then blocks in time.sleep (the same
#              coroutine running on every thread).
#   tombstones "main" started 20 tasks that finished or were cancelled
#              (kept referenced) and awaits "survivor"; on 3.14+ also
#              CPython's set tombstone: "victim" awaited by "remaining"
#              after "removed" was taken out of its awaited_by set.
#   nested     "main" in gather(gather(n1(), n2()), n3()): the three tasks
#              are awaited by main.
#   crowd N    the task "child" awaited by N tasks "w-I"; "main" gathers
#              them.
#   all        gather, nested, diamond and (3.11+) taskgroup at once.
# Prints "tid NAME TID" per loop thread, then "ready" once everything is
# in place; runs until killed.  --uvloop runs every loop on uvloop.
import asyncio
import sys
import threading
import time

args = sys.argv[1:]
UVLOOP = "--uvloop" in args
LONG = 3600
lock = threading.Lock()


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def new_loop():
    if UVLOOP:
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(coro):
    loop = new_loop()
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(coro)


def task(coro, name):
    return asyncio.get_event_loop().create_task(coro, name=name)


def ready_soon():
    asyncio.get_event_loop().call_later(0.3, say, "ready")


# -- gather --------------------------------------------------------------

async def deep():
    await asyncio.sleep(LONG)


async def c1():
    await asyncio.sleep(0)
    await deep()


async def c2():
    await asyncio.sleep(0)


async def gather_main():
    ready_soon()
    await asyncio.gather(c1(), c2())


# -- nested gathers -----------------------------------------------------

async def n1():
    await asyncio.sleep(LONG)


async def n2():
    await asyncio.sleep(LONG)


async def n3():
    await asyncio.sleep(LONG)


async def nested_main():
    ready_soon()
    await asyncio.gather(asyncio.gather(n1(), n2()), n3())


# -- taskgroup -----------------------------------------------------------

async def c4():
    await asyncio.sleep(LONG)


async def c3():
    await c4()


async def c2_tg():
    await c3()


async def c1_tg(t):
    await t


async def taskgroup_main():
    ready_soon()
    async with asyncio.TaskGroup() as tg:
        t = tg.create_task(c2_tg(), name="c2_root")
        tg.create_task(c1_tg(t), name="sub_main_1")
        tg.create_task(c1_tg(t), name="sub_main_2")


# -- diamond -------------------------------------------------------------

async def child_work():
    await asyncio.sleep(LONG)


async def awaiter(t):
    await t


async def diamond_main():
    child = task(child_work(), "child")
    a = task(awaiter(child), "A")
    b = task(awaiter(child), "B")
    ready_soon()
    await asyncio.gather(a, b)


async def crowd_main(n):
    child = task(child_work(), "child")
    ws = [task(awaiter(child), "w-%d" % i) for i in range(n)]
    ready_soon()
    await asyncio.gather(*ws)


# -- staggered race ------------------------------------------------------

async def c2_long():
    await asyncio.sleep(LONG)


async def staggered_main():
    import asyncio.staggered
    ready_soon()
    await asyncio.staggered.staggered_race([c1, c2_long], delay=None)


# -- a loop on another thread --------------------------------------------

def blocking_call():
    time.sleep(LONG)


async def worker_task(running):
    await asyncio.sleep(0)
    if running:
        say("ready")
        blocking_call()
    await asyncio.sleep(LONG)


async def worker_main(running):
    asyncio.current_task().set_name("worker_main")
    t = task(worker_task(running), "worker task")
    await asyncio.sleep(0)
    say("tid async-worker %d" % threading.get_native_id())
    if not running:
        ready_soon()
    await t


def thread_mode(running):
    threading.Thread(target=run, args=(worker_main(running),),
                     name="async-worker", daemon=True).start()
    time.sleep(LONG)


# -- many threads, a loop each --------------------------------------------

async def sleeper():
    await asyncio.sleep(LONG)


async def thread_main(i, barrier):
    asyncio.current_task().set_name("main-%d" % i)
    task(sleeper(), "sleeper-%d" % i)
    await asyncio.sleep(0)
    say("tid main-%d %d" % (i, threading.get_native_id()))
    if barrier.wait() == 0:
        say("ready")
    blocking_call()


def threads_mode(n):
    barrier = threading.Barrier(n)
    for i in range(n):
        threading.Thread(target=run, args=(thread_main(i, barrier),),
                         name="loop-%d" % i, daemon=True).start()
    time.sleep(LONG)


# -- tombstones ----------------------------------------------------------

async def quick(n):
    await asyncio.sleep(0)
    return n


async def survivor():
    await asyncio.sleep(LONG)


async def tombstones_main():
    me = asyncio.current_task()
    done = [task(quick(i), "done-%d" % i) for i in range(10)]
    cancelled = [task(survivor(), "cancelled-%d" % i) for i in range(10)]
    for t in cancelled:
        t.cancel()
    await asyncio.wait(done + cancelled)
    keep = (done, cancelled)
    if hasattr(asyncio, "future_add_to_awaited_by"):
        # CPython's test_async_awaited_by_skips_set_tombstones: the hash 0
        # task removed leaves a dummy in slot 0 before the live entry
        class RemovedTask(asyncio.Task):
            def __hash__(self):
                return 0

        class RemainingTask(asyncio.Task):
            def __hash__(self):
                return 1

        victim = task(survivor(), "victim")
        removed = RemovedTask(asyncio.sleep(LONG), name="removed")
        remaining = RemainingTask(asyncio.sleep(LONG), name="remaining")
        asyncio.future_add_to_awaited_by(victim, removed)
        asyncio.future_add_to_awaited_by(victim, remaining)
        asyncio.future_discard_from_awaited_by(victim, removed)
        keep += (victim, removed, remaining)
    s = task(survivor(), "survivor")
    ready_soon()
    await s
    return keep


# -- all at once ---------------------------------------------------------

async def all_main():
    parts = [gather_main(), nested_main(), diamond_main()]
    if hasattr(asyncio, "TaskGroup"):
        parts.append(taskgroup_main())
    # each part says ready: one line is enough
    global say
    plain, said = say, []

    def once(line):
        if line != "ready" or not said:
            said.append(line)
            plain(line)
    say = once
    await asyncio.gather(*[task(p, n) for p, n in
                           zip(parts, ["gather", "nested", "diamond",
                                             "taskgroup"])])


def main():
    mode = args[0] if args else "all"
    if mode == "thread":
        return thread_mode("running" in args)
    if mode == "threads":
        return threads_mode(int(args[1]))
    if mode == "crowd":
        coro = crowd_main(int(args[1]))
    else:
        coro = None
    coro = coro or {"gather": gather_main, "taskgroup": taskgroup_main,
            "diamond": diamond_main, "staggered": staggered_main,
            "nested": nested_main,
            "tombstones": tombstones_main, "all": all_main}[mode]()

    async def named():
        asyncio.current_task().set_name("main")
        await coro
    run(named())


main()
