/* SPDX-License-Identifier: GPL-2.0 */
/* The commands cli/swack.c dispatches to, each in its own layer. */
#ifndef SWACK_COMMANDS_H
#define SWACK_COMMANDS_H

/* view/ */
int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_script(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_ps(int argc, char **argv);
/* diagnose/ */
int cmd_diagnose(int argc, char **argv);
/* gate/: swack gate SUBCOMMAND */
int gate_cmd_run(int argc, char **argv);
int gate_cmd_hold(int argc, char **argv);
int gate_cmd_release(int argc, char **argv);
int gate_cmd_status(int argc, char **argv);

#endif
