# Profiling target for programs loupe starts itself: main() sleeps in
# longsleep() for LOUPE_SLEEP seconds (default 0.3), then the process
# exits.  Nothing is printed: loupe starts it and samples it from its
# first instructions.  Runs under 2.7 and 3.6+ alike.
import os
import time


def longsleep():
    time.sleep(float(os.environ.get("LOUPE_SLEEP", "0.3")))


def main():
    longsleep()


main()
