"""A known split of wall time against CPU time: busy() burns 0.1 s of CPU,
then blocking_call() sleeps 0.3 s, again and again.  In wall mode
blocking_call takes most samples; in cpu mode it takes none.
(tests/functional/test_recording_views.py)"""
import sys
import time


def busy():
    end = time.process_time() + 0.1
    while time.process_time() < end:
        pass


def blocking_call():
    time.sleep(0.3)


sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    busy()
    blocking_call()
