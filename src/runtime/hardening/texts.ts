/**
 * Said when the init dies of SIGSYS under a container's seccomp filter: the
 * init (a Node process) runs under the filter once it is set up,
 * where runc applies it only to the workload, so a profile whose default
 * action kills (not Docker's nor Podman's, which return an errno) can kill
 * the init first. Kept apart from oci-seccomp.ts so that the launcher, which
 * loads the compiler only for containers, can say it.
 */
export const SECCOMP_KILLED_INIT =
  "linux.seccomp killed a system call of tini-ts's init, which runs under the container's filter (runc applies it to the workload only): the profile must let the init's calls (epoll, eventfd2, futex, mmap, clone, execveat, ...) through, or fail them with an errno";
