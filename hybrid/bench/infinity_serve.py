"""Start a WebArena-Infinity app as published, from its folder (the working directory): its own server.py
run as a script with `--port 0`, except that it binds 127.0.0.1 only (as published it binds every
interface) and writes the port the system gave it, then a newline, to the file named by the one argument.

python -m hybrid.bench.infinity_serve PORT_FILE   (in the app's folder)
"""

from __future__ import annotations

import runpy
import socketserver
import sys
from pathlib import Path

SERVER = "server.py"


def main(port_file: Path) -> None:
    bind = socketserver.TCPServer.server_bind

    def server_bind(self: socketserver.TCPServer) -> None:
        host, port = self.server_address[:2]
        self.server_address = ("127.0.0.1" if host in ("", "0.0.0.0") else host, port)
        bind(self)
        port_file.write_text(f"{self.server_address[1]}\n", encoding="utf-8")

    socketserver.TCPServer.server_bind = server_bind  # type: ignore[method-assign]
    sys.argv = [SERVER, "--port", "0"]
    sys.path.insert(0, str(Path.cwd()))
    runpy.run_path(SERVER, run_name="__main__")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
