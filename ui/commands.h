#ifndef LOUPE_UI_COMMANDS_H
#define LOUPE_UI_COMMANDS_H

/* Each returns the process exit status: 0 done, 1 runtime failure, 2 usage
 * error.  argv[0] is the command's name. */
int cmd_record(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_heap(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_daemon(int argc, char **argv);

#endif
