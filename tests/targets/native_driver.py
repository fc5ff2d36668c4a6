# A driver for --subprocesses tests: runs a native program (argv[2:]) as its
# child for argv[1] seconds, then prints "child PID cpu_ns N" (the child's
# CPU time from /proc/PID/schedstat, read just before it is killed) and
# exits.  The child is started after the driver began, so a profiler that
# follows the driver from its start sees the child's whole life.
import subprocess
import sys
import time

child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
time.sleep(float(sys.argv[1]))
with open("/proc/%d/schedstat" % child.pid) as f:
    ns = int(f.read().split()[0])
child.kill()
child.wait()
print("child %d cpu_ns %d" % (child.pid, ns))
sys.stdout.flush()
