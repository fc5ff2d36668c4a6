"""Short bursts of CPU between sleeps: burn() uses BURST seconds of CPU,
then nap() sleeps NAP seconds, again and again (defaults 0.003 and 0.007).
A CPU profile must charge burn() and never nap(): every burst ends in a
sleep, which a sampler that reads a thread's state and its stack at two
instants sees as a running thread inside nap().
(tests/functional/test_truth_idle.py)

    bursts.py [BURST [NAP]]
"""
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
    while True:
        burn(burst)
        nap(pause)


main()
