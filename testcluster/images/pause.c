/* The pod sandbox's only process: it holds the pod's namespaces open and, as PID 1 of a pod that
 * shares its PID namespace, reaps orphaned children. It exits on TERM/INT so that stopping a pod
 * is immediate instead of waiting for the runtime's kill timeout. Built with gcc -static so the
 * image needs no libc. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("podlink pause");
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: not PID 1, orphans will not be reaped here\n");
  struct sigaction stop = {.sa_handler = on_stop}, child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGTERM, &stop, NULL) || sigaction(SIGINT, &stop, NULL) || sigaction(SIGCHLD, &child, NULL)) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
