/* Times whole runs of commands, without the harness's own start-up in the way.
 *
 *   spawntime [-x] CMD [ARGS...] [-- CMD [ARGS...]]...
 *
 * Runs each command once, in the order given, one after the other: posix_spawn
 * (stdin and stderr on /dev/null, every signal at its default, nothing blocked,
 * this process's environment), then waitpid. Prints one line per command:
 *   "<ns from before posix_spawn until waitpid returned> <wait status> <CPU us>"
 * (CPU: user + system time of the command and its reaped descendants, from wait4).
 * With -x (exit latency), stdout is a pipe instead of /dev/null and the command
 * (helpers/exitchild.c, possibly under an init) prints CLOCK_MONOTONIC as it
 * exits; the line is then "<ns from that stamp until waitpid returned> <status> <CPU us>".
 * A literal "--" separates commands, so an init's own "--" is written "---".
 * Leading NAME=VALUE words of a command are added to (or replace in) that
 * command's environment, as a shell does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* environ plus the NAME=VALUE words in sets[0..n) (later ones win). */
static char **with_env(char **sets, int n) {
    int count = 0;
    while (environ[count]) count++;
    char **env = calloc(count + n + 1, sizeof *env);
    int k = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strcspn(environ[i], "=");
        int replaced = 0;
        for (int j = 0; j < n; j++)
            if (strncmp(sets[j], environ[i], len) == 0 && sets[j][len] == '=') replaced = 1;
        if (!replaced) env[k++] = environ[i];
    }
    for (int j = 0; j < n; j++) env[k++] = sets[j];
    env[k] = NULL;
    return env;
}

static int is_assignment(const char *w) {
    if (!(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z'))) return 0;
    for (const char *c = w; *c; c++) {
        if (*c == '=') return 1;
        if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))) return 0;
    }
    return 0;
}

static void run(char **argv, int exit_latency) {
    int nset = 0;
    while (argv[nset] && is_assignment(argv[nset])) nset++;
    char **envp = nset ? with_env(argv, nset) : environ;
    argv += nset;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, none;
    int p[2] = {-1, -1};
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (exit_latency) {
        if (pipe2(p, O_CLOEXEC) != 0) { perror("pipe"); exit(2); }
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    long long t0 = now_ns();
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
    if (envp != environ) free(envp);
    if (rc != 0) {
        printf("-1 %d -1\n", rc << 8);
        fflush(stdout);
        return;
    }
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0) {}
    long long t1 = now_ns();
    long long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (exit_latency) {
        char buf[64] = {0};
        close(p[1]);
        ssize_t n = read(p[0], buf, sizeof buf - 1);
        close(p[0]);
        long long stamp = n > 0 ? atoll(buf) : 0;
        printf("%lld %d %lld\n", stamp > 0 ? t1 - stamp : -1, st, cpu_us);
    } else {
        printf("%lld %d %lld\n", t1 - t0, st, cpu_us);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    int exit_latency = 0;
    int i = 1;
    if (i < argc && strcmp(argv[i], "-x") == 0) { exit_latency = 1; i++; }
    while (i < argc) {
        int j = i;
        while (j < argc && strcmp(argv[j], "--") != 0) j++;
        char **cmd = calloc(j - i + 1, sizeof *cmd);
        for (int k = i; k < j; k++) cmd[k - i] = strcmp(argv[k], "---") == 0 ? "--" : argv[k];
        if (j > i) run(cmd, exit_latency);
        free(cmd);
        i = j + 1;
    }
    return 0;
}
