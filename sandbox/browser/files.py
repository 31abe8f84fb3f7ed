"""Files for `upload()`: read on the host from the calling kernel's work dir, and nowhere else.

The path comes from model-written code, so it is untrusted: a relative path is taken inside the work dir,
`..` is refused, an absolute path must lie inside the work dir, and no symbolic link may lead out of it
(each step of the path is opened without following links, so a link swapped in meanwhile is refused too).
"""

from __future__ import annotations

import base64
import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sandbox.browser.errors import BrowserError

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload

# Playwright hands files to a page in one message, which it limits to 50 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadRefused(BrowserError):
    """The file to upload is outside the kernel's work dir, or not a readable regular file there."""


@dataclass(frozen=True)
class Upload:
    """A file read for `upload()`: what the page receives."""

    name: str
    mime_type: str
    data: bytes = b""

    def payload(self) -> FilePayload:
        """As Playwright's `set_input_files` takes it."""
        return {"name": self.name, "mimeType": self.mime_type, "buffer": self.data}

    def for_page(self) -> dict[str, Any]:
        """As a page script builds a `File` from it."""
        return {"name": self.name, "type": self.mime_type, "base64": base64.b64encode(self.data).decode()}


def read_upload(path: str, work_dir: Path) -> Upload:
    """The file at `path` (relative to `work_dir`, or absolute inside it), read without leaving `work_dir`."""
    root = work_dir.resolve()
    given = PurePosixPath(str(path))
    if not str(path).strip():
        raise UploadRefused(
            "upload() needs a file name, such as 'report.txt' in the kernel's working directory."
        )
    if ".." in given.parts:
        raise UploadRefused(
            f"Refused to upload {path!r}: '..' may not appear in the path; upload() reads files "
            "from the kernel's working directory only."
        )
    if given.is_absolute():
        inside = _inside(Path(given), root) or _inside(Path(os.path.abspath(given)), work_dir.absolute())
        if inside is None:
            raise UploadRefused(
                f"Refused to upload {path!r}: it is outside the kernel's working directory "
                f"({root}); write or copy the file there first."
            )
        parts = inside.parts
    else:
        parts = given.parts
    return Upload(
        name=parts[-1],
        mime_type=mimetypes.guess_type(parts[-1])[0] or "application/octet-stream",
        # Opened where the host reaches it, which `root` may not be: a work dir in a namespace of its own is
        # reached through /proc/PID/root, which resolves to the host's own directory of that name.
        data=_read_beneath(work_dir, parts, path),
    )


def _inside(path: Path, root: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(path.relative_to(root))
    except ValueError:
        return None


def _read_beneath(root: Path, parts: tuple[str, ...], shown: str) -> bytes:
    """Open `parts` under `root` one step at a time, following no symbolic link."""
    if not parts:
        raise UploadRefused(f"Refused to upload {shown!r}: it is the working directory itself, not a file.")
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            step = _open_step(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, directory, shown)
            os.close(directory)
            directory = step
        handle = _open_step(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, directory, shown)
    finally:
        os.close(directory)
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_UPLOAD_BYTES:
        os.close(handle)
        if not stat.S_ISREG(info.st_mode):
            raise UploadRefused(f"Refused to upload {shown!r}: it is not a regular file.")
        raise UploadRefused(
            f"{shown!r} is {info.st_size} bytes; upload() takes files up to {MAX_UPLOAD_BYTES // 2**20} MB."
        )
    with os.fdopen(handle, "rb") as file:
        return file.read(MAX_UPLOAD_BYTES)


def _open_step(name: str, flags: int, directory: int, shown: str) -> int:
    try:
        return os.open(name, flags, dir_fd=directory)
    except FileNotFoundError:
        raise UploadRefused(
            f"There is no file {shown!r} in the kernel's working directory; write it there "
            "first (e.g. open('report.txt', 'w'))."
        ) from None
    except OSError as exc:
        if _is_link(name, directory):  # it could lead out of the working directory
            raise UploadRefused(
                f"Refused to upload {shown!r}: it goes through a symbolic link, and symbolic links "
                "are not followed (upload() reads only files inside the kernel's working "
                "directory)."
            ) from None
        raise UploadRefused(f"Refused to upload {shown!r}: {os.strerror(exc.errno or 0).lower()}.") from None


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False
