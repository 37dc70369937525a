/* Subcommands of the swack binary and the helpers they share. */
#ifndef SWACK_COMMANDS_H
#define SWACK_COMMANDS_H
#include <sys/types.h>

int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_script(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_exporter(int argc, char **argv);

int parse_pid(const char *s, pid_t *pid);
unsigned long long now_ns(void);
double now_sec(void);

#endif
