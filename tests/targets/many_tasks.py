"""Forty request tasks of one coroutine beside one main task: loupe
record --tasks groups them as one tower "40 tasks: handle_request"
(tests/functional/test_task_groups.py).  Python 3.7+."""
import asyncio
import sys


def parse(n):
    return sum(i * i for i in range(n))


async def query(k):
    await asyncio.sleep(0.01 * (1 + k % 5))


async def handle_request(k):
    while True:
        parse(2000)
        await query(k)


async def main():
    for k in range(40):
        asyncio.ensure_future(handle_request(k))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)


asyncio.get_event_loop().run_until_complete(main())
