# Profiling target whose hot function changes halfway: before_hot() burns
# the CPU until SIGUSR1 (or, with an argument, after that many seconds),
# then after_hot() does.  Prints "ready" once working and "switched AT"
# (time.time()) when it switched, so that a test can time what follows
# from the switch itself.  Runs until killed.
import signal
import sys
import time

switched = [False]


def on_usr1(signum, frame):
    switched[0] = True


# Each loops on its own (no callee in common), so that each is the leaf of
# its own samples.
def before_hot():
    x = 0
    while not switched[0]:
        for i in range(2000):
            x = (x * 7 + i) % 1000003
    return x


def after_hot():
    x = 0
    while True:
        for i in range(2000):
            x = (x * 7 + i) % 1000003


def main():
    signal.signal(signal.SIGUSR1, on_usr1)
    if len(sys.argv) > 1:
        delay = float(sys.argv[1])
        signal.signal(signal.SIGALRM, on_usr1)
        signal.setitimer(signal.ITIMER_REAL, delay)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    before_hot()
    sys.stdout.write("switched %.3f\n" % time.time())
    sys.stdout.flush()
    after_hot()


main()
