"""Short bursts of CPU between sleeps: burn() uses BURST seconds of CPU,
then nap() sleeps NAP seconds, again and again (defaults 0.003 and 0.007).
A CPU profile must charge burn() and never nap(): every burst ends in a
sleep, which a sampler that reads a thread's state and its stack at two
instants sees as a running thread inside nap().
(tests/functional/test_truth_oncpu.py)

    bursts.py [BURST [NAP [GO DONE WORK]]]

With GO, DONE and WORK (tests/functional/test_daemon_switches.py): sleeps
until the file GO exists, works in bursts for WORK seconds of wall time,
writes DONE, then sleeps.
"""
import os
import sys
import time


def burn(burst):
    end = time.process_time() + burst
    while time.process_time() < end:
        pass


def nap(seconds):
    time.sleep(seconds)


def main():
    burst = float(sys.argv[1]) if len(sys.argv) > 1 else 0.003
    pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.007
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if len(sys.argv) > 5:
        go, done, work = sys.argv[3], sys.argv[4], float(sys.argv[5])
        while not os.path.exists(go):
            time.sleep(0.02)
        end = time.monotonic() + work
        while time.monotonic() < end:
            burn(burst)
            nap(pause)
        with open(done + ".tmp", "w") as f:
            f.write("done\n")
        os.rename(done + ".tmp", done)
        while True:
            time.sleep(3600)
    while True:
        burn(burst)
        nap(pause)


main()
