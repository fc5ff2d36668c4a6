# CPython support (profiler/python/): sources are added to the engine.
libloupe_a_SOURCES += \
	profiler/python/py.h
