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
int cmd_diagnose(int argc, char **argv);

int parse_pid(const char *s, pid_t *pid);

struct argp_state;
struct live_opts;
/* -p PID (repeatable) and -v, shared by the live commands: 0 when handled. */
int live_opt(int key, char *arg, struct argp_state *state, struct live_opts *o);
/* -i FILE and FILE arguments of the commands that read recordings: 0 when handled. */
int input_opt(int key, char *arg, struct argp_state *state, const char **inputs, int *n);
unsigned long long now_ns(void);
double now_sec(void);

#endif
