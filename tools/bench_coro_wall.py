# The classic example of coroutine wall time (yappi's documentation): foo()
# awaits asyncio.sleep(1), then returns sum(range(1000000)); main() runs it
# in five tasks, one after the other.  Wall time in foo, as yappi's wall
# clock counts it, is the time suspended in the sleep plus the sum.
#
#   bench_coro_wall.py yappi   runs it under yappi (wall clock) and prints
#                              "yappi foo: N calls, S s wall"
#   bench_coro_wall.py         prints "ready", waits for a line on stdin
#                              (a profiler attaches meanwhile), runs it
import asyncio
import sys


async def foo():
    await asyncio.sleep(1)
    return sum(range(1000000))


async def main():
    for _ in range(5):
        await asyncio.create_task(foo())


if sys.argv[1:] == ["yappi"]:
    import yappi
    yappi.set_clock_type("WALL")
    with yappi.run():
        asyncio.run(main())
    for f in yappi.get_func_stats():
        if f.name == "foo":
            print("yappi foo: %d calls, %.3f s wall" % (f.ncall, f.ttot))
else:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    asyncio.run(main())
