/* Many threads making remote calls at once (the connection pool), while another thread forks
 * children that make remote calls too. Prints the number of wrong answers (must be 0). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 150

static const char *file;
static int wrong;

static int check_once(void) {
  struct stat st;
  if (stat(file, &st) != 0 || st.st_size != 20) return 1;
  int fd = open(file, O_RDONLY);
  char buf[64] = "";
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  if (fd >= 0) close(fd);
  return n != 20 || memcmp(buf, "remote config\nline2\n", 20) != 0;
}

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++)
    if (check_once()) __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
  return NULL;
}

static void *forker(void *arg) {
  (void)arg;
  for (int i = 0; i < 10; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(check_once());
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

int main(void) {
  file = getenv("PL_T_FILE");
  pthread_t t[THREADS + 1];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
  pthread_create(&t[THREADS], NULL, forker, NULL);
  for (int i = 0; i <= THREADS; i++) pthread_join(t[i], NULL);
  printf("wrong=%d\n", wrong);
  return 0;
}
