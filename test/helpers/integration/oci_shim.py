#!/usr/bin/env python3
"""What a container engine's shim does around a runtime: become a child
subreaper, run `RUNTIME ... create --pid-file F ID`, then `start ID`, and wait
for the container's process (re-parented here when create exits). Prints one
JSON line: the create and start exit codes and the container process's exit
status (the code, or 128+N for a signal), as containerd reports it.

usage: oci_shim.py RUNTIME ROOT BUNDLE ID [SIGNAL_AFTER_START]
"""
import ctypes, json, os, signal, subprocess, sys, time

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl failed")
runtime, root, bundle, cid = sys.argv[1:5]
sig = sys.argv[5] if len(sys.argv) > 5 else None
pidfile = os.path.join(os.path.dirname(os.path.abspath(root)), cid + ".pid")
os.makedirs(root, exist_ok=True)
out = {}
c = subprocess.run([runtime, "--root", root, "create", "--bundle", bundle, "--pid-file", pidfile, cid])
out["create"] = c.returncode
if c.returncode == 0:
    raw = open(pidfile).read()
    out["pidfile"] = raw
    pid = int(raw)
    s = subprocess.run([runtime, "--root", root, "start", cid])
    out["start"] = s.returncode
    if sig:
        time.sleep(0.3)
        k = subprocess.run([runtime, "--root", root, "kill", cid, sig])
        out["kill"] = k.returncode
    while True:
        wpid, status = os.waitpid(-1, 0)
        if wpid == pid:
            break
    out["status"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
print(json.dumps(out))
