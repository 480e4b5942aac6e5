#!/usr/bin/env python3
"""A console socket, as containerd's shim and conmon hold one for a runtime's
`create --console-socket` / `exec --console-socket`.

    console_socket.py SOCKET_PATH OUT_FILE [MARKER INPUT_HEX | --hang-up]

Listens on SOCKET_PATH (a unix stream socket, created here; prints "ready"
on stdout once it listens), accepts one connection, and receives one message
with recvmsg: it must carry exactly one descriptor in one SCM_RIGHTS control
message (conmon checks cmsg_len == CMSG_LEN(sizeof(int)), go-runc the space
of one fd). It then reads everything the terminal's other side writes, and
once that contains MARKER writes INPUT_HEX (hex bytes, e.g. "03" for ^C) to
the master, until the last slave is closed (EIO); with --hang-up it closes
the master instead once a line arrives on its stdin (a caller that hangs up). OUT_FILE gets, as JSON: the
payload name, the number of descriptors and control messages received, what
fstat says the descriptor is, and the terminal's output. A 60 s limit bounds
the whole run; the socket file is removed at the end.
"""
import array
import json
import os
import select
import socket
import stat
import sys
import time


def main():
    path, out_file = sys.argv[1], sys.argv[2]
    hang_up = sys.argv[3:] == ["--hang-up"]
    marker = sys.argv[3].encode() if len(sys.argv) > 4 else None
    data_in = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b""
    result = {"name": None, "fds": 0, "cmsgs": 0, "is_chr": False, "output": "", "error": None}
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print("ready", flush=True)
    end = time.monotonic() + 60
    try:
        srv.settimeout(60)
        conn, _ = srv.accept()
        fds = array.array("i")
        msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(8 * fds.itemsize))
        result["name"] = msg.decode("utf-8", "replace")
        result["cmsgs"] = len(ancdata)
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        result["fds"] = len(fds)
        conn.close()
        if len(fds) == 0:
            raise RuntimeError("no descriptor received")
        master = fds[0]
        for extra in fds[1:]:
            os.close(extra)
        result["is_chr"] = stat.S_ISCHR(os.fstat(master).st_mode)
        if hang_up:
            sys.stdin.readline()
            end = 0
        written = marker is None
        chunks = []
        while time.monotonic() < end:
            if not written and marker in b"".join(chunks).replace(b"\r", b""):
                os.write(master, data_in)
                written = True
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break  # EIO: every slave is closed, the workload is gone
            if not chunk:
                break
            chunks.append(chunk)
        result["output"] = b"".join(chunks).decode("utf-8", "replace")
        os.close(master)
    except Exception as e:  # reported to the test, which fails on it
        result["error"] = repr(e)
    finally:
        srv.close()
        try:
            os.unlink(path)
        except OSError:
            pass
        with open(out_file, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
