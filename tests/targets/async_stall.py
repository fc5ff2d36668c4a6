# Event-loop target: a coroutine that blocks the asyncio loop with a
# synchronous time.sleep(0.2) once a second (the classic "sync call in async
# code"), beside a heartbeat task that ticks the loop every 10 ms.  loupe
# trace must report a stall of about 200 ms each second, blamed on
# legacy_sync_call called from blocker.
#   async_stall.py [LOOPS]    LOOPS event loops, each in a thread of its
#                             own beside the main thread's (default 1)
# Python 3.6+; prints "ready" once every loop runs, then runs until killed.
import asyncio
import sys
import threading
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


async def main(started):
    asyncio.ensure_future(heartbeat())
    stalls = asyncio.ensure_future(stall_every_second())
    started.release()
    await stalls


def run_loop(started):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main(started))


if __name__ == "__main__":
    loops = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    started = threading.Semaphore(0)
    for _ in range(loops - 1):
        threading.Thread(target=run_loop, args=(started,), daemon=True).start()

    def ready():
        for _ in range(loops):
            started.acquire()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
    threading.Thread(target=ready, daemon=True).start()
    run_loop(started)
