# Programs the functional tests profile: each built with and without frame
# pointers where the unwinder is what is tested.
TARGET_FP = -O2 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls
TARGET_NOFP = -O2 -fomit-frame-pointer -fno-inline -fno-optimize-sibling-calls

check_PROGRAMS += tests/targets/split_fp tests/targets/split_nofp
tests_targets_split_fp_SOURCES = tests/targets/split.c
tests_targets_split_fp_LDADD = -lpthread
tests_targets_split_fp_CFLAGS = $(TARGET_FP)
tests_targets_split_nofp_SOURCES = tests/targets/split.c
tests_targets_split_nofp_LDADD = -lpthread
tests_targets_split_nofp_CFLAGS = $(TARGET_NOFP)

check_PROGRAMS += tests/targets/churn
tests_targets_churn_SOURCES = tests/targets/churn.c
tests_targets_churn_CFLAGS = $(TARGET_NOFP)
tests_targets_churn_LDADD = -lpthread

# loupe trace: an epoll loop with a known slow handler.
check_PROGRAMS += tests/targets/epoll_slow
tests_targets_epoll_slow_SOURCES = tests/targets/epoll_slow.c
tests_targets_epoll_slow_CFLAGS = $(TARGET_FP)

# An unwind led into memory with no code: no unwind tables, so libunwind
# follows %rbp (tests/functional/test_truth_names.py).
TARGET_NOTABLES = -fno-asynchronous-unwind-tables -fno-unwind-tables
check_PROGRAMS += tests/targets/nocode_fp tests/targets/nocode_nofp
tests_targets_nocode_fp_SOURCES = tests/targets/nocode.c
tests_targets_nocode_fp_CFLAGS = -O2 -fno-omit-frame-pointer -fno-inline $(TARGET_NOTABLES)
tests_targets_nocode_nofp_SOURCES = tests/targets/nocode.c
tests_targets_nocode_nofp_CFLAGS = -O2 -fomit-frame-pointer -fno-inline $(TARGET_NOTABLES)

# C++ names to demangle: a member of a class template in a namespace.
check_PROGRAMS += tests/targets/hot_cpp
tests_targets_hot_cpp_SOURCES = tests/targets/hot_cpp.cpp
tests_targets_hot_cpp_CXXFLAGS = -O2 -fno-inline
# Built by the test itself with rustc, when there is one.
EXTRA_DIST += tests/targets/hot_rs.rs
