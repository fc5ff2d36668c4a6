"""tools/bench heap's target: 1,000,000 live objects of mixed types and
about 1 GiB of heap (argv[1] MiB of 1 MiB bytes objects), then fixed work
in the main thread: a line "COUNT" on stdout every 50 ms with the work
units done so far, so that the bench sees its speed during a census."""
import sys
import time


class Rec(object):
    def __init__(self, i):
        self.i = i


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    held = [Rec(i) for i in range(400000)]            # 400k + their dicts (<=3.10)
    held += [[i] for i in range(300000)]               # 300k lists
    held += [{"k": [i]} for i in range(100000)]        # 100k dicts + 100k lists
    held += [(i, [i]) for i in range(100000)]          # tuples + lists
    big = [b"\x01" * (1 << 20) for _ in range(mib)]    # ~1 GiB outside pymalloc, touched
    print("ready", flush=True)
    done, last = 0, time.monotonic()
    while True:
        s = 0
        for j in range(2000):
            s += j
        done += 1
        now = time.monotonic()
        if now - last >= 0.05:
            sys.stdout.write("%d %.6f\n" % (done, now))
            sys.stdout.flush()
            last = now
    return held, big


if __name__ == "__main__":
    main()
