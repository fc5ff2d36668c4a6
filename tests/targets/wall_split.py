"""A known split of wall time against CPU time: busy() burns 0.05 s of CPU,
then blocking_call() sleeps 0.4 s, again and again.  In wall mode
blocking_call takes most samples, even when busy() gets a quarter of a CPU
(0.2 s of wall time); in cpu mode it takes none.
(tests/functional/test_recording_views.py)"""
import sys
import time


def busy():
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass


def blocking_call():
    time.sleep(0.4)


sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    busy()
    blocking_call()
