# Event-loop target: a coroutine that blocks the asyncio loop with a
# synchronous time.sleep(0.2) once a second (the classic "sync call in async
# code"), beside a heartbeat task that ticks the loop every 10 ms.  loupe
# trace must report a stall of about 200 ms each second, blamed on
# legacy_sync_call called from blocker.  Python 3.6+; prints "ready" once
# the loop runs, then runs until killed.
import asyncio
import sys
import time


def legacy_sync_call():
    time.sleep(0.2)  # EXPECT: sleep_call


def blocker():
    legacy_sync_call()  # EXPECT: blocker_call


async def stall_every_second():
    while True:
        await asyncio.sleep(0.8)
        blocker()


async def heartbeat():
    while True:
        await asyncio.sleep(0.01)


async def main():
    asyncio.ensure_future(heartbeat())
    stalls = asyncio.ensure_future(stall_every_second())
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await stalls


if __name__ == "__main__":
    if hasattr(asyncio, "run"):
        asyncio.run(main())
    else:  # 3.6
        asyncio.get_event_loop().run_until_complete(main())
