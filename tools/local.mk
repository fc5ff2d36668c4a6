dist_noinst_SCRIPTS += tools/setup tools/demo tools/bench
noinst_PROGRAMS += tools/demo-app
tools_demo_app_SOURCES = tools/demo-app.c
tools_demo_app_CFLAGS = -O2 -g
