# Output formats and the .loupe reader: added to the engine.
libloupe_a_SOURCES += \
	profiler/formats/formats.h
