# Profiling target for native merge: Python calls libc's qsort through
# ctypes with a Python comparison callback that spins, so that most samples
# hold the stack
#   <module> -> main -> call_qsort -> [ctypes, libffi, qsort] -> py_compare
# with Python frames above and below the native ones.  Runs under 2.7 and
# 3.6+ alike; prints "ready", then runs until killed.
import ctypes
import sys

libc = ctypes.CDLL(None)
CMPFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                           ctypes.POINTER(ctypes.c_int))
SPIN = 2000
N = 64


def py_compare(a, b):
    x = 0
    i = 0
    while i < SPIN:
        x = (x * 5 + i) % 10007
        i += 1
    return a[0] - b[0]


compare = CMPFUNC(py_compare)


def call_qsort(values):
    arr = (ctypes.c_int * len(values))(*values)
    libc.qsort(arr, len(values), ctypes.sizeof(ctypes.c_int), compare)
    return arr


def main():
    values = [(i * 7919) % N for i in range(N)]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        call_qsort(values)


if __name__ == "__main__":
    main()
