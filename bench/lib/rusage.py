"""Runs a command and reports its wall time, CPU time and peak RSS on standard error.

`/usr/bin/time` reports CPU time in 10 ms steps, coarser than the differences the
benchmarks compare; wait4() gives microseconds, and the wall time is taken around the
command alone, without this interpreter's start. Linux counts the memory the child
shared with this interpreter before its exec in the peak RSS, so about 14 MiB is a floor
under every figure: below every process the benchmarks measure.
"""

import os
import sys
import time

start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
cpu = usage.ru_utime + usage.ru_stime
sys.stderr.write(f"@@{usage.ru_maxrss} {cpu:.6f} {wall:.6f}\n")
sys.exit(os.waitstatus_to_exitcode(status))
