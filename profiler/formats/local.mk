# Output formats and the .loupe reader: added to the engine.
libloupe_a_SOURCES += \
	profiler/include/formats/formats.h \
	profiler/formats/format_names.c \
	profiler/formats/task_groups.c \
	profiler/formats/frame_text.c \
	profiler/formats/atomic_file.c profiler/formats/atomic_util.h \
	profiler/formats/collapsed.c \
	profiler/formats/raw_format.h \
	profiler/formats/raw_writer.c \
	profiler/formats/raw_reader.c \
	profiler/formats/writer_util.c profiler/include/formats/writer_util.h \
	profiler/formats/flamegraph.c \
	profiler/formats/speedscope.c \
	profiler/formats/chrome.c \
	profiler/formats/pb.c profiler/formats/pb.h \
	profiler/formats/pprof.c \
	profiler/formats/marshal.c profiler/formats/marshal.h \
	profiler/formats/pstats.c \
	profiler/formats/write_file.c
