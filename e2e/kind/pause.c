/* The pod sandbox's placeholder process (the "pause" container of every pod). It holds the pod's
 * namespaces open, exits on SIGINT/SIGTERM, and reaps zombies when the pod shares one PID namespace.
 * Built statically (gcc -static) so the image needs nothing but this binary. The project's own code. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
    write(1, "pause (milan)\n", 14);
    return 0;
  }
  if (getpid() != 1) write(2, "pause: warning: not running as PID 1\n", 37);
  struct sigaction quit_action = {.sa_handler = quit}, reap_action = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &quit_action, NULL);
  sigaction(SIGTERM, &quit_action, NULL);
  sigaction(SIGCHLD, &reap_action, NULL);
  for (;;) pause();
}
