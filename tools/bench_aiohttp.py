# Target of tools/bench's trace section: an aiohttp server on loopback that
# answers every GET with a short text, as fast as one event loop can.
# Prints "ready PORT" once it listens; runs until killed.
#   bench_aiohttp.py     (Debian: apt-get install python3-aiohttp)
import asyncio
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="hello, loupe\n")


async def main():
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    sys.stdout.write("ready %d\n" % port)
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
