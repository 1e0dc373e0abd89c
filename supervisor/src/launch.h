/* Starting the program under the filter (launch.c). */
#ifndef PODLINK_SUP_LAUNCH_H
#define PODLINK_SUP_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct sup_launch {
  pid_t pid;    /* the program (not yet exec'd until sup_launch_go) */
  int listener; /* the notification fd, ours */
  int go;       /* write end of the pipe the child waits on */
  char why[1024]; /* on failure: the one line to print (without "podlink: ") */
};

/* Forks the program's process, which installs the filter and waits; takes its listener. Returns 0, or
 * an errno with l->why filled (the child is gone then). child_mask is the signal mask it execs with. */
int sup_launch(const char *program, char **argv, const sigset_t *child_mask, struct sup_launch *l);
/* Lets the child exec the program. */
void sup_launch_go(struct sup_launch *l);
/* The same steps with a child that exits instead of exec'ing: can the supervisor serve program here?
 * (argv NULL in sup_launch means this probe.) */
bool sup_launch_probe(const char *program, char *why, size_t cap);

#endif
