# An aiohttp service for the task-name checks of loupe --tasks (issue 18):
# each request's handler starts named tasks and answers with a body full of
# short strings (the request's own header values among them), so that a
# task name read from freed and reused memory shows up as a name the
# service never gave.  The names it gives: svc-ticker, svc-fetch-N and
# svc-part-N-K; every other task has asyncio's default Task-N.
#   aio_names.py [--uvloop] [--block]
# --block: a request handled 0.2 s or more after the last blocking call
# blocks the loop in time.sleep(0.05) (blocking_call), for loupe trace;
# each call's CLOCK_MONOTONIC start and length in seconds are appended to
# the file $LOUPE_BLOCK_LOG when it is set.
# Prints "port PORT" then "ready" once serving on 127.0.0.1:PORT; runs
# until killed.
import asyncio
import os
import sys
import time

from aiohttp import web

count = 0
BLOCK = "--block" in sys.argv
BLOCK_LOG = os.environ.get("LOUPE_BLOCK_LOG")
last_block = 0.0


def blocking_call():
    global last_block
    t0 = time.monotonic()
    time.sleep(0.05)  # EXPECT: blocking_call
    last_block = t1 = time.monotonic()
    if BLOCK_LOG:
        with open(BLOCK_LOG, "a") as f:
            f.write("%.6f %.6f\n" % (t0, t1 - t0))


async def part(n, k):
    await asyncio.sleep(0)
    return ["item%d" % (n * 10 + i) for i in range(k)] + ["b", "a", str(k)]


async def fetch(n):
    loop = asyncio.get_event_loop()
    parts = [loop.create_task(part(n, k), name="svc-part-%d-%d" % (n, k))
             for k in range(3)]
    out = []
    for p in parts:
        out.extend(await p)
    return out


async def handle(request):
    global count
    count += 1
    n = count
    if BLOCK and time.monotonic() - last_block >= 0.2:
        blocking_call()
    task = asyncio.get_event_loop().create_task(fetch(n),
                                                name="svc-fetch-%d" % n)
    words = await task
    words += [request.headers.get("User-Agent", ""), request.path,
              request.method, '"b"', "x" * (n % 7)]
    return web.Response(text=" ".join(words))


async def ticker():
    while True:
        await asyncio.sleep(0.005)


async def main():
    asyncio.get_event_loop().create_task(ticker(), name="svc-ticker")
    app = web.Application()
    app.router.add_get("/", handle)
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    sys.stdout.write("port %d\nready\n" % port)
    sys.stdout.flush()
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main())
