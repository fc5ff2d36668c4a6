# yappi's classic example of coroutine time (its documentation, and
# tools/bench_coro_wall.py): foo() awaits asyncio.sleep(1), then returns
# sum(range(1000000)); main() runs it in five tasks, one after the other.
#
#   yappi_classic.py yappi CLOCK   runs it under yappi with CLOCK (wall or
#                                  cpu) and prints "yappi foo: N calls,
#                                  S s"
#   yappi_classic.py [yappi CLOCK] wait
#                                  first prints "ready" and waits for a
#                                  line on stdin (a profiler attaches
#                                  meanwhile); without yappi, prints "done"
#                                  at the end
# Measured under yappi and an outside profiler at once, both see the same
# run: the CPU time of a burst varies by a third from one run to the next
# on a loaded box.
import asyncio
import sys


def wait():
    if sys.argv[-1:] == ["wait"]:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()


async def foo():
    await asyncio.sleep(1)
    return sum(range(1000000))


async def main():
    for _ in range(5):
        await asyncio.create_task(foo())


if sys.argv[1:2] == ["yappi"]:
    import yappi
    yappi.set_clock_type(sys.argv[2])
    wait()
    with yappi.run():
        asyncio.run(main())
    for f in yappi.get_func_stats():
        if f.name == "foo":
            print("yappi foo: %d calls, %.6f s" % (f.ncall, f.ttot))
else:
    wait()
    asyncio.run(main())
    sys.stdout.write("done\n")
    sys.stdout.flush()
