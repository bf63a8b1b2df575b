/*
 * pause: PID 1 of a pod sandbox (image registry.k8s.io/pause:3.10.2, built by scripts/images.sh).
 *
 * It holds the pod's namespaces open and does nothing else: it reaps any child that gets
 * re-parented to it (shareProcessNamespace pods make it the init of every container), exits 0
 * on SIGINT or SIGTERM, and otherwise sleeps forever. As PID 1 of a PID namespace it only
 * receives signals it has handlers for, so the handlers are what make it stoppable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.10.2 (rkubelet tests/images/pause)"

static void say(const char *s) {
    /* Best effort: a lost diagnostic is no reason to stop. */
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void on_stop(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    int saved = errno;
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

static int handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        ssize_t r = write(STDOUT_FILENO, "pause " VERSION "\n", sizeof("pause " VERSION "\n") - 1);
        return r < 0;
    }
    if (getpid() != 1) {
        say("pause: warning: not PID 1, children will not be reaped unless they are mine\n");
    }
    if (handle(SIGINT, on_stop, 0) < 0 || handle(SIGTERM, on_stop, 0) < 0 ||
        handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
        say("pause: sigaction failed\n");
        return 1;
    }
    for (;;) {
        pause();
    }
}
