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
int cmd_ps(int argc, char **argv);

int parse_pid(const char *s, pid_t *pid);

struct argp_state;
struct live_opts;
/* --vm NAME: the QEMU processes of a VM, by its name or UUID. */
#define OPT_VM 0x7600
#define VM_OPTION { "vm", OPT_VM, "NAME", 0, "Watch VM NAME: the QEMU processes started " \
		    "with that -name or -uuid, or run for that libvirt domain or KubeVirt VM " \
		    "(repeatable)", 0 }
/* -p PID|VM (repeatable), --vm VM and -v, shared by the live commands: 0 when handled. */
int live_opt(int key, char *arg, struct argp_state *state, struct live_opts *o);
/* -p PID|VM or --vm VM (key 'p' or OPT_VM) into pids; exits with one line when no
 * QEMU process is that VM. */
void target_opt(int key, const char *arg, struct argp_state *state, pid_t *pids, int *n);
/* -i FILE and FILE arguments of the commands that read recordings: 0 when handled. */
int input_opt(int key, char *arg, struct argp_state *state, const char **inputs, int *n);
unsigned long long now_ns(void);
double now_sec(void);

#endif
