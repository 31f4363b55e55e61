"""Small network programs that the scenario tests and the benchmarks run as
`python3 -c PROGRAM ARGS...` (often inside a network namespace): one text for both.
"""

# argv: PORT TEXT. Listens on every address at PORT and answers each connection with TEXT
# (the name of the node it runs on, say), then closes it.
ANSWERING_LISTENER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[2].encode())
    c.close()
"""
