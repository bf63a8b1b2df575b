#!/usr/bin/env python3
"""A WebSocket client for the pods/exec and pods/attach subresources, as the conformance spec
"Pods should support remote command execution over websockets" dials them, and for the
kubelet's own /exec. The API server forwards these to the kubelet unchanged: the old
subprotocols (channel.k8s.io ... v4) the kubelet passes to the runtime, v5.channel.k8s.io
(kubectl's) it translates to the runtime's SPDY.

    ws-exec.py URL PROTOCOL [STDIN]
    env: RK_CERT and RK_KEY (client certificate and key files) or E2E_TOKEN (a bearer token);
         RK_CA (the server's CA file; without it the server is not verified)

Writes channel 1 (stdout) to stdout and channel 2 (stderr) to stderr, then
`protocol=<negotiated>` and, for v4, `status=<channel 3's JSON>` on stderr. Exit 0 when the
server switched protocols and closed the stream, 2 when it answered otherwise. With STDIN
(and `input=1` in the URL), sends it on channel 0 and then, for v5, closes channel 0.
"""
import base64
import os
import socket
import ssl
import struct
import sys
import urllib.parse


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError("connection closed mid-frame")
        out += chunk
    return out


def read_head(sock):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("connection closed before the response head")
        head += chunk
    return head.decode("latin-1")


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", read_exact(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", read_exact(sock, 8))
    mask = read_exact(sock, 4) if b1 & 0x80 else None
    payload = read_exact(sock, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return b0 & 0x0F, payload


def send_frame(sock, opcode, payload):
    # Client frames are masked (RFC 6455 5.3); a zero mask keeps the payload as it is.
    header = bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0"
    sock.sendall(header + payload)


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    protocol = sys.argv[2]
    ctx = ssl.create_default_context(cafile=os.environ.get("RK_CA"))
    if not os.environ.get("RK_CA"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if os.environ.get("RK_CERT"):
        ctx.load_cert_chain(os.environ["RK_CERT"], os.environ["RK_KEY"])
    auth = f"Authorization: Bearer {os.environ['E2E_TOKEN']}\r\n" if os.environ.get("E2E_TOKEN") else ""
    raw = socket.create_connection((url.hostname, url.port or 443), timeout=30)
    sock = ctx.wrap_socket(raw, server_hostname=url.hostname)
    key = base64.b64encode(os.urandom(16)).decode()
    target = url.path + ("?" + url.query if url.query else "")
    sock.sendall((
        f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {protocol}\r\nOrigin: http://localhost\r\n"
        f"{auth}\r\n").encode())
    head = read_head(sock)
    status = head.split("\r\n", 1)[0]
    if " 101 " not in status + " ":
        print(f"handshake refused: {head.strip()}", file=sys.stderr)
        return 2
    headers = {}
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    negotiated = headers.get("sec-websocket-protocol", "")
    text = negotiated.startswith("base64.")
    print(f"protocol={negotiated}", file=sys.stderr)
    if len(sys.argv) > 3:
        send_frame(sock, 2, b"\0" + sys.argv[3].encode())
        if negotiated.startswith("v5."):
            send_frame(sock, 2, bytes([255, 0]))
    while True:
        try:
            opcode, payload = read_frame(sock)
        except EOFError:
            break
        if opcode == 8:
            break
        if opcode == 9:
            send_frame(sock, 10, payload)
            continue
        if opcode not in (1, 2) or not payload:
            continue
        if text:
            channel, data = payload[0] - ord("0"), base64.b64decode(payload[1:])
        else:
            channel, data = payload[0], payload[1:]
        if channel == 1:
            sys.stdout.buffer.write(data)
        elif channel == 2:
            sys.stderr.buffer.write(data)
        elif channel == 3 and data:
            print(f"status={data.decode(errors='replace')}", file=sys.stderr)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
