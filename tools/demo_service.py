"""loupe's demo: a small asyncio HTTP service of the kind loupe is for,
with its own load generator.  Standard library only (Python 3.7+).

  demo_service.py serve     listens on 127.0.0.1 (an ephemeral port),
                            prints "ready PORT", serves until killed
  demo_service.py load PORT [SECONDS]
                            keeps 8 clients requesting /report, /orders
                            and /health

What it does, on purpose, so that each loupe command has something true to
find: /report crunches numbers in Python (CPU: top and record show
build_report and score); /orders awaits a slow "database" (wall time in
asyncio.sleep, tasks waiting: dump --tasks); and once a second a
housekeeping task calls refresh_config_cache(), which blocks the event loop
for 150 ms with a synchronous time.sleep, the classic sync call in async
code that loupe trace names.
"""
import asyncio
import json
import sys
import time


def score(row):
    total = 0
    for i in range(40):
        total += (row * 31 + i * 17) % 97
    return total


def build_report(n):
    rows = [score(r) for r in range(n)]
    return {"rows": n, "best": max(rows), "mean": sum(rows) / n}


async def fetch_orders(customer):
    # the slow database: slow enough that a look at the tasks finds a
    # request waiting on it even when the load generator lags
    await asyncio.sleep(0.2)
    return [{"customer": customer, "order": i} for i in range(3)]


def refresh_config_cache():
    time.sleep(0.15)  # a blocking call inside the event loop


async def housekeeping():
    while True:
        await asyncio.sleep(1)
        refresh_config_cache()


async def handle(reader, writer):
    try:
        line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        path = line.split()[1].decode() if len(line.split()) > 1 else "/"
        if path.startswith("/report"):
            body = build_report(400)
        elif path.startswith("/orders"):
            body = await fetch_orders(path[-1:])
        else:
            body = {"ok": True}
        data = json.dumps(body).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        await writer.drain()
    finally:
        writer.close()


async def serve():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    asyncio.ensure_future(housekeeping())
    sys.stdout.write("ready %d\n" % port)
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


async def client(port, paths, until):
    i = 0
    while time.monotonic() < until:
        path = paths[i % len(paths)]
        i += 1
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET %s HTTP/1.1\r\nHost: demo\r\n\r\n" % path.encode())
            await w.drain()
            await r.read()
            w.close()
        except Exception as e:  # a client of a load generator never gives up
            sys.stderr.write("load: %s: %r\n" % (path, e))
            await asyncio.sleep(0.1)


async def load(port, seconds):
    until = time.monotonic() + seconds
    paths = ["/report", "/orders/a", "/health", "/orders/b"]
    await asyncio.gather(*(client(port, paths[k % 4:] + paths[:k % 4], until)
                           for k in range(8)))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        asyncio.run(serve())
    elif len(sys.argv) >= 3 and sys.argv[1] == "load":
        asyncio.run(load(int(sys.argv[2]),
                         float(sys.argv[3]) if len(sys.argv) > 3 else 3600))
    else:
        sys.exit(__doc__)
